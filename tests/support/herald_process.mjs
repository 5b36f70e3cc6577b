// The real `herald` binary as a child process, for every JavaScript test suite (the SDK's in
// clients/js, the Node integration tests, the Pusher suite, the browser tests): started with the
// given arguments, ready once its stdout said where it listens, stopped by its pid (never by
// name), and killed when the test process exits with it still running. Node built-ins only:
// each suite has its own node_modules, and all of them import this file by its path.
import { spawn } from 'node:child_process';

const LISTEN_LINE = /^herald listening on (https?):\/\/([0-9.]+|\[[0-9a-f:]+\]):([0-9]+)$/;
const TCP_LINE = /^herald tcp on (tcp|tls):\/\/([0-9.]+|\[[0-9a-f:]+\]):([0-9]+)$/;

const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    child.kill('SIGKILL');
  }
});

// Rejects with "step '<what>': timed out after <ms> ms" unless `promise` settles first.
export function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`step '${what}': timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Runs `bin ...argv` (argv starts with `serve`; env: variables added to ours) and resolves once its first stdout line, and its
// second when argv has --tcp-listen, said where it listens. Rejects (after killing it) when it
// exits first or says something else. What it resolves to:
//   port, host, scheme ('http' | 'https'), tcpPort and tcpScheme (0 and '' without a TCP port),
//   pid; stderr(): its last 8 KiB; alive(); exited: a promise of {code, signal};
//   signal(sig); kill(): SIGKILL, resolves once it is gone; stop(graceMs): SIGTERM (a drain),
//   SIGKILL after graceMs, resolves to {code, signal}.
export async function spawnHerald(bin, argv, { startMs = 15000, env = {} } = {}) {
  const child = spawn(bin, argv, { stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env } });
  live.add(child);
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d.toString()).slice(-8192);
  });
  let exit = null;
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    live.delete(child);
    exit = { code, signal };
    resolve(exit);
  }));
  const wantLines = argv.includes('--tcp-listen') ? 2 : 1;
  const lines = new Promise((resolve, reject) => {
    let out = '';
    const onData = (d) => {
      out += d.toString();
      const got = out.split('\n');
      if (got.length > wantLines) {
        child.stdout.off('data', onData);
        child.stdout.resume(); // keep draining later output
        resolve(got.slice(0, wantLines));
      }
    };
    child.stdout.on('data', onData);
    child.on('error', reject);
    exited.then(({ code, signal }) => reject(new Error(
      `herald exited (code ${code}, signal ${signal}) before it said where it listens; ` +
      `stdout: ${JSON.stringify(out)}; stderr: ${stderr}`)));
  });
  let said;
  try {
    said = await within(lines, startMs, `start herald ${argv.join(' ')}`);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const m = LISTEN_LINE.exec(said[0]);
  const tcp = wantLines > 1 ? TCP_LINE.exec(said[1]) : null;
  if (!m || m[3] === '0' || (wantLines > 1 && !tcp)) {
    child.kill('SIGKILL');
    throw new Error("expected 'herald listening on http(s)://HOST:PORT'" +
      (wantLines > 1 ? " and 'herald tcp on tcp(tls)://HOST:PORT'" : '') +
      `, got ${JSON.stringify(said)}`);
  }
  return {
    port: Number(m[3]),
    host: m[2],
    scheme: m[1],
    tcpPort: tcp ? Number(tcp[3]) : 0,
    tcpScheme: tcp ? tcp[1] : '',
    pid: child.pid,
    stderr: () => stderr,
    alive: () => exit === null,
    exited,
    signal: (sig) => child.kill(sig),
    // SIGKILL: what a crash or an OOM kill does.
    async kill() {
      if (exit === null) {
        child.kill('SIGKILL');
      }
      return within(exited, 10000, `herald pid ${child.pid} dies on SIGKILL`);
    },
    async stop(graceMs = 10000) {
      if (exit !== null) {
        return exit;
      }
      child.kill('SIGCONT'); // in case a test left it stopped
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const e = await exited;
      clearTimeout(timer);
      return e;
    },
  };
}
