// The Server-Sent Events transport, bidirectional mode (docs/PROTOCOL.md, "Server-Sent Events"):
// for networks that pass a streaming HTTP response but not a WebSocket.
//   * open: `GET <url>?connect=<the connect command>` with an EventSource; each message event's
//     data is one or more protocol lines (a frame, split on '\n' by the connection);
//   * the session id comes in the connect result; every later frame is
//     `POST <url>?session=S` with the lines as the body (204; 404 means the session is gone);
//   * the server's keepalive is a comment line, which EventSource never shows: the SDK's own
//     ping command after `ping` seconds of silence (connection.js) tells silence from death.
// EventSource reconnects by itself after an error, which here would open a new session behind the
// SDK's back (no resubscribe, no recovery, a session the SDK does not know): the transport closes
// it at the first error and reports the connection lost, and the client's reconnect logic takes
// over. The transport contract is in transports.js.

import {
  ABNORMAL_CLOSURE, CommandPoster, describeFailure, plainFetch, sessionOf, withQuery,
} from './http.js';

// The factory of SSE transports to `url` (http:// or https://, usually ending in
// /connection/sse). EventSource: a constructor with the browser's EventSource interface (the
// browser's own, or `EventSource` from npm `eventsource` in Node); fetch: for the POSTs.
export function sseTransport(url, { EventSource = globalThis.EventSource,
  fetch = globalThis.fetch } = {}) {
  if (typeof url !== 'string' || url === '') {
    throw new TypeError('the SSE transport needs an http:// or https:// URL');
  }
  if (typeof EventSource !== 'function') {
    throw new TypeError('no EventSource constructor: Node has no global EventSource; pass one, ' +
      "e.g. new Herald(url, {eventsource: EventSource}) with EventSource from 'eventsource'");
  }
  const post = plainFetch(fetch, 'SSE');
  return { name: 'sse', create: () => new SseTransport(url, EventSource, post) };
}

// One SSE connection attempt. Thread: the page's or the process's event loop.
export class SseTransport {
  // fetch: callable as a plain function (http.js plainFetch()).
  constructor(url, EventSourceImpl, fetch) {
    this.name = 'sse';
    this.opensWithFrame = true; // the connect command travels in the URL that opens the stream
    this.session = null; // from the connect result
    this._url = url;
    this._Impl = EventSourceImpl;
    this._fetch = fetch;
    this._es = null;
    this._abort = new AbortController();
    this._poster = null;
    this._opened = false;
    this._closed = false;
    this.onopen = () => {};
    this.onmessage = () => {};
    this.onclose = () => {};
  }

  // first: the connect command's line. The transport counts as open at the first event, not when
  // the response head arrives: a proxy that buffers the stream lets the head through and nothing
  // after it, and the fallback rule must not settle on a transport that cannot deliver.
  open(first) {
    let es;
    try {
      es = new this._Impl(withQuery(this._url, { connect: first }));
    } catch (err) {
      queueMicrotask(() => this._finish(`sse: ${describeFailure(err)}`));
      return;
    }
    this._es = es;
    es.onmessage = (event) => this._onEvent(event);
    es.onerror = (event) => {
      // npm eventsource says the HTTP status (`code`); a browser says nothing.
      const status = Number.isInteger(event?.code) ? ` (HTTP ${event.code})` : '';
      this._finish(this._opened ? `sse: the stream ended${status}`
        : `sse: the stream did not open${status}`);
    };
  }

  send(text) {
    if (this._closed) {
      return;
    }
    if (this._poster === null) {
      // Only after a refused connect, which the client answers by closing: nothing to send to.
      this._finish('sse: a command to send, but the connect result named no session');
      return;
    }
    this._poster.post(text);
  }

  close() {
    if (this._closed) {
      return;
    }
    this._closed = true;
    this._release();
  }

  _onEvent(event) {
    if (this._closed) {
      return;
    }
    const data = typeof event.data === 'string' ? event.data : '';
    if (!this._opened) {
      this._opened = true;
      this.session = sessionOf(data);
      if (this.session !== null) {
        const url = withQuery(this._url, { session: this.session });
        this._poster = new CommandPoster(this._fetch, url, this._abort.signal,
          (why) => this._finish(`sse: ${why}`));
      }
      this.onopen();
      if (this._closed) {
        return;
      }
    }
    this.onmessage(data);
  }

  _release() {
    if (this._es) {
      this._es.onmessage = this._es.onerror = null;
      this._es.close(); // also stops EventSource's own reconnect
    }
    this._poster?.close();
    this._abort.abort();
  }

  _finish(reason) {
    if (this._closed) {
      return;
    }
    this._closed = true;
    this._release();
    this.onclose({ code: ABNORMAL_CLOSURE, reason });
  }
}
