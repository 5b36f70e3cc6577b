// Against the real server, connections that do not work: a refused port (reported, retried with
// the backoff, connected once the server is there), a refused WebSocket path (the fallback rule
// moves to the next transport at once; fallback.test.mjs has the SDK's own transports), and a
// server that stops answering (SIGSTOP: over each transport the keepalive ping times out, the SDK
// reconnects once the server runs again, and recovers).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';

import { Herald, backoffCap, webSocketTransport } from '../../src/index.js';
import {
  Inbox, TRANSPORTS, api, disconnectAfter, integrationOptions, nextEvent, over, startHerald, within,
} from '../helpers/server.mjs';

const opts = integrationOptions();

test('connection refused: each failure reported, retries spaced by the backoff, then connected',
  opts, async (t) => {
    // A port that was just ours and now has no listener.
    const first = await startHerald();
    const { port, wsUrl } = first;
    await first.stop();
    const MIN = 100;
    const MAX = 400;
    // WebSocket only: with the whole list, each round would try every transport.
    const c = disconnectAfter(t, new Herald(wsUrl, { ...over('websocket'), minReconnectDelay: MIN,
      maxReconnectDelay: MAX, random: () => 0.999, timeout: 3000 }));
    const failures = [];
    const sixth = new Promise((resolve) => c.on('error', (e) => {
      if (e.type === 'transport') {
        failures.push({ at: performance.now(), code: e.error.code, transport: e.transport });
        if (failures.length === 6) {
          resolve();
        }
      }
    }));
    c.connect();
    await within(sixth, 10000, 'six refused attempts');
    assert.ok(failures.every((f) => f.code === 1006 && f.transport === 'websocket'));
    assert.equal(c.state, 'connecting');
    // Attempt n+1 starts round(0.999 * cap(n)) ms after failure n, and fails at once: the gaps
    // are at least that (timers never fire early) and not much more.
    for (let n = 0; n < 5; n++) {
      const wait = Math.round(0.999 * backoffCap(n, MIN, MAX));
      const gap = failures[n + 1].at - failures[n].at;
      assert.ok(gap >= wait - 2, `gap ${n}: ${gap.toFixed(1)} ms < the ${wait} ms backoff`);
      assert.ok(gap < wait + 1000, `gap ${n}: ${gap.toFixed(1)} ms, far over ${wait} ms`);
    }
    const server = await startHerald({ port });
    try {
      await within(c.ready(), 5000, 'connected once the server listens');
    } finally {
      c.disconnect();
      await server.stop();
    }
  });

test('WebSocket path refused (HTTP 404): the next transport is tried at once and kept', opts,
  async (t) => {
    const server = await startHerald();
    try {
      const blocked = webSocketTransport(`ws://127.0.0.1:${server.port}/connection/blocked`,
        WebSocket);
      const working = webSocketTransport(server.wsUrl, WebSocket);
      const c = disconnectAfter(t, new Herald(null, {
        transports: [{ ...blocked, name: 'blocked' }, { ...working, name: 'fallback' }],
        minReconnectDelay: 5000, maxReconnectDelay: 5000, // a backoff would fail the 3 s wait
      }));
      const errors = [];
      c.on('error', (e) => errors.push(e));
      c.connect();
      await within(c.ready(), 3000, 'connected through the second transport without a backoff');
      assert.equal(c.transport, 'fallback');
      assert.deepEqual(errors.map((e) => [e.type, e.transport]), [['transport', 'blocked']]);
    } finally {
      await server.stop();
    }
  });

for (const transport of TRANSPORTS) {
  test(`${transport}: a server that stops answering (SIGSTOP): ping timeout, reconnect after ` +
    'SIGCONT, recovered', opts, () => stoppedServer(transport));
}

// The server's own keepalive never reaches the SDK (WebSocket ping frames, SSE comment lines,
// nothing over long-polling): on every transport it is the SDK's ping command that finds out.
async function stoppedServer(transport) {
  // The connect result announces ping: 1, so the SDK pings after 1 s of silence.
  const server = await startHerald({ args: ['--ping-interval', '1'] });
  const c = new Herald(server.url, { ...over(transport), timeout: 2000,
    minReconnectDelay: 100, maxReconnectDelay: 300 });
  try {
    const sub = c.newSubscription('live');
    const inbox = new Inbox(sub);
    sub.subscribe();
    c.connect();
    await nextEvent(sub, 'subscribed');
    await api(server.port, 'publish', { channel: 'live', data: 'before' });
    await inbox.until(1, 3000, 'the first publication');

    const dead = nextEvent(c, 'connecting', () => true, 5000, 'the silence is noticed');
    server.signal('SIGSTOP');
    const e = await dead;
    assert.equal(e.code, 2, 'ClientCode.TIMEOUT');
    assert.match(e.reason, /no reply to ping/);
    // The kernel still accepts TCP connections for the frozen process, but nothing answers the
    // handshake, the stream or the connect POST: the next attempt times out opening.
    const openTimeout = await nextEvent(c, 'error', (x) => x.type === 'transport', 5000,
      'an attempt times out while the server is stopped');
    assert.equal(openTimeout.error.code, 2);
    server.signal('SIGCONT');
    const back = await nextEvent(sub, 'subscribed', () => true, 8000, 'subscribed again');
    assert.equal(back.recovered, true);
    assert.equal(c.transport, transport);
    await api(server.port, 'publish', { channel: 'live', data: 'after' });
    await inbox.until(2, 3000, 'the publication after');
    assert.deepEqual(inbox.pubs.map((p) => [p.offset, p.data]), [[1, 'before'], [2, 'after']]);
  } finally {
    c.disconnect();
    server.signal('SIGCONT');
    await server.stop();
  }
}
