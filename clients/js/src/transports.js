// Transports: how the client's frames reach the server, and the rule for falling back from one
// transport to the next.
//
// A transport factory is `{name, create()}`; create() returns a transport for ONE connection
// attempt, an object with:
//   open()            start connecting; afterwards the transport calls exactly one of
//                     onopen (then, later, onclose once) or onclose;
//   send(text)        send one frame: one or more JSON lines separated by '\n';
//   close()           close from our side; the client ignores the transport's callbacks after;
//   onopen()          set by the client: the transport can carry frames;
//   onmessage(text)   set by the client: one received frame (maybe several '\n'-separated lines);
//   onclose({code, reason})  set by the client: the transport is gone (or never opened).
//
// WebSocket is the only transport today. The server's SSE (/connection/sse) and long-polling
// (/connection/poll) endpoints do not exist yet and their wire format is not specified, so there
// is no transport for them here; once they exist they are factories like webSocketTransport().

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

// The factory of WebSocket transports to `url` (ws:// or wss://, usually ending in
// /connection/websocket). WebSocketImpl: a constructor with the browser WebSocket interface:
// the browser's own, Node 22's global one, or `WebSocket` from the npm package `ws` in Node 20.
export function webSocketTransport(url, WebSocketImpl = globalThis.WebSocket) {
  if (typeof url !== 'string' || url === '') {
    throw new TypeError('the WebSocket transport needs a ws:// or wss:// URL');
  }
  if (typeof WebSocketImpl !== 'function') {
    throw new TypeError('no WebSocket constructor: this environment has no global WebSocket ' +
      "(Node 20); pass one, e.g. new Herald(url, {websocket: WebSocket}) with WebSocket from 'ws'");
  }
  return { name: 'websocket', create: () => new WebSocketTransport(url, WebSocketImpl) };
}

const OPEN = 1; // WebSocket.OPEN
const ABNORMAL_CLOSURE = 1006; // RFC 6455: closed without a close frame

// One WebSocket connection attempt. Thread: the page's or the process's event loop.
export class WebSocketTransport {
  constructor(url, WebSocketImpl) {
    this.name = 'websocket';
    this._url = url;
    this._Impl = WebSocketImpl;
    this._ws = null;
    this._closed = false;
    this.onopen = () => {};
    this.onmessage = () => {};
    this.onclose = () => {};
  }

  open() {
    let ws;
    try {
      ws = new this._Impl(this._url);
    } catch (err) {
      // A malformed URL throws synchronously; report it like any refused connection, but not
      // from inside open(): callers expect callbacks to come later.
      queueMicrotask(() => this._finish(ABNORMAL_CLOSURE, String(err?.message ?? err)));
      return;
    }
    this._ws = ws;
    ws.onopen = () => {
      if (!this._closed) {
        this.onopen();
      }
    };
    ws.onmessage = (event) => {
      if (this._closed) {
        return;
      }
      // Protocol v1 is text frames only; a binary frame is dropped (the server never sends one).
      if (typeof event.data === 'string') {
        this.onmessage(event.data);
      }
    };
    ws.onerror = () => {}; // the close event that follows says what happened
    ws.onclose = (event) => this._finish(event.code || ABNORMAL_CLOSURE, event.reason || '');
  }

  send(text) {
    if (!this._closed && this._ws && this._ws.readyState === OPEN) {
      this._ws.send(text);
    }
  }

  close() {
    if (this._closed) {
      return;
    }
    this._closed = true;
    const ws = this._ws;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      try {
        ws.close(1000); // browsers accept only 1000 and 3000-4999 from scripts
      } catch {
        // already closing or closed
      }
    }
  }

  _finish(code, reason) {
    if (this._closed) {
      return;
    }
    this._closed = true;
    this.onclose({ code, reason });
  }
}
