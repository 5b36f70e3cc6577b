// Transports: how the client's frames reach the server, which transports a client tries and where,
// and the rule for falling back from one to the next. The transports themselves are websocket.js,
// sse.js (Server-Sent Events, bidirectional mode) and poll.js (long-polling).
//
// A transport factory is `{name, create(context)}`; create() returns a transport for ONE
// connection attempt (context: {clock}, the client's timers, for a transport that waits), an
// object with:
//   open(first)       start connecting; afterwards the transport calls exactly one of
//                     onopen (then, later, onclose once) or onclose. `first` is the connect
//                     command's line when the transport has `opensWithFrame` (below), else absent;
//   opensWithFrame    optional, true: the connect command travels in the request that opens the
//                     transport (an HTTP transport has nothing to send it on before), and onopen
//                     means the server answered it. Otherwise the client sends connect after
//                     onopen;
//   send(text)        send one frame: one or more JSON lines separated by '\n';
//   close()           close from our side; the client ignores the transport's callbacks after;
//   onopen()          set by the client: the transport can carry frames;
//   onmessage(text)   set by the client: one received frame (maybe several '\n'-separated lines;
//                     '' is a sign of life with nothing in it);
//   onclose({code, reason})  set by the client: the transport is gone (or never opened).

import { pollTransport } from './poll.js';
import { sseTransport } from './sse.js';
import { webSocketTransport } from './websocket.js';

// The fallback rule over a list of factories: while no transport has ever opened, an attempt that
// fails before opening moves on to the next factory (immediately, without a backoff delay);
// after the last one the list starts over, after a backoff delay. Once a transport has opened,
// the client stays on it for good: a network that let it through once is expected to again, and
// switching transports in the middle of an outage would only hide the outage.
export class TransportChain {
  constructor(factories) {
    if (!Array.isArray(factories) || factories.length === 0) {
      throw new TypeError('transports must be a non-empty array');
    }
    for (const f of factories) {
      if (!f || typeof f.create !== 'function' || typeof f.name !== 'string') {
        throw new TypeError('a transport factory is an object {name: string, create(): transport}');
      }
    }
    this._list = factories;
    this._index = 0;
    this._locked = false;
  }

  // The factory the next attempt uses.
  get current() {
    return this._list[this._index];
  }

  // Its place in the list (the client picks the same transport on each of its servers).
  get index() {
    return this._index;
  }

  // Whether a transport has opened, so the chain no longer moves.
  get locked() {
    return this._locked;
  }

  // The current transport opened: stay on it.
  opened() {
    this._locked = true;
  }

  // The current transport failed before it opened. Returns true if the chain moved to another
  // factory that should be tried at once; false if the caller should back off first (the chain
  // is locked, or it wrapped around to the first factory).
  failed() {
    if (this._locked) {
      return false;
    }
    this._index = (this._index + 1) % this._list.length;
    return this._index !== 0;
  }
}

// The transports the client knows by name, in the default fallback order, with their endpoints.
export const DEFAULT_TRANSPORTS = Object.freeze(['websocket', 'sse', 'poll']);
const PATHS = Object.freeze({
  websocket: '/connection/websocket',
  sse: '/connection/sse',
  poll: '/connection/poll',
});
const ENDPOINT_PATH = /\/connection\/(websocket|sse|poll)\/?$/;

// The endpoint of transport `name` ('websocket' | 'sse' | 'poll') on the server that `url` names.
// `url` is the server's base URL (http(s)://host[:port][/prefix], a proxy's path prefix kept), or
// the endpoint of any transport (ws://host/connection/websocket, https://host/connection/sse, ...);
// in a browser it may be relative to the page. The endpoint is the same host and prefix with the
// transport's path, ws(s) for WebSocket and http(s) for the others. A WebSocket URL with a path of
// its own is used as it is for WebSocket, and the others are then at the host's root: give them
// their own URLs (`transports: [{transport: 'sse', url}]`) when they are elsewhere.
export function endpointUrl(url, name) {
  if (!Object.hasOwn(PATHS, name)) {
    throw new TypeError(`unknown transport '${name}' (known: ${DEFAULT_TRANSPORTS.join(', ')})`);
  }
  let u;
  try {
    u = new URL(url, globalThis.location?.href);
  } catch {
    throw new TypeError(`the server URL is not a URL: ${url}`);
  }
  const ws = u.protocol === 'ws:' || u.protocol === 'wss:';
  if (!ws && u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new TypeError(`the server URL must be ws(s):// or http(s)://, got ${url}`);
  }
  const secure = u.protocol === 'wss:' || u.protocol === 'https:';
  const m = ENDPOINT_PATH.exec(u.pathname);
  if ((ws === (name === 'websocket')) && (m ? m[1] === name : ws)) {
    return u.href; // already this transport's endpoint
  }
  let prefix = '';
  if (m) {
    prefix = u.pathname.slice(0, m.index);
  } else if (!ws) {
    prefix = u.pathname.replace(/\/+$/, '');
  }
  const scheme = name === 'websocket' ? (secure ? 'wss:' : 'ws:') : (secure ? 'https:' : 'http:');
  return `${scheme}//${u.host}${prefix}${PATHS[name]}`;
}

// Whether this environment (or the options) can run transport `name`.
function available(name, impl) {
  switch (name) {
    case 'websocket':
      return typeof impl.websocket === 'function';
    case 'sse':
      return typeof impl.eventsource === 'function' && typeof impl.fetch === 'function';
    default:
      return typeof impl.fetch === 'function';
  }
}

function factoryOf(name, at, impl) {
  switch (name) {
    case 'websocket':
      return webSocketTransport(at, impl.websocket);
    case 'sse':
      return sseTransport(at, { EventSource: impl.eventsource, fetch: impl.fetch });
    default:
      return pollTransport(at, { fetch: impl.fetch });
  }
}

// The client's list of transport factories, from its `url` and options (client.js DEFAULTS):
// `transports` holds names ('websocket', 'sse', 'poll'), objects {transport: name, url?} (an
// endpoint of its own) and factories {name, create()}, in fallback order. Without `transports`
// the list is DEFAULT_TRANSPORTS minus those this environment cannot run (Node 20 has no
// WebSocket and no EventSource unless the options pass them); a transport named explicitly must
// be able to run, or this throws a TypeError that says what to pass.
export function buildTransports(url, options) {
  const impl = {
    websocket: options.websocket ?? globalThis.WebSocket,
    eventsource: options.eventsource ?? globalThis.EventSource,
    fetch: options.fetch ?? globalThis.fetch,
  };
  const explicit = options.transports !== undefined && options.transports !== null;
  const list = explicit ? options.transports : DEFAULT_TRANSPORTS;
  if (!Array.isArray(list) || list.length === 0) {
    throw new TypeError('transports must be a non-empty array');
  }
  const out = [];
  for (const entry of list) {
    if (entry && typeof entry === 'object' && typeof entry.create === 'function') {
      out.push(entry);
      continue;
    }
    const spec = typeof entry === 'string' ? { transport: entry } : entry;
    const name = spec?.transport;
    if (typeof name !== 'string' || !Object.hasOwn(PATHS, name)) {
      throw new TypeError(`unknown transport ${JSON.stringify(entry)}: use 'websocket', 'sse', ` +
        "'poll', {transport, url} or a factory {name, create()}");
    }
    if (!explicit && !available(name, impl)) {
      continue;
    }
    let at = spec.url;
    if (at === undefined || at === null) {
      if (url === null || url === undefined) {
        throw new TypeError(`the ${name} transport needs a URL: new Herald(url, ...) or ` +
          `{transport: '${name}', url}`);
      }
      at = endpointUrl(url, name);
    }
    out.push(factoryOf(name, at, impl));
  }
  if (out.length === 0) {
    throw new TypeError('no transport can run here: no WebSocket, EventSource or fetch; pass ' +
      "them, e.g. new Herald(url, {websocket: WebSocket}) with WebSocket from 'ws'");
  }
  return out;
}
