// The Pusher protocol over two Herald nodes on one real redis-server (Debian's, started here on a
// free loopback port and stopped by its pid): pusher-js clients on either node see one presence
// roster (member_added for a user's first connection anywhere, member_removed after their last),
// client events and REST events cross nodes (socket_id exclusion included), and the REST API's
// channel list and terminate_connections answer for every node, whichever node gets the request.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { client, connected, next, onCleanup, restClient, server, subscribed, track,
  within } from './harness.mjs';
import { startRedis } from './redis_server.mjs';

const nodes = [];

before(async () => {
  const url = await startRedis();
  for (let i = 0; i < 2; i++) {
    nodes.push(await server(['--broker', 'redis', '--redis', url,
      '--redis-prefix', `pusher-it-${process.pid}`]));
  }
});

function on(node, opts) {
  return track(client(node.port, opts));
}

// Resolves once fn() is true (polled: a REST answer, not an event).
async function eventually(fn, what, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const last = await fn();
    if (last === true) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`step '${what}': not true within ${ms} ms (last: ${JSON.stringify(last)})`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('presence over two nodes: one roster; added on a first connection, removed after the last',
  async () => {
    const [a, b] = nodes;
    const watcher = on(a, { user: 'w' });
    await connected(watcher);
    const { ch } = await subscribed(watcher, 'presence-cluster');
    const added = [];
    const removed = [];
    ch.bind('pusher:member_added', (m) => added.push(m.id));
    ch.bind('pusher:member_removed', (m) => removed.push(m.id));

    const u2b = on(b, { user: 'u2', info: { on: 'b' } });
    await connected(u2b);
    const u2Added = next(ch, 'pusher:member_added', 'member_added u2 (joined on the other node)');
    const { data: fromB } = await subscribed(u2b, 'presence-cluster');
    assert.equal((await u2Added).data.id, 'u2');
    assert.equal(fromB.count, 2, 'the node-b member list has the node-a watcher');
    assert.deepEqual(Object.keys(fromB.members).sort(), ['u2', 'w']);

    // u2's second connection, on node a: no member_added. u3 joining on b afterwards proves the
    // second join was seen.
    const u2a = on(a, { user: 'u2', info: { on: 'b' } });
    await connected(u2a);
    const { data: fromA } = await subscribed(u2a, 'presence-cluster');
    assert.equal(fromA.count, 2);
    const u3 = on(b, { user: 'u3' });
    await connected(u3);
    const u3Added = next(ch, 'pusher:member_added', 'member_added u3');
    await subscribed(u3, 'presence-cluster');
    assert.equal((await u3Added).data.id, 'u3');
    assert.deepEqual(added, ['u2', 'u3']);

    // u2 leaves node b: still present through node a. u3 leaves: removed. u2's last: removed.
    u2b.disconnect();
    const u3Removed = next(ch, 'pusher:member_removed', 'member_removed u3');
    u3.disconnect();
    assert.equal((await u3Removed).data.id, 'u3');
    assert.deepEqual(removed, ['u3'], 'u2 is still connected on node a');
    const u2Removed = next(ch, 'pusher:member_removed', 'member_removed u2');
    u2a.disconnect();
    assert.equal((await u2Removed).data.id, 'u2');
    assert.deepEqual(removed, ['u3', 'u2']);
  });

test('client events and REST events cross nodes; socket_id excludes the sender on any node',
  async () => {
    const [a, b] = nodes;
    const alice = on(a, { user: 'alice' });
    const bob = on(b, { user: 'bob' });
    const carol = on(a, { user: 'carol' });
    const [aliceId] = await Promise.all([connected(alice), connected(bob), connected(carol)]);
    const { ch: chA } = await subscribed(alice, 'presence-x');
    const { ch: chB } = await subscribed(bob, 'presence-x');
    const { ch: chC } = await subscribed(carol, 'presence-x');

    const whisper = next(chB, 'client-typing', 'bob (node b) gets alice\'s client event');
    assert.ok(chA.trigger('client-typing', { who: 'alice' }));
    const { data, meta } = await whisper;
    assert.deepEqual(data, { who: 'alice' });
    assert.equal(meta.user_id, 'alice');

    // Through node b's REST API, to everyone but alice (on node a).
    let aliceGot = 0;
    chA.bind('order', () => { aliceGot++; });
    const atBob = next(chB, 'order', 'bob gets the REST event');
    const atCarol = next(chC, 'order', 'carol (node a) gets the REST event');
    await restClient(b.port).trigger('presence-x', 'order', { n: 1 }, { socket_id: aliceId });
    assert.deepEqual((await atBob).data, { n: 1 });
    assert.deepEqual((await atCarol).data, { n: 1 });
    // A second event to all: alice's first handler call is this one, not the excluded one.
    const second = next(chA, 'order', 'alice gets the next event');
    await restClient(b.port).trigger('presence-x', 'order', { n: 2 });
    assert.deepEqual((await second).data, { n: 2 });
    assert.equal(aliceGot, 1, 'the excluded event never reached alice');
  });

test('REST channels and terminate_connections answer for every node', async () => {
  const [a, b] = nodes;
  const onA = on(a, { user: 'tess' });
  const onA2 = on(a, { user: 'tess' });
  const onB = on(b, { user: 'other' });
  await Promise.all([connected(onA), connected(onA2), connected(onB)]);
  for (const p of [onA, onA2]) {  // terminate_connections acts on signed-in users
    const ok = next(p.connection, 'message', 'signin_success');
    p.signin();
    assert.equal((await ok).data.event, 'pusher:signin_success');
  }
  await subscribed(onA, 'presence-term');
  await subscribed(onA2, 'public-only-a');
  await subscribed(onB, 'presence-term');

  // Asked at node b: public-only-a has its subscriber on node a only.
  const rest = restClient(b.port);
  await eventually(async () => {
    const r = await rest.get({ path: '/channels', params: { info: 'subscription_count' } });
    const body = await r.json();
    const got = body.channels;
    return (got['public-only-a']?.subscription_count === 1 &&
      got['presence-term']?.subscription_count === 2) || body;
  }, 'GET /channels at node b counts node a\'s subscribers');
  const users = await (await rest.get({ path: '/channels/presence-term/users' })).json();
  assert.deepEqual(users.users.map((u) => u.id).sort(), ['other', 'tess']);

  // terminate_connections at node b closes tess's two connections on node a.
  const gone = [onA, onA2].map((p, i) => within(new Promise((resolve) => {
    p.connection.bind('state_change', (s) => {
      if (s.current !== 'connected') {
        resolve();
      }
    });
  }), 5000, `tess's connection ${i + 1} on node a is closed`));
  await rest.terminateUserConnections('tess');
  await Promise.all(gone);
  assert.equal(onB.connection.state, 'connected', 'another user stays');
});
