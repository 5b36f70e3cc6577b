// A real redis-server (Debian's, installed by scripts/deps --test) as a child process, for the
// JavaScript suites that run several Herald nodes: on a free loopback port, without persistence,
// ready once it answers PING, stopped by its pid (never by name), and killed when the test
// process exits with it still running. Node built-ins only (see herald_process.mjs).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { within } from './herald_process.mjs';

const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    child.kill('SIGKILL');
  }
});

// Whether redis-server is on the PATH.
export function redisAvailable() {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function ping(port) {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    let got = '';
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      got += d.toString();
      if (got.includes('\r\n')) {
        done(got.startsWith('+PONG'));
      }
    });
  });
}

// Starts redis-server; resolves to {port, url, pid, stop()} once it answers PING (10 s at most).
export async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'herald-redis-js-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
    '--save', '', '--appendonly', 'no', '--loglevel', 'warning', '--daemonize', 'no'],
  { stdio: 'ignore' });
  live.add(child);
  const exited = new Promise((resolve) => child.on('exit', () => {
    live.delete(child);
    resolve();
  }));
  const stop = async () => {
    if (live.has(child)) {
      child.kill('SIGKILL');
      await within(exited, 10000, `redis-server pid ${child.pid} exits`);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10000;
  while (!(await ping(port))) {
    if (Date.now() > deadline || !live.has(child)) {
      await stop();
      throw new Error(`redis-server on port ${port} did not answer PING within 10 s`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { port, url: `redis://127.0.0.1:${port}`, pid: child.pid, stop };
}
