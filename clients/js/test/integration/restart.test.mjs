// Against the real server with durable history (--data-dir in a temp dir), over each transport:
// the server goes away and comes back on the same port and data directory; the SDK reconnects,
// resubscribes from its last position and delivers every publication once, in order.
//  * SIGTERM (the server drains with 1001 "going away"), publications made while it was down;
//  * SIGKILL in the middle of a publisher's stream of 500 publications (server API), which
//    retries an unanswered publish with the same idempotency key once the server is back.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Herald } from '../../src/index.js';
import {
  Inbox, TRANSPORTS, api, integrationOptions, nextEvent, over, startHerald, tempDir, within,
} from '../helpers/server.mjs';

const opts = integrationOptions({ timeout: 45000 });

function sdk(transport, url, options = {}) {
  return new Herald(url, { ...over(transport), timeout: 3000, minReconnectDelay: 100,
    maxReconnectDelay: 1000, ...options });
}

// Offsets must be 1..n in one epoch, each once.
function assertStream(pubs, epoch, what) {
  const offsets = pubs.map((p) => p.offset);
  const expected = Array.from({ length: pubs.length }, (_, i) => i + 1);
  assert.deepEqual(offsets, expected, `${what}: offsets 1..${pubs.length}, once each, in order`);
  assert.ok(pubs.every((p) => p.epoch === epoch), `${what}: one epoch (${epoch})`);
}

for (const transport of TRANSPORTS) {
  test(`${transport}: SIGTERM restart: 1001, reconnect, resubscribe, the publications of the gap ` +
    'recovered', opts, () => sigtermRestart(transport));
  test(`${transport}: SIGKILL mid-stream: 500 publications, none lost, none delivered twice`, opts,
    (t) => sigkillMidStream(t, transport));
}

async function sigtermRestart(transport) {
  const dir = tempDir();
  let server = await startHerald({ dataDir: dir.path });
  // random 0.99: the first retry waits ~1 s, enough to restart and publish in the meantime.
  const c = sdk(transport, server.url,
    { random: () => 0.99, minReconnectDelay: 1000, maxReconnectDelay: 2000 });
  try {
    const sub = c.newSubscription('news');
    const inbox = new Inbox(sub);
    sub.subscribe();
    c.connect();
    await nextEvent(sub, 'subscribed');
    for (let i = 1; i <= 5; i++) {
      await api(server.port, 'publish', { channel: 'news', data: i });
    }
    await inbox.until(5, 5000, 'five live publications');
    const epoch = inbox.pubs[0].epoch;

    const lost = nextEvent(c, 'connecting', () => true, 10000, 'the client sees the drain');
    const stopped = await server.stop();
    assert.equal(stopped.code, 0);
    assert.equal((await lost).code, 1001);
    assert.equal(sub.state, 'subscribing');

    const back = nextEvent(sub, 'subscribed', () => true, 10000, 'resubscribed after restart');
    server = await startHerald({ dataDir: dir.path, port: server.port });
    for (let i = 6; i <= 10; i++) {
      await api(server.port, 'publish', { channel: 'news', data: i });
    }
    const ev = await back;
    assert.equal(ev.wasRecovering, true);
    assert.equal(ev.recovered, true, 'durable history: same epoch, nothing lost');
    await api(server.port, 'publish', { channel: 'news', data: 11 });
    await inbox.until(11, 5000, 'all eleven');
    assertStream(inbox.pubs, epoch, 'across a SIGTERM restart');
    assert.deepEqual(inbox.pubs.map((p) => p.data), Array.from({ length: 11 }, (_, i) => i + 1));
    assert.equal(c.transport, transport);
  } finally {
    c.disconnect();
    await server.stop();
    dir.remove();
  }
}

async function sigkillMidStream(t, transport) {
  const TOTAL = 500;
  const KILL_AFTER = 150; // acknowledged publications before the SIGKILL
  const dir = tempDir();
  let server = await startHerald({ dataDir: dir.path });
  const port = server.port;
  const c = sdk(transport, server.url, { minReconnectDelay: 50, maxReconnectDelay: 500 });
  const states = [];
  c.on('state', (e) => states.push(e.state === 'connected' ? 'connected' : `${e.state} ${e.code}`));
  // The publisher waits on this condition when the server does not answer: the restart below
  // replaces it with a resolved one.
  let serverUp = { promise: null, resolve: null };
  const down = () => {
    serverUp = {};
    serverUp.promise = new Promise((res) => { serverUp.resolve = res; });
  };
  let retried = 0;
  let reachedKillPoint;
  const killPoint = new Promise((res) => { reachedKillPoint = res; });
  const publish = async () => {
    for (let n = 1; n <= TOTAL; n++) {
      if (n === KILL_AFTER + 1) {
        reachedKillPoint(); // and go on publishing while the server is killed
      }
      for (let attempt = 1; ; attempt++) {
        try {
          await api(port, 'publish', { channel: 'feed', data: { n }, idempotency_key: `n${n}` });
          break;
        } catch (err) {
          if (attempt >= 20) {
            throw new Error(`publish ${n}: ${attempt} attempts failed; last: ${err.message}`);
          }
          retried++;
          await within(serverUp.promise ?? Promise.resolve(), 15000,
            `server back for publish ${n}`);
        }
      }
    }
  };
  let publisher = Promise.resolve();
  try {
    const sub = c.newSubscription('feed');
    const inbox = new Inbox(sub);
    const resubscribed = [];
    sub.on('subscribed', (e) => resubscribed.push(e));
    sub.subscribe();
    c.connect();
    await nextEvent(sub, 'subscribed');
    publisher = publish(); // from offset 1, all of them for this subscriber
    await within(killPoint, 15000, `${KILL_AFTER} publications acknowledged`);

    down();
    await server.kill();
    server = await startHerald({ dataDir: dir.path, port });
    serverUp.resolve();

    await publisher;
    await inbox.until(TOTAL, 20000, 'every publication after the restart');
    // The server's own record of the channel is the reference.
    const history = await api(port, 'history', { channel: 'feed' });
    const expected = history.publications.map((p) => [p.offset, p.epoch, p.data.n]);
    // One more than TOTAL if a retried publish was stored twice (see below): wait for it too.
    await inbox.until(expected.length, 5000, 'as many as the history holds');
    assert.deepEqual(inbox.pubs.map((p) => [p.offset, p.epoch, p.data.n]), expected,
      'exactly what the server stored, in its order');
    assertStream(inbox.pubs, history.epoch, 'across a SIGKILL restart');
    const ns = new Set(inbox.pubs.map((p) => p.data.n));
    for (let n = 1; n <= TOTAL; n++) {
      assert.ok(ns.has(n), `publication n=${n} was delivered`);
    }
    // A publish in flight at the kill may have been stored before its reply was lost; the retry
    // with the same idempotency key then stores it again, because the server keeps idempotency
    // keys in memory only. That is a publisher-side duplicate (two offsets), never the SDK's.
    const dataDuplicates = inbox.pubs.length - ns.size;
    assert.ok(dataDuplicates <= 1,
      `at most the one in-flight publish is stored twice, got ${dataDuplicates}`);
    assert.ok(resubscribed.length >= 2);
    const again = resubscribed.at(-1);
    assert.equal(again.wasRecovering, true);
    assert.equal(again.recovered, true);
    assert.ok(states.includes('connecting 1006'), `the kill was seen: ${states.join(', ')}`);
    assert.equal(c.transport, transport);
    t.diagnostic(`${inbox.pubs.length} delivered, ${retried} publish retries, ` +
      `${dataDuplicates} stored twice; client states: ${states.join(', ')}`);
  } finally {
    c.disconnect();
    serverUp.resolve?.();
    await publisher.catch(() => {});
    await server.stop();
    dir.remove();
  }
}
