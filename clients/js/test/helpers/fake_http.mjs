// Test doubles for the HTTP transports (src/sse.js, src/poll.js): an EventSource and a fetch whose
// every request the test answers (or fails) by hand. Nothing touches the network.

// Lets pending promise callbacks run (a fetch answer passes through several awaits).
export async function settle() {
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
}

// An EventSource with the browser interface the transport uses (onmessage, onerror, close());
// every instance made is in FakeEventSource.made. The test drives it with message() and error().
export class FakeEventSource {
  static made = [];

  constructor(url) {
    this.url = url;
    this.closed = false;
    this.onmessage = null;
    this.onerror = null;
    FakeEventSource.made.push(this);
  }

  static get last() {
    return FakeEventSource.made[FakeEventSource.made.length - 1];
  }

  // The decoded value of query parameter `name` of the URL it was opened with.
  param(name) {
    return new URL(this.url).searchParams.get(name);
  }

  close() {
    this.closed = true;
  }

  // One message event; data is a string, or objects joined as protocol lines.
  message(...data) {
    const text = data.map((d) => (typeof d === 'string' ? d : JSON.stringify(d))).join('\n');
    this.onmessage?.({ type: 'message', data: text });
  }

  // An error event; code: the HTTP status, as npm eventsource reports it (browsers say none).
  error(code) {
    this.onerror?.(code === undefined ? { type: 'error' } : { type: 'error', code });
  }
}

// A fetch whose requests wait for the test: fetch.calls holds {url, method, body, signal,
// keepalive, respond(status, body, headers), fail(message)}, in order. A request whose signal
// aborts rejects with an AbortError, as the real one does.
export function fakeFetch() {
  const calls = [];
  const fetch = (url, init = {}) => new Promise((resolve, reject) => {
    const call = {
      url,
      method: init.method ?? 'GET',
      body: init.body,
      signal: init.signal,
      keepalive: init.keepalive,
      settled: false,
      respond(status, body = '', headers = {}) {
        call.settled = true;
        const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) =>
          [k.toLowerCase(), v]));
        resolve({
          status,
          ok: status >= 200 && status < 300,
          headers: { get: (name) => lower[name.toLowerCase()] ?? null },
          text: async () => body,
        });
      },
      fail(message = 'fetch failed') {
        call.settled = true;
        reject(new TypeError(message, { cause: new Error('connect ECONNREFUSED') }));
      },
      // The query parameter `name`, decoded.
      param(name) {
        return new URL(url).searchParams.get(name);
      },
    };
    if (init.signal) {
      if (init.signal.aborted) {
        call.settled = true;
        reject(new DOMException('aborted', 'AbortError'));
        return;
      }
      init.signal.addEventListener('abort', () => {
        if (!call.settled) {
          call.settled = true;
          call.aborted = true;
          reject(new DOMException('aborted', 'AbortError'));
        }
      });
    }
    calls.push(call);
  });
  fetch.calls = calls;
  fetch.last = () => calls[calls.length - 1];
  // The requests not answered yet.
  fetch.open = () => calls.filter((c) => !c.settled);
  return fetch;
}

// Records what a transport reports: opened, frames, close events.
export function recordTransport(t) {
  const log = { opened: 0, frames: [], closes: [] };
  t.onopen = () => { log.opened++; };
  t.onmessage = (text) => log.frames.push(text);
  t.onclose = (e) => log.closes.push(e);
  return log;
}
