// Webhooks (docs/PUSHER.md, "Webhooks") on one node, with the receiver of hook_receiver.mjs. Each
// test starts its own herald (two loops) with a YAML config whose app has the webhook; it waits on
// the receiver and on /metrics, never on time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import PusherServer from 'pusher';
import { HOOK_APP, heraldWith, hookClient, metric, names, receiver, subscribe } from './hook_receiver.mjs';
import { within } from './harness.mjs';

test('occupied, member_added/removed, client_event and vacated: signed, batched, counted over loops', async () => {
  const rx = await receiver();
  const s = await heraldWith([{ url: rx.url, batch_ms: 300 }]);
  // Six connections over the server's two loops: u1 on three of them, u2 on the other three.
  const users = ['u1', 'u1', 'u1', 'u2', 'u2', 'u2'];
  const clients = users.map((u) => hookClient(s.port, u));
  const channels = await Promise.all(clients.map((p) => subscribe(p, 'presence-room')));
  await rx.until(() => names(rx.events(), 'member_added').length >= 2, 'two member_added');

  // A client event reaches the webhook with the sender's socket and user.
  channels[0].trigger('client-typing', { on: true });
  await rx.until(() => names(rx.events(), 'client_event').length >= 1, 'client_event');
  const ce = names(rx.events(), 'client_event')[0];
  assert.equal(ce.channel, 'presence-room');
  assert.equal(ce.event, 'client-typing');
  assert.deepEqual(JSON.parse(ce.data), { on: true });
  assert.equal(ce.socket_id, clients[0].connection.socket_id);
  assert.equal(ce.user_id, 'u1');

  // u1 leaves on all three connections, one after the other: one member_removed, after the last.
  clients[0].disconnect();
  clients[1].disconnect();
  clients[2].disconnect();
  await rx.until(() => names(rx.events(), 'member_removed').length >= 1, 'member_removed u1');
  for (const p of clients.slice(3)) {
    p.disconnect();
  }
  await rx.until(() => names(rx.events(), 'channel_vacated').length >= 1, 'channel_vacated');
  // A marker channel, occupied and vacated after everything above has happened.
  const marker = hookClient(s.port, 'm');
  await subscribe(marker, 'marker');
  marker.disconnect();
  await rx.until(() => rx.events().some((e) => e.name === 'channel_vacated' &&
    e.channel === 'marker'), 'marker vacated');

  const events = rx.events().filter((e) => e.channel === 'presence-room');
  assert.deepEqual(names(events, 'channel_occupied'), [{ name: 'channel_occupied', channel: 'presence-room' }]);
  assert.deepEqual(names(events, 'channel_vacated'), [{ name: 'channel_vacated', channel: 'presence-room' }]);
  assert.deepEqual(names(events, 'member_added').map((e) => e.user_id).sort(), ['u1', 'u2']);
  assert.deepEqual(names(events, 'member_removed').map((e) => e.user_id), ['u1', 'u2']);
  // Order per channel: occupied first, vacated last, each member added before removed.
  assert.equal(events[0].name, 'channel_occupied');
  assert.equal(events.at(-1).name, 'channel_vacated');

  // Every request as Pusher sends it: POST to the URL's path, JSON, signed with key and secret.
  for (const r of rx.got) {
    assert.equal(r.path, '/hooks/pusher?x=1');
    assert.equal(r.headers['x-pusher-key'], HOOK_APP.key);
    assert.ok(r.hook.isValid(), `signature of ${r.rawBody}`);
    assert.equal(typeof r.hook.getTime().getTime(), 'number');
    assert.ok(Math.abs(Date.now() - JSON.parse(r.rawBody).time_ms) < 60000);
  }
  // Batched: the events of one 300 ms window share a request (u2's last connection leaving
  // makes member_removed and channel_vacated within a millisecond).
  const last = rx.got.find((r) => r.hook.getEvents().some((e) => e.name === 'channel_vacated' &&
    e.channel === 'presence-room'));
  assert.deepEqual(last.hook.getEvents().filter((e) => e.channel === 'presence-room')
    .map((e) => e.name), ['member_removed', 'channel_vacated']);
  assert.ok(rx.got.length < rx.events().length,
    `${rx.events().length} events in ${rx.got.length} requests`);
  // A forged signature is what the library refuses (the check above can fail).
  const forged = new PusherServer({ appId: HOOK_APP.id, key: HOOK_APP.key, secret: 'other-secret' })
    .webhook({ headers: rx.got[0].headers, rawBody: rx.got[0].rawBody });
  assert.equal(forged.isValid(), false);
  assert.equal(await metric(s.port, 'herald_pusher_webhook_delivered_events_total'),
    rx.events().length);
});

test('a receiver that answers 500 for a while gets the same batch again until it takes it', async () => {
  const rx = await receiver({ statuses: [500, 500, 503] });
  const s = await heraldWith([{ url: rx.url, batch_ms: 50, events: ['channel_occupied'] }]);
  const p = hookClient(s.port, 'x');
  await subscribe(p, 'orders');
  await rx.until(() => rx.got.length >= 4, 'three failures, then success', 15000);
  // The same body, the same signature each time: one batch retried.
  const sigs = new Set(rx.got.map((r) => r.headers['x-pusher-signature']));
  assert.equal(sigs.size, 1);
  assert.deepEqual(rx.events(), [{ name: 'channel_occupied', channel: 'orders' }]);
  await within((async () => {
    while (await metric(s.port, 'herald_pusher_webhook_delivered_events_total') !== 1) {
      await new Promise((r) => setImmediate(r));
    }
  })(), 5000, 'delivered metric');
  assert.equal(await metric(s.port, 'herald_pusher_webhook_failed_attempts_total'), 3);
  // events: only channel_occupied was asked for; the vacate is not sent.
  p.disconnect();
});

test('a dead receiver does not slow fan-out; its events are dropped and counted', async () => {
  const hanging = await receiver({ hang: true });
  const s = await heraldWith([
    // Accepts and never answers: one request in flight for the whole test, the rest queue.
    { url: hanging.url, batch_ms: 10, max_queued: 5, timeout_ms: 60000 },
    // Nobody listens: refused at once, dropped after two attempts.
    { url: 'http://127.0.0.1:1/none', batch_ms: 10, max_attempts: 2 },
  ], { client_event_rate: 1000 });
  const a = hookClient(s.port, 'a');
  const b = hookClient(s.port, 'b');
  const chA = await subscribe(a, 'private-feed');
  const chB = await subscribe(b, 'private-feed');
  await hanging.until(() => hanging.got.length >= 1, 'the hanging receiver holds a request');
  // 200 client events from A, each a webhook too: B gets them all, in order, while the webhooks
  // are stuck.
  const N = 200;
  const seen = [];
  const all = within(new Promise((resolve) => {
    chB.bind('client-n', (d) => {
      seen.push(d.i);
      if (seen.length === N) {
        resolve();
      }
    });
  }), 5000, `${N} client events through while the receiver hangs`);
  const t0 = Date.now();
  for (let i = 0; i < N; i += 1) {
    chA.trigger('client-n', { i });
  }
  await all;
  const took = Date.now() - t0;
  assert.deepEqual(seen, [...Array(N).keys()]);
  assert.ok(took < 3000, `fan-out took ${took} ms`);
  assert.equal(hanging.got.length, 1);  // still the first request, unanswered
  const m = await (await fetch(`http://127.0.0.1:${s.port}/metrics`)).text();
  const dropped = (reason) => Number(m.split('\n').find((l) =>
    l.startsWith(`herald_pusher_webhook_dropped_events_total{reason="${reason}"}`)).split(' ')[1]);
  assert.ok(dropped('queue_full') >= N - 5, m);
  await within((async () => {
    for (;;) {
      const t = await (await fetch(`http://127.0.0.1:${s.port}/metrics`)).text();
      const v = Number(t.split('\n').find((l) =>
        l.startsWith('herald_pusher_webhook_dropped_events_total{reason="attempts"}')).split(' ')[1]);
      if (v >= 1) {
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })(), 10000, 'events to the refused URL dropped after max_attempts');
});

test('a webhook with an unknown event or another scheme is refused at start', async () => {
  for (const [hook, want] of [
    [{ url: 'http://127.0.0.1:9/x', events: ['channel_exploded'] }, /unknown event 'channel_exploded'/],
    [{ url: 'ftp://x/y' }, /starts with http:\/\/ or https:\/\//],
  ]) {
    await assert.rejects(heraldWith([hook]), want);
  }
});
