// A plain EventSource (npm `eventsource`, the WHATWG API on Node) on Herald's unidirectional SSE
// stream, with no SDK: `new EventSource('/connection/sse?channel=news')` receives every
// publication as a message event whose id is its position, and when the connection drops the
// library's own reconnect (Last-Event-ID) resumes exactly where it stopped: across a dropped
// stream and across a server killed with SIGKILL and restarted on the same port and data
// directory, every publication arrives once, in order.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventSource } from 'eventsource';
import { startHerald, within } from './herald.mjs';

const dirs = [];
after(() => {
  for (const d of dirs) {
    rmSync(d, { recursive: true, force: true });
  }
});

async function publish(port, channel, data) {
  const r = await fetch(`http://127.0.0.1:${port}/api/publish`, {
    method: 'POST',
    body: JSON.stringify({ channel, data }),
  });
  assert.equal(r.status, 200, `publish ${JSON.stringify(data)}: ${await r.text()}`);
}

// Collects the message events of an EventSource; waitFor(n) resolves once n arrived.
function collect(es) {
  const got = [];
  let waiter = null;
  es.onmessage = (e) => {
    const push = JSON.parse(e.data);
    got.push({ id: e.lastEventId, offset: push.offset, n: push.data.n });
    if (waiter && got.length >= waiter.n) {
      waiter.resolve();
    }
  };
  return {
    got,
    waitFor(n, what) {
      if (got.length >= n) {
        return Promise.resolve();
      }
      return within(new Promise((resolve) => { waiter = { n, resolve }; }), 20000, what);
    },
  };
}

// Resolves once `count` subscribe replies (the stream's `herald` events whose result has an
// epoch) have come: from then on every publication reaches the stream. The stream's opening is
// not enough: with presence on, a subscription goes live a round trip to the channel's owner
// loop after the response head, and a publication made in between is not the stream's (the
// test then waited for it in vain, now and then on a busy machine). Call it before the stream
// opens, so that no reply passes unseen.
function subscribed(es, count, what) {
  let seen = 0;
  return within(new Promise((resolve) => {
    es.addEventListener('herald', (e) => {
      if (JSON.parse(e.data).result?.epoch !== undefined && ++seen === count) {
        resolve();
      }
    });
  }), 5000, what);
}

function assertExactlyOnceInOrder(got, count) {
  const ns = got.map((g) => g.n);
  assert.deepEqual(ns, Array.from({ length: count }, (_, i) => i),
    `every publication once and in order (got ${ns.length}: ${ns.slice(0, 8)}...)`);
  for (const g of got) {
    assert.match(g.id, new RegExp(`^${g.offset}:[0-9a-f]+$`), 'the event id is offset:epoch');
  }
}

test('EventSource resumes through Last-Event-ID after a SIGKILL restart: nothing lost or repeated',
  async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'herald-sse-'));
    dirs.push(dataDir);
    let server = await startHerald([], { dataDir });
    const port = server.port;
    const es = new EventSource(`http://127.0.0.1:${port}/connection/sse?channel=news`);
    const c = collect(es);
    const ready = subscribed(es, 1, 'the stream is subscribed to news');
    try {
      await within(new Promise((resolve, reject) => {
        es.onopen = resolve;
        es.onerror = reject;
      }), 5000, 'the stream opens');
      await ready;
      es.onerror = () => {}; // reconnects are expected from here on
      for (let n = 0; n < 100; n++) {
        await publish(port, 'news', { n });
      }
      await c.waitFor(100, '100 publications before the kill');
      await server.kill();
      // While the server is down nothing can be published; after the restart the stream's
      // reconnect and more publications race: both orders must give the same result.
      server = await startHerald([], { dataDir, listen: `127.0.0.1:${port}` });
      for (let n = 100; n < 300; n++) {
        await publish(port, 'news', { n });
      }
      await c.waitFor(300, '300 publications after the restart');
      await new Promise((r) => setTimeout(r, 200)); // a duplicate would show up here
      assertExactlyOnceInOrder(c.got, 300);
    } finally {
      es.close();
      await server.stop();
    }
  });

test('two channels in one stream: the id holds both positions, a resume recovers both',
  async () => {
    const server = await startHerald();
    const { port } = server;
    const url = `http://127.0.0.1:${port}/connection/sse?channel=a&channel=b`;
    let es = new EventSource(url);
    let c = collect(es);
    const ready = subscribed(es, 2, 'the stream is subscribed to a and b');
    try {
      await within(new Promise((resolve) => { es.onopen = resolve; }), 5000, 'stream opens');
      await ready;
      await publish(port, 'a', { n: 0 });
      await publish(port, 'b', { n: 1 });
      await c.waitFor(2, 'one on each channel');
      const last = c.got[1].id;
      assert.match(last, /^1:[0-9a-f]+\/1:[0-9a-f]+$/, 'both positions in the id');
      es.close();
      await publish(port, 'b', { n: 2 });
      await publish(port, 'a', { n: 3 });
      // A new EventSource that resumes from the last id it saw (as the browser does).
      es = new EventSource(`${url}&last_event_id=${encodeURIComponent(last)}`);
      c = collect(es);
      await c.waitFor(2, 'the two missed ones');
      // Each channel has its own order; across channels the order is not defined.
      assert.deepEqual(c.got.map((g) => g.n).sort(), [2, 3], 'exactly the missed ones');
    } finally {
      es.close();
      await server.stop();
    }
  });
