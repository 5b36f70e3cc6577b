// A real redis-server (Debian's) for the Pusher tests over several nodes: started on a free
// loopback port without persistence, stopped by its pid after the test file's servers (through
// the harness's onCleanup).
import { spawn } from 'node:child_process';
import net from 'node:net';
import { onCleanup, within } from './harness.mjs';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// redis-server answers PING on `port`.
async function redisReady(port) {
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.write('PING\r\n'));
      s.on('data', (d) => { s.destroy(); resolve(d.toString().startsWith('+PONG')); });
      s.on('error', () => resolve(false));
    });
    if (ok) {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server on ${port} did not answer PING within 10 s`);
}

// Starts one; resolves to its URL once it answers.
export async function startRedis() {
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
    '--appendonly', 'no'], { stdio: 'ignore' });
  const redisExited = new Promise((resolve) => redis.on('exit', resolve));
  onCleanup(async () => {  // after the nodes are stopped
    if (redis.exitCode === null) {
      redis.kill('SIGKILL');
      await within(redisExited, 10000, 'redis-server exits');
    }
  });
  await redisReady(port);
  return `redis://127.0.0.1:${port}`;
}
