// The WebSocket transport (docs/PROTOCOL.md, "Transports and framing"): GET
// /connection/websocket upgraded, text frames both ways, each frame one or more protocol lines.
// The transport contract it fulfils is written in transports.js. The server's keepalive pings are
// WebSocket ping frames, which the WebSocket implementation answers by itself and never shows.

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
