// Helpers shared by the Node integration tests: start the real `herald` binary on 127.0.0.1:0,
// learn its port from the first stdout line, and wait on conditions (a message, a close) with a
// hard timeout per step that names the step. The binary comes from $HERALD_BIN.
import WebSocket from 'ws';
import { spawnHerald, within } from '../../support/herald_process.mjs';

export const MIB = 1024 * 1024;

export { within };

// Starts `herald serve --listen 127.0.0.1:0 [--echo] ...args` (listen: another HOST:PORT, e.g.
// the port of a server this one replaces; dataDir: durable history there instead of --memory).
// The returned object's stop() kills exactly this child (by its pid), never anything by name;
// kill() sends SIGKILL.
export async function startHerald(args = [], { echo = true, listen = '127.0.0.1:0',
  dataDir = null } = {}) {
  const bin = process.env.HERALD_BIN;
  if (!bin) {
    throw new Error('HERALD_BIN is not set: it must be the path of the herald binary');
  }
  // --memory: these tests do not need durable history, and servers side by side must not share
  // a data directory.
  const argv = ['serve', '--listen', listen,
    ...(dataDir ? ['--data-dir', dataDir] : ['--memory']), ...(echo ? ['--echo'] : []), ...args];
  const server = await spawnHerald(bin, argv);
  if (server.host !== '127.0.0.1') {
    await server.kill();
    throw new Error(`step 'start herald': it listens on ${server.host}, not 127.0.0.1`);
  }
  const wsScheme = server.scheme === 'https' ? 'wss' : 'ws';
  return { ...server, url: (path) => `${wsScheme}://127.0.0.1:${server.port}${path}` };
}

// A ws client with an inbox, so that tests can wait for "the next message" in order.
export class Client {
  constructor(name, ws) {
    this.name = name;
    this.ws = ws;
    this.inbox = [];
    this.waiters = [];
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    this.closeInfo = null;
    this.closed.then((c) => {
      this.closeInfo = c;
      for (const w of this.waiters.splice(0)) {
        w.reject(new Error(`${name}: connection closed (code ${c.code} ${c.reason}) ` +
          'while waiting for a message'));
      }
    });
    ws.on('error', () => {}); // surfaced through 'close'
    ws.on('message', (data, isBinary) => {
      const msg = isBinary ? Buffer.from(data) : data.toString('utf8');
      const w = this.waiters.shift();
      if (w) {
        w.resolve(msg);
      } else {
        this.inbox.push(msg);
      }
    });
  }

  // Connects `name` to `url`. opts are passed to the ws constructor.
  static async connect(name, url, opts = {}) {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * MIB, ...opts });
    const client = new Client(name, ws);
    await within(new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('unexpected-response', (req, res) =>
        reject(new Error(`${name}: handshake to ${url} answered HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    }), 5000, `${name} connects to ${url}`);
    return client;
  }

  // The next message (string for text, Buffer for binary).
  next(what, ms = 5000) {
    if (this.inbox.length > 0) {
      return Promise.resolve(this.inbox.shift());
    }
    if (this.closeInfo) {
      return Promise.reject(new Error(`step '${what}': ${this.name} is closed ` +
        `(code ${this.closeInfo.code})`));
    }
    const p = new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
    return within(p, ms, what).catch((e) => {
      throw new Error(e.message.startsWith('step') ? e.message : `step '${what}': ${e.message}`);
    });
  }

  send(data, opts = {}) {
    return new Promise((resolve, reject) => {
      this.ws.send(data, opts, (err) => (err ? reject(err) : resolve()));
    });
  }

  async close(code = 1000) {
    this.ws.close(code);
    return within(this.closed, 6000, `${this.name} close handshake`);
  }
}

// A short, printable description of a message for assertion failures.
export function describe(msg) {
  if (Buffer.isBuffer(msg)) {
    return `binary[${msg.length}] ${msg.subarray(0, 16).toString('hex')}...`;
  }
  if (typeof msg === 'string') {
    return `text[${Buffer.byteLength(msg)} bytes] ${JSON.stringify(msg.slice(0, 40))}`;
  }
  return String(msg);
}

// Fails with type, length and first differing offset when `got` is not `expected`.
export function assertSameMessage(got, expected, what) {
  const kind = (m) => (Buffer.isBuffer(m) ? 'binary' : typeof m === 'string' ? 'text' : typeof m);
  if (kind(got) !== kind(expected)) {
    throw new Error(`step '${what}': expected a ${kind(expected)} message, got ${describe(got)}`);
  }
  const a = Buffer.isBuffer(got) ? got : Buffer.from(got);
  const b = Buffer.isBuffer(expected) ? expected : Buffer.from(expected);
  if (!a.equals(b)) {
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) {
      i++;
    }
    throw new Error(`step '${what}': expected ${describe(expected)}, got ${describe(got)} ` +
      `(lengths ${b.length} vs ${a.length}, first difference at byte ${i})`);
  }
}

// A text message whose UTF-8 encoding is exactly n bytes, with 1- to 4-byte characters.
export function makeText(n) {
  const unit = 'aé€😀'; // 10 bytes
  return unit.repeat(Math.floor(n / 10)) + 'x'.repeat(n % 10);
}

// Deterministic binary: a xorshift stream, half full-range bytes and half from 16 values, so
// deflate keeps it under the size it started with.
export function makeBinary(n) {
  const buf = Buffer.alloc(n);
  let x = (n * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    buf[i] = i < n / 2 ? x & 0xff : 0x30 + (x & 0x0f);
  }
  return buf;
}
