// Webhooks over two Herald nodes on one real redis-server (docs/PUSHER.md, "Webhooks"): the
// cluster reports each change once, whichever node's connections make it (channel_occupied by
// the first node to have a subscriber, channel_vacated by the last to lose its last, member_added
// and member_removed likewise per user), and when a node is killed (SIGKILL, nothing released)
// a surviving node reports the ends its connections left, once, within the presence lease.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { heraldWith, hookClient, names, receiver, subscribe } from './hook_receiver.mjs';
import { within } from './harness.mjs';
import { startRedis } from './redis_server.mjs';

const LEASE_S = 2;

async function twoNodes(rx) {
  const url = await startRedis();
  const opts = { args: ['--broker', 'redis', '--redis', url, '--redis-prefix',
    `pusher-hooks-${process.pid}`], yaml: `redis_presence_lease: ${LEASE_S}\n` };
  const hooks = [{ url: rx.url, batch_ms: 50 }];
  return [await heraldWith(hooks, {}, opts), await heraldWith(hooks, {}, opts)];
}

// The events of channel, as [name, user_id?] pairs in arrival order.
function story(rx, channel) {
  return rx.events().filter((e) => e.channel === channel)
    .map((e) => (e.user_id === undefined ? [e.name] : [e.name, e.user_id]));
}

// Both nodes have sent everything decided before this: each occupies and leaves a channel of its
// own, and the receiver hears both vacate.
async function settle(rx, nodes, tag) {
  for (const [i, node] of nodes.entries()) {
    const p = hookClient(node.port, 'marker');
    await subscribe(p, `marker-${tag}-${i}`);
    p.disconnect();
  }
  await rx.until(() => nodes.every((_, i) => names(rx.events(), 'channel_vacated')
    .some((e) => e.channel === `marker-${tag}-${i}`)), `markers ${tag} vacated`);
}

test('two nodes: each occupancy and member change is reported once, by one node', async () => {
  const rx = await receiver();
  const [a, b] = await twoNodes(rx);
  const ann1 = hookClient(a.port, 'ann');
  await subscribe(ann1, 'presence-room');
  await rx.until(() => story(rx, 'presence-room').length >= 2, 'occupied and ann added');
  // ann again and bo, both on the other node: only bo is new.
  const ann2 = hookClient(b.port, 'ann');
  const bo = hookClient(b.port, 'bo');
  await subscribe(ann2, 'presence-room');
  await subscribe(bo, 'presence-room');
  await rx.until(() => story(rx, 'presence-room').length >= 3, 'bo added');
  // ann leaves node A (still on B): nothing; then B's clients leave: each end once.
  ann1.disconnect();
  await settle(rx, [a, b], 'one');
  ann2.disconnect();
  await rx.until(() => story(rx, 'presence-room').length >= 4, 'ann removed');
  bo.disconnect();
  await rx.until(() => names(rx.events(), 'channel_vacated')
    .some((e) => e.channel === 'presence-room'), 'presence-room vacated');
  await settle(rx, [a, b], 'two');
  assert.deepEqual(story(rx, 'presence-room'), [
    ['channel_occupied'], ['member_added', 'ann'], ['member_added', 'bo'],
    ['member_removed', 'ann'], ['member_removed', 'bo'], ['channel_vacated'],
  ]);
  // Every request is signed and valid (the receiver checks with the pusher library).
  assert.ok(rx.got.every((r) => r.hook.isValid()));
});

test('a node killed with subscribers: a survivor reports what it left, once', async () => {
  const rx = await receiver();
  const [a, b] = await twoNodes(rx);
  // On B only: a channel (vacated when B dies) and a member (removed when B dies).
  const cy = hookClient(b.port, 'cy');
  await subscribe(cy, 'presence-kill');
  await subscribe(cy, 'only-on-b');
  await rx.until(() => story(rx, 'presence-kill').length >= 2, 'occupied, cy added');
  // On A too: the channel stays occupied through B's death.
  const di = hookClient(a.port, 'di');
  await subscribe(di, 'presence-kill');
  await rx.until(() => story(rx, 'presence-kill').length >= 3 &&
    story(rx, 'only-on-b').length >= 1, 'occupied, cy and di added');
  const t0 = Date.now();
  await b.kill();
  await within(rx.until(() => story(rx, 'presence-kill').length >= 4 &&
    story(rx, 'only-on-b').length >= 2, 'the dead node\'s ends reported'),
  (LEASE_S * 4 + 5) * 1000, 'ends of the killed node');
  const took = Date.now() - t0;
  assert.ok(took < LEASE_S * 1000 * 2 + 3000, `reported ${took} ms after the kill`);
  // di leaves A: the last holder; the channel is vacated once.
  di.disconnect();
  await rx.until(() => story(rx, 'presence-kill').length >= 6, 'di removed, channel vacated');
  await settle(rx, [a], 'after');
  assert.deepEqual(story(rx, 'presence-kill'), [
    ['channel_occupied'], ['member_added', 'cy'], ['member_added', 'di'],
    ['member_removed', 'cy'], ['member_removed', 'di'], ['channel_vacated'],
  ]);
  assert.deepEqual(story(rx, 'only-on-b'), [['channel_occupied'], ['channel_vacated']]);
});
