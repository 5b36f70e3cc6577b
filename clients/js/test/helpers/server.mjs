// Integration test helpers: start the real `herald` binary (on 127.0.0.1:0, or on a given port to
// restart it in place), read its port from the first stdout line, stop it by its pid, call the
// server API, mint HS256 tokens, wait on conditions (an event, a count) with a timeout that names
// the step, and the SDK options that pin a client to one transport. No bare sleeps: every wait
// ends on its condition or fails.
//
// The binary is $HERALD_BIN, else the first of build/{release,ci,debug}/apps/herald/herald. When
// neither exists, integrationOptions() skips the integration tests (run.sh always sets
// HERALD_BIN, so ctest never skips).
import { createHmac } from 'node:crypto';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import { spawnHerald, within } from '../../../../tests/support/herald_process.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function heraldBin() {
  if (process.env.HERALD_BIN) {
    if (!executable(process.env.HERALD_BIN)) {
      throw new Error(`HERALD_BIN=${process.env.HERALD_BIN} is not an executable file`);
    }
    return process.env.HERALD_BIN;
  }
  for (const preset of ['release', 'ci', 'debug']) {
    const path = join(repo, 'build', preset, 'apps/herald/herald');
    if (executable(path)) {
      return path;
    }
  }
  return null;
}

// The transports every scenario runs over.
export const TRANSPORTS = Object.freeze(['websocket', 'sse', 'poll']);

// Herald options for Node (npm `ws` and `eventsource`; fetch is Node's own) that make the client
// use `transport` only, or, without one, the default fallback list.
export function over(transport = null) {
  return { websocket: WebSocket, eventsource: EventSource,
    ...(transport ? { transports: [transport] } : {}) };
}

// Options for node:test's test(): skipped, with the reason, when there is no binary.
export function integrationOptions(extra = {}) {
  const bin = heraldBin();
  return bin ? { timeout: 30000, ...extra }
    : { skip: 'no herald binary: set HERALD_BIN or build it (cmake --build --preset release)' };
}

export { within };

// The next `event` of `emitter` whose payload satisfies `pred`.
export function nextEvent(emitter, event, pred = () => true, ms = 5000, what = event) {
  let off;
  const p = new Promise((resolvePromise) => {
    off = emitter.on(event, (e) => {
      if (pred(e)) {
        off();
        resolvePromise(e);
      }
    });
  });
  return within(p, ms, what).finally(() => off());
}

// Collects a subscription's publications; until(n) waits for the n-th.
export class Inbox {
  constructor(sub) {
    this.pubs = [];
    this._waiters = [];
    sub.on('publication', (p) => {
      this.pubs.push(p);
      this._waiters = this._waiters.filter((w) => !w());
    });
  }

  until(n, ms, what) {
    if (this.pubs.length >= n) {
      return Promise.resolve(this.pubs);
    }
    const p = new Promise((resolvePromise) => {
      this._waiters.push(() => this.pubs.length >= n && (resolvePromise(this.pubs), true));
    });
    return within(p, ms, `${what} (have ${this.pubs.length} of ${n})`);
  }
}

export function tempDir(prefix = 'herald-js-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    path: dir,
    file: (name, text) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// Starts `herald serve`. port 0: the kernel picks one. dataDir: durable history there, else
// --memory. Resolves once the first stdout line gave the port.
export async function startHerald({ args = [], port = 0, dataDir = null } = {}) {
  const argv = ['serve', '--listen', `127.0.0.1:${port}`, '--threads', '2',
    ...(dataDir ? ['--data-dir', dataDir] : ['--memory']), ...args];
  const server = await spawnHerald(heraldBin(), argv);
  return {
    ...server,
    dataDir,
    url: `http://127.0.0.1:${server.port}`, // the SDK derives every transport's endpoint from it
    wsUrl: `ws://127.0.0.1:${server.port}/connection/websocket`,
  };
}

// POST /api/<method> on the server (loopback: no key needed). Resolves to the `result`.
export async function api(port, method, params) {
  const res = await fetch(`http://127.0.0.1:${port}/api/${method}`, {
    method: 'POST', body: JSON.stringify(params), headers: { 'Content-Type': 'application/json' },
  });
  const body = await res.json();
  if (!res.ok || body.error) {
    throw new Error(`api ${method}: HTTP ${res.status} ${JSON.stringify(body)}`);
  }
  return body.result;
}

// A compact HS256 JWT, as a backend would sign it (docs/PROTOCOL.md, "Connection token").
export function mintToken(secret, claims) {
  const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

// A client the test `t` disconnects when it ends, pass or fail (a client left reconnecting would
// keep the test process alive).
export function disconnectAfter(t, client) {
  t.after(() => client.disconnect());
  return client;
}
