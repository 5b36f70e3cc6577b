// Three Herald nodes on one real redis-server (issue 13, docs/SCALING.md), with the SDK as the
// client that must survive a node's death: nine clients, three per node, each given the list of
// the three node URLs with its own node first. A publisher sends 600 publications through the
// server API of the nodes in turn (a failed publish is retried on the next node with the same
// idempotency key, kept in Redis). After 200 of them node 0 is killed with SIGKILL; its three
// clients must move to the other nodes by themselves (the SDK's endpoint list, full-jitter
// backoff), resubscribe from their position, and every client must end up with every
// publication exactly once, in order: offsets 1..600, the data of each as published.
//
// Run by `clients/js/test/run.sh cluster BIN` (ctest js_sdk_cluster, registered when
// redis-server is installed). Real binaries, loopback only, every wait bounded.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Herald } from '../../src/index.js';
import { startRedis } from '../../../../tests/support/redis_process.mjs';
import { heraldBin, integrationOptions, over, tempDir } from '../helpers/server.mjs';
import { spawnHerald } from '../../../../tests/support/herald_process.mjs';

const TOTAL = 600;
const KILL_AFTER = 200; // acknowledged publications before the SIGKILL
const PER_NODE = 3;
const CHANNEL = 'feed:kill';

const CONFIG = `allow_anonymous: true
namespaces:
  feed:
    history_size: 10000
`;

async function startNodes(redisUrl, configPath) {
  const nodes = [];
  for (let i = 0; i < 3; i++) {
    const n = await spawnHerald(heraldBin(), ['serve', '--listen', '127.0.0.1:0', '--threads', '2',
      '--config', configPath, '--redis', redisUrl, '--redis-prefix', 'sdkkill']);
    nodes.push({ ...n, url: `http://127.0.0.1:${n.port}` });
  }
  return nodes;
}

// POST /api/publish on one node: the result, or null when the node did not answer with one.
async function publishOn(node, i) {
  try {
    const res = await fetch(`${node.url}/api/publish`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ channel: CHANNEL, data: { i }, idempotency_key: `k${i}` }),
      signal: AbortSignal.timeout(5000),
    });
    const body = await res.json();
    return res.ok && body.result ? body.result : null;
  } catch {
    return null; // refused (the node is dead), reset, timed out
  }
}

// Publishes 0..TOTAL-1 through the nodes in turn; each message is retried on the next node until
// one acknowledges it (at most 30 s per message). onAcked(count) after each.
async function publishAll(nodes, acked, onAcked) {
  let turn = 0;
  for (let i = 0; i < TOTAL; i++) {
    const deadline = Date.now() + 30000;
    for (;;) {
      const node = nodes[turn++ % nodes.length];
      const r = node.alive() ? await publishOn(node, i) : null;
      if (r) {
        acked.set(i, r.offset);
        break;
      }
      if (Date.now() > deadline) {
        throw new Error(`publish ${i}: no node acknowledged it within 30 s`);
      }
    }
    await onAcked(acked.size);
  }
}

// One SDK client whose home is node `home`: its URL list starts there and goes on in turn.
function follower(nodes, home, name) {
  const urls = [0, 1, 2].map((k) => nodes[(home + k) % 3].url);
  const client = new Herald(urls, { ...over('websocket'), timeout: 3000, minReconnectDelay: 100,
    maxReconnectDelay: 1000, name });
  const f = { name, home, client, pubs: [], connectedTo: [], subscribed: [], errors: [] };
  client.on('connected', (e) => f.connectedTo.push(e.url));
  const sub = client.newSubscription(CHANNEL);
  sub.on('publication', (p) => f.pubs.push(p));
  sub.on('subscribed', (e) => f.subscribed.push(e));
  sub.on('error', (e) => f.errors.push(e));
  f.sub = sub;
  return f;
}

// Resolves once predicate() holds; rejects naming the step after ms.
function waitFor(what, predicate, ms) {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const check = () => {
      if (predicate()) {
        resolve();
      } else if (Date.now() > deadline) {
        reject(new Error(`step '${what}': timed out after ${ms} ms`));
      } else {
        setTimeout(check, 20);
      }
    };
    check();
  });
}

test('a node SIGKILLed while 600 publications flow: its SDK clients move to the other nodes and ' +
  'every client gets every publication exactly once, in order', integrationOptions({
  timeout: 120000 }), async (t) => {
  const redis = await startRedis();
  const dir = tempDir('herald-js-cluster-');
  let nodes = [];
  const followers = [];
  try {
    nodes = await startNodes(redis.url, dir.file('herald.yaml', CONFIG));
    for (let home = 0; home < 3; home++) {
      for (let k = 0; k < PER_NODE; k++) {
        const f = follower(nodes, home, `sdk${home}.${k}`);
        followers.push(f);
        f.sub.subscribe();
        f.client.connect();
      }
    }
    await waitFor('every client subscribed on its home node',
      () => followers.every((f) => f.subscribed.length === 1), 15000);
    for (const f of followers) {
      assert.equal(f.connectedTo[0], nodes[f.home].url, `${f.name} started on its home node`);
    }

    const acked = new Map(); // message i -> offset
    let killed = Promise.resolve();
    await publishAll(nodes, acked, async (n) => {
      if (n === KILL_AFTER) {
        // Not awaited: the publisher goes on while the node dies.
        t.diagnostic(`SIGKILL node 0 (pid ${nodes[0].pid}) after ${n} acknowledged`);
        killed = nodes[0].kill();
      }
    });
    await killed;
    assert.deepEqual([...acked.values()].sort((a, b) => a - b),
      Array.from({ length: TOTAL }, (_, k) => k + 1),
      'every message published once: offsets 1..600 (a retry with its key never publishes twice)');
    const dataAt = new Map([...acked].map(([i, offset]) => [offset, i]));

    await waitFor(`every client has ${TOTAL} publications`,
      () => followers.every((f) => f.pubs.length >= TOTAL), 30000);
    for (const f of followers) {
      assert.deepEqual(f.pubs.map((p) => p.offset), Array.from({ length: TOTAL }, (_, k) => k + 1),
        `${f.name}: offsets 1..${TOTAL}, each once, in order`);
      assert.ok(f.pubs.every((p) => p.epoch === f.pubs[0].epoch), `${f.name}: one epoch`);
      assert.deepEqual(f.pubs.map((p) => p.data.i), f.pubs.map((p) => dataAt.get(p.offset)),
        `${f.name}: the data published at each offset`);
      assert.deepEqual(f.errors, [], `${f.name}: no gap was ever seen`);
      if (f.home === 0) {
        assert.equal(f.connectedTo.length, 2, `${f.name}: connected again once`);
        assert.notEqual(f.connectedTo[1], nodes[0].url, `${f.name}: to a live node`);
        const again = f.subscribed.at(-1);
        assert.ok(again.wasRecovering && again.recovered,
          `${f.name}: resubscribed with recovered: true`);
      } else {
        assert.deepEqual(f.connectedTo, [nodes[f.home].url], `${f.name}: never moved`);
        assert.equal(f.subscribed.length, 1, `${f.name}: never resubscribed`);
      }
    }
    t.diagnostic(`the killed node's clients moved to ${followers.filter((f) => f.home === 0)
      .map((f) => f.connectedTo[1]).join(', ')}`);
  } finally {
    for (const f of followers) {
      f.client.disconnect();
    }
    for (const n of nodes) {
      await n.stop();
    }
    await redis.stop();
    dir.remove();
  }
});
