// Against the real server, the SDK's fallback over its own transports (websocket, sse, poll, in
// that order by default): with nothing in the way it takes WebSocket; when the WebSocket path is
// refused it connects over SSE at once; when SSE is refused too, over long-polling. Then through
// a proxy that refuses WebSocket upgrades (-> SSE), and one that also buffers event streams, so
// that SSE's response head arrives and nothing after it (-> long-polling once SSE's open times
// out: the SDK counts SSE as open only when an event arrives). Each time the client then works
// on the transport it found.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Herald } from '../../src/index.js';
import {
  Inbox, api, disconnectAfter, integrationOptions, nextEvent, over, startHerald, within,
} from '../helpers/server.mjs';
import { startProxy } from '../helpers/proxy.mjs';

const opts = integrationOptions();
let server;

before(async () => {
  if (!opts.skip) {
    server = await startHerald();
  }
});

after(async () => {
  await server?.stop();
});

// Connects `c`, checks it settled on `transport` after failing on `failed` (in order), then
// receives a publication and answers a command on it.
async function connectsOver(c, transport, failed, channel) {
  const errors = [];
  c.on('error', (e) => errors.push(e));
  const connected = nextEvent(c, 'connected', () => true, 8000, `connected over ${transport}`);
  const sub = c.newSubscription(channel);
  const inbox = new Inbox(sub);
  sub.subscribe();
  c.connect();
  const e = await connected;
  assert.equal(e.transport, transport, 'the connected event says the transport');
  assert.equal(c.transport, transport);
  assert.deepEqual(errors.map((x) => [x.type, x.transport]),
    failed.map((name) => ['transport', name]));
  await nextEvent(sub, 'subscribed');
  await api(server.port, 'publish', { channel, data: 'hello' });
  await inbox.until(1, 5000, `a publication over ${transport}`);
  assert.deepEqual(await c.presenceStats(channel), { numClients: 1, numUsers: 0 });
  return errors;
}

test('nothing in the way: the default list connects over WebSocket', opts, async (t) => {
  const c = disconnectAfter(t, new Herald(server.url, over()));
  await connectsOver(c, 'websocket', [], 'fb:plain');
});

test('the WebSocket path refused (404): SSE at once, without a backoff', opts, async (t) => {
  const blocked = `ws://127.0.0.1:${server.port}/connection/blocked`;
  const c = disconnectAfter(t, new Herald(server.url, { ...over(),
    transports: [{ transport: 'websocket', url: blocked }, 'sse', 'poll'],
    minReconnectDelay: 5000, maxReconnectDelay: 5000 })); // a backoff would fail the wait
  await connectsOver(c, 'sse', ['websocket'], 'fb:sse');
});

test('WebSocket and SSE paths refused (404): long-polling', opts, async (t) => {
  const base = `127.0.0.1:${server.port}/connection/blocked`;
  const c = disconnectAfter(t, new Herald(server.url, { ...over(),
    transports: [{ transport: 'websocket', url: `ws://${base}` },
      { transport: 'sse', url: `http://${base}` }, 'poll'],
    minReconnectDelay: 5000, maxReconnectDelay: 5000 }));
  const errors = await connectsOver(c, 'poll', ['websocket', 'sse'], 'fb:poll');
  assert.match(errors[1].error.message, /sse: the stream did not open \(HTTP 404\)/);
});

test('a proxy that refuses WebSocket upgrades: SSE through it', opts, async (t) => {
  const proxy = await startProxy(server.port);
  t.after(() => proxy.close());
  const c = disconnectAfter(t, new Herald(proxy.url, { ...over(),
    minReconnectDelay: 5000, maxReconnectDelay: 5000 }));
  await connectsOver(c, 'sse', ['websocket'], 'fb:proxy-sse');
  assert.equal(proxy.counts.upgrades, 1);
});

test('a proxy that also buffers event streams: SSE never delivers, long-polling does', opts,
  async (t) => {
    const proxy = await startProxy(server.port, { bufferStreams: true });
    t.after(() => proxy.close());
    const c = disconnectAfter(t, new Herald(proxy.url, { ...over(), timeout: 1500,
      minReconnectDelay: 5000, maxReconnectDelay: 5000 }));
    const timedOut = nextEvent(c, 'error', (e) => e.transport === 'sse', 5000, 'SSE gives up');
    const errors = await connectsOver(c, 'poll', ['websocket', 'sse'], 'fb:proxy-poll');
    const e = await timedOut;
    assert.equal(e.error.code, 2, 'ClientCode.TIMEOUT: the head came, no event did');
    assert.equal(proxy.counts.streams, 1, 'the stream got through the proxy, its events did not');
    assert.equal(errors.length, 2);
    await within(c.presence('fb:proxy-poll'), 3000, 'a command over long-polling');
  });
