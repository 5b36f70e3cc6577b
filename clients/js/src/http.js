// What the two HTTP transports (sse.js, poll.js) share: the session id of the connect result,
// query strings, and the POSTs that carry a session's commands (docs/PROTOCOL.md, "Sessions of the
// HTTP transports"). Nothing here knows about EventSource or polling.

// Status codes that say the session the request named is gone: 404 "unknown session" (it ended,
// was collected, or the server restarted and never knew it), 410 "session ended" (long-polling:
// after its last entries, or dropped for polling too slowly).
export function sessionGone(status) {
  return status === 404 || status === 410;
}

// The code a transport reports when the server or the network ended it without a WebSocket close
// code: the one a WebSocket gets when the TCP connection drops (RFC 6455), so the reconnect rules
// treat both alike (backoff, then resubscribe with recovery).
export const ABNORMAL_CLOSURE = 1006;

// The session id in the connect result among `text`'s lines ('\n'-separated protocol lines), or
// null when none of them is a reply with a string `result.session`.
export function sessionOf(text) {
  for (const line of text.split('\n')) {
    if (!line.includes('"session"')) {
      continue; // only the connect result names it: skip parsing the rest
    }
    try {
      const msg = JSON.parse(line);
      const session = msg?.result?.session;
      if (msg?.id !== undefined && typeof session === 'string' && session !== '') {
        return session;
      }
    } catch {
      // not JSON: the connection reports it when it reads the line
    }
  }
  return null;
}

// `url` with the query parameters of `params` (an object; values are URL-encoded) appended.
export function withQuery(url, params) {
  const query = Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return url + (url.includes('?') ? '&' : '?') + query;
}

// A fetch function callable as a plain function. A browser's fetch must not be called as a method
// of another object (`transport._fetch(...)` throws "Illegal invocation"), so it is wrapped.
export function plainFetch(fetchImpl, what) {
  if (typeof fetchImpl !== 'function') {
    throw new TypeError(`the ${what} transport needs fetch (browsers and Node 18+ have it; ` +
      'pass one with the `fetch` option)');
  }
  return (url, init) => fetchImpl(url, init);
}

// Why a fetch failed, in one line ("fetch failed: connect ECONNREFUSED ..." in Node).
export function describeFailure(err) {
  const msg = String(err?.message ?? err);
  const cause = err?.cause?.message ?? err?.cause?.code;
  return cause ? `${msg}: ${cause}` : msg;
}

// The error text of a JSON error answer ({"error": "...", "status": N}), or '' if it has none.
export async function errorText(res) {
  try {
    const body = await res.text();
    const msg = JSON.parse(body)?.error;
    return typeof msg === 'string' ? msg : '';
  } catch {
    return '';
  }
}

// A POSTed batch holds at most this many lines and this many UTF-16 units, like a WebSocket frame
// of the client (connection.js): the server refuses more than 128 commands or 1 MiB at once.
const MAX_POST_LINES = 100;
const MAX_POST_UNITS = 256 * 1024;

function lineCount(text) {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) {
    n++;
  }
  return n;
}

// Sends a session's command frames as `POST url` (url names the session), one POST at a time and
// in order: two POSTs in flight could reach the server in either order, and the server runs a
// connection's commands in the order they arrive (an unsubscribe and a subscribe to one channel
// must not swap). Frames queued while a POST is out travel together in the next one, within the
// limits above. 204 is the only success. Any other outcome ends the session for the transport,
// through fail(why) called once: after a network error nobody knows which commands ran, so they
// are not sent again (a publish could happen twice); the connection's commands in flight fail and
// the client reconnects. fail's second argument says the server answered that the session is
// gone (so there is nothing left to tell it). Thread: the event loop of the page or process.
export class CommandPoster {
  // fetch: from plainFetch(). signal: aborts the POST in flight when the transport closes.
  constructor(fetch, url, signal, fail) {
    this._fetch = fetch;
    this._url = url;
    this._signal = signal;
    this._fail = fail;
    this._queue = [];
    this._busy = false;
    this._done = false;
  }

  post(frame) {
    if (this._done) {
      return;
    }
    this._queue.push(frame);
    if (!this._busy) {
      this._next();
    }
  }

  close() {
    this._done = true;
    this._queue = [];
  }

  async _next() {
    if (this._done || this._queue.length === 0) {
      this._busy = false;
      return;
    }
    this._busy = true;
    let body = this._queue.shift();
    let lines = lineCount(body);
    while (this._queue.length > 0) {
      const more = this._queue[0];
      const n = lineCount(more);
      if (lines + n > MAX_POST_LINES || body.length + more.length + 1 > MAX_POST_UNITS) {
        break;
      }
      body += '\n' + this._queue.shift();
      lines += n;
    }
    let res;
    try {
      res = await this._fetch(this._url, { method: 'POST', body, signal: this._signal });
    } catch (err) {
      this._end(`POST of commands failed: ${describeFailure(err)}`, false);
      return;
    }
    if (res.status !== 204) {
      const text = await errorText(res);
      const gone = sessionGone(res.status);
      this._end(gone ? `the session is gone (HTTP ${res.status}${text ? ` ${text}` : ''})`
        : `POST of commands answered HTTP ${res.status}${text ? ` ${text}` : ''}`, gone);
      return;
    }
    this._next();
  }

  _end(why, gone) {
    if (!this._done) {
      this._done = true;
      this._queue = [];
      this._fail(why, gone);
    }
  }
}
