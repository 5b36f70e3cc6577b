// Helpers for the Pusher suite: start the real `herald` binary ($HERALD_BIN) on 127.0.0.1:0 with
// Pusher apps, learn its port from the first stdout line, and wait on conditions (an event, a
// state) with a hard timeout per step that names the step. No sleeps.
import { after } from 'node:test';
import Pusher from 'pusher-js';
import PusherServer from 'pusher';
import { spawnHerald, within } from '../../support/herald_process.mjs';

export const APP = { id: '1', key: 'key-one', secret: 'secret-one-1234' };

export { within };

// What a test file started, undone after its last test: clients disconnected, servers stopped,
// then whatever onCleanup() was given (newest first).
const started = { clients: [], servers: [], other: [] };
after(async () => {
  for (const c of started.clients) {
    c.disconnect();
  }
  for (const s of started.servers) {
    await s.stop().catch(() => {});
  }
  for (const f of started.other.reverse()) {
    await f();
  }
});

// startHerald(args, opts), stopped after the file's tests.
export async function server(args = [], opts = {}) {
  const s = await startHerald(args, opts);
  started.servers.push(s);
  return s;
}

// A pusher-js client, disconnected after the file's tests.
export function track(p) {
  started.clients.push(p);
  return p;
}

export function onCleanup(fn) {
  started.other.push(fn);
}

// Starts `herald serve --memory --listen 127.0.0.1:0 --pusher-app 1:key-one:secret...` (plus
// args). stop() kills exactly this child by its pid.
export async function startHerald(args = [], { env = {} } = {}) {
  const bin = process.env.HERALD_BIN;
  if (!bin) {
    throw new Error('HERALD_BIN is not set');
  }
  const argv = ['serve', '--listen', '127.0.0.1:0', '--memory', '--threads', '2',
    '--pusher-app', `${APP.id}:${APP.key}:${APP.secret}`, ...args];
  return spawnHerald(bin, argv, { env });
}

// The `pusher` server library pointed at the server (secret: another one to forge requests).
export function restClient(port, { secret = APP.secret } = {}) {
  return new PusherServer({ appId: APP.id, key: APP.key, secret, host: '127.0.0.1',
    port: String(port), useTLS: false });
}

// A pusher-js client whose channel and user authorization are signed by the `pusher` server
// library (authorizeChannel / authenticateUser), as a backend's auth endpoint would.
// transports: pusher-js's enabledTransports (null: its default strategy; its HTTP fallbacks, xhr_streaming and xhr_polling,
// go to httpHost:httpPort, here the same server; wsPort may point elsewhere to block WebSocket).
export function client(port, { user = null, info = {}, key = APP.key, signer = null,
  transports = ['ws'], wsPort = port } = {}) {
  const rest = signer ?? restClient(port);
  const p = new Pusher(key, {
    wsHost: '127.0.0.1', wsPort, forceTLS: false, httpHost: '127.0.0.1', httpPort: port,
    ...(transports ? { enabledTransports: transports } : {}),
    cluster: 'local', disableStats: true,
    channelAuthorization: {
      customHandler: (params, cb) => {
        const presence = params.channelName.startsWith('presence-');
        cb(null, rest.authorizeChannel(params.socketId, params.channelName,
          presence ? { user_id: user, user_info: info } : undefined));
      },
    },
    userAuthentication: {
      customHandler: (params, cb) => cb(null, rest.authenticateUser(params.socketId,
        { id: user, user_info: info })),
    },
  });
  return p;
}

export function connected(p) {
  return within(new Promise((resolve, reject) => {
    if (p.connection.state === 'connected') {
      resolve(p.connection.socket_id);
      return;
    }
    p.connection.bind('connected', () => resolve(p.connection.socket_id));
    p.connection.bind('failed', () => reject(new Error('connection failed')));
  }), 5000, 'connected');
}

// Resolves with the first `event` the bindable (channel, connection, user) emits.
export function next(bindable, event, what = event) {
  return within(new Promise((resolve) => {
    const handler = (data, meta) => {
      bindable.unbind(event, handler);
      resolve({ data, meta });
    };
    bindable.bind(event, handler);
  }), 5000, what);
}

export async function subscribed(p, name) {
  const ch = p.subscribe(name);
  const ok = next(ch, 'pusher:subscription_succeeded', `subscribe ${name}`);
  const { data } = await ok;
  return { ch, data };
}

// A signed request of the Pusher REST API by hand (for what the library will not send).
export async function signedFetch(port, method, path, { body, params = {}, timestamp, tamper } = {}) {
  const crypto = await import('node:crypto');
  const q = { auth_key: APP.key, auth_timestamp: String(timestamp ?? Math.floor(Date.now() / 1000)),
    auth_version: '1.0', ...params };
  if (body !== undefined) {
    q.body_md5 = crypto.createHash('md5').update(body).digest('hex');
  }
  const sorted = Object.keys(q).sort().map((k) => `${k}=${q[k]}`).join('&');
  const sig = crypto.createHmac('sha256', APP.secret).update(`${method}\n${path}\n${sorted}`)
    .digest('hex');
  const sent = tamper ? tamper(body) : body;
  const res = await fetch(`http://127.0.0.1:${port}${path}?${sorted}&auth_signature=${sig}`,
    { method, body: sent, headers: sent ? { 'content-type': 'application/json' } : {} });
  return { status: res.status, body: await res.text() };
}
