// The long-polling transport (docs/PROTOCOL.md, "Long-polling"): for networks where neither a
// WebSocket nor a streaming response gets through. Plain requests and answers only:
//   * open: `POST <url>` with the connect command: 200, and the answer (below);
//   * then a loop of `GET <url>?session=S&cursor=N`, each answered with what the server sent
//     after entry N, or empty after the server's poll timeout (25 s): poll again;
//   * later frames: `POST <url>?session=S` (204; the replies come in a poll);
//   * `DELETE <url>?session=S` when the client closes the transport (its presence goes at once).
// An answer is `{"cursor":M}` on its first line, then protocol lines; the next poll names M, and
// only that acknowledges the entries. So a poll whose answer is lost (a network error) is simply
// made again with the same cursor, a couple of times, before the connection counts as dead. A
// 404 or 410 says the session is gone (collected, dropped, or the server restarted): the
// connection is lost, and the client reconnects and recovers as after any drop. The server sends
// no keepalive here; every answer, an empty one too, shows the connection is alive, and the SDK's
// ping command covers the rest (connection.js). The transport contract is in transports.js.

import {
  ABNORMAL_CLOSURE, CommandPoster, describeFailure, errorText, plainFetch, sessionGone, sessionOf,
  withQuery,
} from './http.js';

// Delays before the retries of a poll that failed (network error or 5xx): two retries, then the
// connection is declared dead. Long enough to ride out a blip, short enough that a server that
// is gone is noticed within ~1.5 s.
export const POLL_RETRY_DELAYS_MS = Object.freeze([250, 1000]);

// Parses a poll answer: `{"cursor":M}` then the protocol lines. Returns {cursor, lines} (lines:
// the rest of the body, '' when there is none), or null when the first line is not a cursor.
export function parsePollAnswer(body) {
  const nl = body.indexOf('\n');
  const head = nl < 0 ? body : body.slice(0, nl);
  let cursor;
  try {
    cursor = JSON.parse(head)?.cursor;
  } catch {
    return null;
  }
  if (!Number.isSafeInteger(cursor) || cursor < 0) {
    return null;
  }
  return { cursor, lines: nl < 0 ? '' : body.slice(nl + 1) };
}

// The factory of long-polling transports to `url` (http:// or https://, usually ending in
// /connection/poll). fetch: the browser's or Node's (18+).
export function pollTransport(url, { fetch = globalThis.fetch } = {}) {
  if (typeof url !== 'string' || url === '') {
    throw new TypeError('the long-polling transport needs an http:// or https:// URL');
  }
  const f = plainFetch(fetch, 'long-polling');
  return { name: 'poll', create: (ctx) => new PollTransport(url, f, ctx?.clock) };
}

const realClock = { setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h) };

// One long-polling session. Thread: the page's or the process's event loop.
export class PollTransport {
  // fetch: callable as a plain function (http.js plainFetch()). clock: the client's, for the
  // retry delays.
  constructor(url, fetch, clock = realClock) {
    this.name = 'poll';
    this.opensWithFrame = true; // the connect command is the body of the request that opens
    this.session = null;
    this.cursor = 0;
    this._url = url;
    this._fetch = fetch;
    this._clock = clock;
    this._abort = new AbortController();
    this._poster = null;
    this._retryTimer = null;
    this._closed = false;
    this._ended = false; // the server said the session is gone, or was told we left
    this.onopen = () => {};
    this.onmessage = () => {};
    this.onclose = () => {};
  }

  open(first) {
    this._start(first);
  }

  send(text) {
    if (this._closed) {
      return;
    }
    if (this._poster === null) {
      // The connection sends nothing before onopen; after it, only when connect succeeded, and
      // then there is a session. Said rather than thrown, should a server name none.
      this._finish('poll: a command to send, but the server named no session');
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
    this._leave();
  }

  async _start(first) {
    let answer;
    try {
      const res = await this._fetch(this._url,
        { method: 'POST', body: first, signal: this._abort.signal });
      if (res.status !== 200) {
        const text = await errorText(res);
        this._finish(`poll: the connect POST answered HTTP ${res.status}${text ? ` ${text}` : ''}`);
        return;
      }
      this.session = res.headers.get('Herald-Session'); // unreadable cross-origin: see below
      answer = parsePollAnswer(await res.text());
    } catch (err) {
      this._finish(`poll: the connect POST failed: ${describeFailure(err)}`);
      return;
    }
    if (this._closed) {
      return;
    }
    if (answer === null) {
      this._finish('poll: the answer to the connect POST has no {"cursor":N} line');
      return;
    }
    this.session = this.session || sessionOf(answer.lines);
    this.cursor = answer.cursor;
    if (this.session !== null) {
      this._poster = new CommandPoster(this._fetch, withQuery(this._url, { session: this.session }),
        this._abort.signal, (why, gone) => this._finish(`poll: ${why}`, gone));
    }
    this.onopen();
    if (!this._closed && answer.lines !== '') {
      this.onmessage(answer.lines);
    }
    if (this._closed) {
      return; // e.g. connect refused: the client closed at once
    }
    if (this.session === null) {
      this._finish('poll: the server named no session');
      return;
    }
    this._poll(0);
  }

  // One poll; failures: how many polls in a row have failed before this one.
  async _poll(failures) {
    let res;
    let body = null;
    try {
      res = await this._fetch(withQuery(this._url, { session: this.session, cursor: this.cursor }),
        { signal: this._abort.signal });
      if (res.status === 200) {
        body = await res.text();
      }
    } catch (err) {
      this._retry(failures, describeFailure(err));
      return;
    }
    if (this._closed) {
      return;
    }
    if (res.status !== 200) {
      const text = await errorText(res);
      if (this._closed) {
        return;
      }
      const why = `HTTP ${res.status}${text ? ` ${text}` : ''}`;
      if (res.status >= 500) {
        this._retry(failures, why); // a proxy or an overloaded server: like a lost answer
      } else {
        const gone = sessionGone(res.status);
        this._finish(`poll: ${gone ? 'the session is gone' : 'refused'} (${why})`, gone);
      }
      return;
    }
    const answer = parsePollAnswer(body);
    if (answer === null) {
      this._finish('poll: an answer without a {"cursor":N} line');
      return;
    }
    this.cursor = answer.cursor;
    this.onmessage(answer.lines); // '' after the poll timeout: still a sign of life
    if (!this._closed) {
      this._poll(0);
    }
  }

  _retry(failures, why) {
    if (this._closed) {
      return;
    }
    if (failures >= POLL_RETRY_DELAYS_MS.length) {
      this._finish(`poll: ${failures + 1} polls in a row failed; the last: ${why}`);
      return;
    }
    this._retryTimer = this._clock.setTimeout(() => {
      this._retryTimer = null;
      this._poll(failures + 1); // the same cursor: the lost answer comes again
    }, POLL_RETRY_DELAYS_MS[failures]);
  }

  _release() {
    this._poster?.close();
    this._abort.abort();
    if (this._retryTimer !== null) {
      this._clock.clearTimeout(this._retryTimer);
      this._retryTimer = null;
    }
  }

  // Tells the server we leave, unless it said the session is gone: presence goes now rather than
  // after the server's session timeout, and a session given up after failed polls (a network
  // blip) does not linger beside the one the client opens next. Best effort: not aborted with
  // the rest, and `keepalive` lets it outlive a page that is being closed.
  _leave() {
    if (this.session !== null && !this._ended) {
      this._ended = true;
      this._fetch(withQuery(this._url, { session: this.session }),
        { method: 'DELETE', keepalive: true }).catch(() => {});
    }
  }

  // ended: the server said the session is gone, so there is no DELETE to send.
  _finish(reason, ended = false) {
    if (this._closed) {
      return;
    }
    this._ended = this._ended || ended;
    this._closed = true;
    this._release();
    this._leave();
    this.onclose({ code: ABNORMAL_CLOSURE, reason });
  }
}
