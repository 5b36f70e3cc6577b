// The real Pusher clients against the herald binary: pusher-js 8 (the browser and Node client
// Laravel Echo drives) and the `pusher` server library (what a backend uses to authorize channels
// and users and to call the REST API). Each test starts its own server (two loops, so clients
// land on different loops) and waits on events, never on time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import PusherServer from 'pusher';
import { APP, client, connected, next, restClient, signedFetch, server, startHerald, subscribed,
  track, within } from './harness.mjs';

test('apps from $HERALD_PUSHER_APPS: served, their secrets never on the command line', async () => {
  const envApp = { id: '42', key: 'env-key', secret: 'env-secret-9876' };
  const s = await server([], { env: {
    HERALD_PUSHER_APPS: ` ${envApp.id}:${envApp.key}:${envApp.secret}\n43:other-key:other-secret-1 ` } });
  const signer = new PusherServer({ appId: envApp.id, key: envApp.key, secret: envApp.secret,
    host: '127.0.0.1', port: String(s.port), useTLS: false });
  const p = track(client(s.port, { key: envApp.key, signer, user: 'e' }));
  await connected(p);
  const { ch } = await subscribed(p, 'private-env');
  const got = next(ch, 'hello', 'an event through the env app\'s REST API');
  await signer.trigger('private-env', 'hello', { ok: true });
  assert.deepEqual((await got).data, { ok: true });
  const cmdline = fs.readFileSync(`/proc/${s.pid}/cmdline`, 'utf8');
  assert.ok(!cmdline.includes(envApp.secret), 'the secret is not in the command line');
  // The flag's app is still there beside them.
  const q = track(client(s.port));
  await connected(q);
  // A malformed entry stops the start with one line.
  await assert.rejects(startHerald([], { env: { HERALD_PUSHER_APPS: '1:only-two' } }),
    /pusher|ID:KEY:SECRET|app/i);
});

test('connection_established: socket_id as the server libraries require', async () => {
  const s = await server();
  const p = track(client(s.port));
  const socketId = await connected(p);
  assert.match(socketId, /^\d+\.\d+$/);
  // The server library's own check accepts it.
  const auth = restClient(s.port).authorizeChannel(socketId, 'private-a');
  assert.match(auth.auth, /^key-one:[0-9a-f]{64}$/);
});

test('public, private and presence channels get events from trigger()', async () => {
  const s = await server();
  const rest = restClient(s.port);
  const p = track(client(s.port, { user: 'u1', info: { name: 'Ann' } }));
  await connected(p);
  const { ch: pub } = await subscribed(p, 'public-news');
  const { ch: priv } = await subscribed(p, 'private-orders');
  const { ch: pres, data: members } = await subscribed(p, 'presence-room');
  assert.equal(members.count, 1);
  assert.deepEqual(members.me, { id: 'u1', info: { name: 'Ann' } });
  for (const [ch, name] of [[pub, 'public-news'], [priv, 'private-orders'], [pres, 'presence-room']]) {
    const got = next(ch, 'update', `update on ${name}`);
    const res = await rest.trigger(name, 'update', { n: name });
    assert.equal(res.status, 200);
    assert.deepEqual((await got).data, { n: name });
  }
  // One event to several channels at once.
  const a = next(pub, 'multi');
  const b = next(priv, 'multi');
  await rest.trigger(['public-news', 'private-orders'], 'multi', 'x');
  assert.equal((await a).data, 'x');
  assert.equal((await b).data, 'x');
});

test('trigger with socket_id skips that socket (toOthers) and reaches the others', async () => {
  const s = await server();
  const rest = restClient(s.port);
  const a = track(client(s.port));
  const b = track(client(s.port));
  const aId = await connected(a);
  await connected(b);
  const { ch: chA } = await subscribed(a, 'orders');
  const { ch: chB } = await subscribed(b, 'orders');
  let aGot = 0;
  chA.bind('placed', () => { aGot += 1; });
  const bGot = next(chB, 'placed');
  await rest.trigger('orders', 'placed', { id: 1 }, { socket_id: aId });
  assert.deepEqual((await bGot).data, { id: 1 });
  // A later event without socket_id reaches A: had the first reached it, it came before.
  const aLater = next(chA, 'second');
  await rest.trigger('orders', 'second', {});
  await aLater;
  assert.equal(aGot, 0);
});

test('presence: member_added for a first connection only, member_removed after the last', async () => {
  const s = await server();
  const watcher = track(client(s.port, { user: 'w', info: { r: 'watch' } }));
  await connected(watcher);
  const { ch } = await subscribed(watcher, 'presence-lobby');
  const added = [];
  const removed = [];
  ch.bind('pusher:member_added', (m) => added.push(m.id));
  ch.bind('pusher:member_removed', (m) => removed.push(m.id));

  const u2a = track(client(s.port, { user: 'u2', info: { n: 1 } }));
  await connected(u2a);
  const firstAdded = next(ch, 'pusher:member_added', 'member_added u2');
  await subscribed(u2a, 'presence-lobby');
  assert.equal((await firstAdded).data.id, 'u2');
  // A second connection of u2 (on either loop): no member_added. A third user's join, which
  // comes after it, proves the second join was processed.
  const u2b = track(client(s.port, { user: 'u2', info: { n: 1 } }));
  await connected(u2b);
  const { data: seen } = await subscribed(u2b, 'presence-lobby');
  assert.equal(seen.count, 2);
  const u3 = track(client(s.port, { user: 'u3' }));
  await connected(u3);
  const thirdAdded = next(ch, 'pusher:member_added', 'member_added u3');
  await subscribed(u3, 'presence-lobby');
  assert.equal((await thirdAdded).data.id, 'u3');
  assert.deepEqual(added, ['u2', 'u3']);

  // u2 leaves one connection: still present. Then u3 leaves (removed), then u2's last.
  u2a.disconnect();
  const u3Removed = next(ch, 'pusher:member_removed', 'member_removed u3');
  u3.disconnect();
  assert.equal((await u3Removed).data.id, 'u3');
  assert.deepEqual(removed, ['u3']);
  const u2Removed = next(ch, 'pusher:member_removed', 'member_removed u2');
  u2b.disconnect();
  assert.equal((await u2Removed).data.id, 'u2');
  assert.deepEqual(removed, ['u3', 'u2']);
  assert.equal(ch.members.count, 1);
});

test('client events: to the others with user_id, never echoed, only on private/presence', async () => {
  const s = await server();
  const a = track(client(s.port, { user: 'alice' }));
  const b = track(client(s.port, { user: 'bob' }));
  await connected(a);
  await connected(b);
  const { ch: chA } = await subscribed(a, 'presence-chat');
  const { ch: chB } = await subscribed(b, 'presence-chat');
  let echoed = 0;
  chA.bind('client-typing', () => { echoed += 1; });
  const got = next(chB, 'client-typing');
  assert.equal(chA.trigger('client-typing', { typing: true }), true);
  const { data, meta } = await got;
  assert.deepEqual(data, { typing: true });
  assert.equal(meta.user_id, 'alice');
  // B answers; A receives it, and by then A's own event would have arrived if echoed.
  const back = next(chA, 'client-reply');
  chB.trigger('client-reply', {});
  await back;
  assert.equal(echoed, 0);

  // On a public channel: refused with 4302, and the connection goes on.
  const { ch: pub } = await subscribed(a, 'public-open');
  const err = next(a.connection, 'error', 'error 4302');
  pub.trigger('client-nope', {});
  assert.equal((await err).data.data.code, 4302);
  assert.equal(a.connection.state, 'connected');
});

test('client events over the rate get 4301; the connection stays', async () => {
  const s = await server();
  const a = track(client(s.port, { user: 'a' }));
  await connected(a);
  const { ch } = await subscribed(a, 'private-flood');
  const err = next(a.connection, 'error', 'error 4301');
  for (let i = 0; i < 40; i += 1) {
    ch.trigger('client-burst', { i });
  }
  assert.equal((await err).data.data.code, 4301);
  const { ch: again } = await subscribed(a, 'public-after');
  assert.ok(again.subscribed);
});

test('signin, sendToUser and terminateUserConnections', async () => {
  const s = await server();
  const rest = restClient(s.port);
  const p = track(client(s.port, { user: 'user-7', info: { plan: 'pro' } }));
  await connected(p);
  const signedIn = next(p.connection, 'message', 'signin_success');
  p.signin();
  const msg = (await signedIn).data;
  assert.equal(msg.event, 'pusher:signin_success');
  await within(p.user.signinDonePromise, 5000, 'signin done');
  await within(new Promise((resolve) => {
    const check = () => (p.user.serverToUserChannel?.subscribed ? resolve() : setTimeout(check, 10));
    check();
  }), 5000, 'server-to-user channel subscribed');
  const personal = next(p.user, 'notice', 'sendToUser');
  await rest.sendToUser('user-7', 'notice', { text: 'hi' });
  assert.deepEqual((await personal).data, { text: 'hi' });

  const closed = within(new Promise((resolve) => {
    p.connection.bind('state_change', ({ current }) => {
      if (current === 'disconnected' || current === 'failed' || current === 'unavailable') {
        resolve(current);
      }
    });
  }), 5000, 'terminated');
  const res = await rest.terminateUserConnections('user-7');
  assert.equal(res.status, 200);
  await closed;
});

test('REST: triggerBatch, get channels (prefix, counts), channel info and users', async () => {
  const s = await server();
  const rest = restClient(s.port);
  const a = track(client(s.port, { user: 'x' }));
  const b = track(client(s.port, { user: 'y' }));
  await connected(a);
  await connected(b);
  const { ch: one } = await subscribed(a, 'presence-team');
  await subscribed(b, 'presence-team');
  await subscribed(b, 'public-board');
  const e1 = next(one, 'batched');
  const res = await rest.triggerBatch([
    { channel: 'presence-team', name: 'batched', data: { k: 1 } },
    { channel: 'public-board', name: 'batched', data: { k: 2 } },
  ]);
  assert.equal(res.status, 200);
  assert.deepEqual((await e1).data, { k: 1 });

  const all = await (await rest.get({ path: '/channels', params: { info: 'subscription_count' } })).json();
  assert.deepEqual(all.channels, {
    'presence-team': { subscription_count: 2 },
    'public-board': { subscription_count: 1 },
  });
  const pres = await (await rest.get({ path: '/channels',
    params: { filter_by_prefix: 'presence-', info: 'user_count' } })).json();
  assert.deepEqual(pres.channels, { 'presence-team': { user_count: 2 } });
  const info = await (await rest.get({ path: '/channels/presence-team',
    params: { info: 'user_count,subscription_count' } })).json();
  assert.deepEqual(info, { occupied: true, user_count: 2, subscription_count: 2 });
  const empty = await (await rest.get({ path: '/channels/nobody-here' })).json();
  assert.deepEqual(empty, { occupied: false });
  const users = await (await rest.get({ path: '/channels/presence-team/users' })).json();
  assert.deepEqual(users, { users: [{ id: 'x' }, { id: 'y' }] });
});

test('REST refuses a bad signature, a stale timestamp and a changed body', async () => {
  const s = await server();
  const forged = restClient(s.port, { secret: 'not-the-secret' });
  await assert.rejects(forged.trigger('c', 'e', {}), (e) => e.status === 401);
  const body = JSON.stringify({ name: 'e', channels: ['c'], data: '{}' });
  const good = await signedFetch(s.port, 'POST', `/apps/${APP.id}/events`, { body });
  assert.equal(good.status, 200, good.body);
  const stale = await signedFetch(s.port, 'POST', `/apps/${APP.id}/events`,
    { body, timestamp: Math.floor(Date.now() / 1000) - 601 });
  assert.equal(stale.status, 401);
  assert.match(stale.body, /auth_timestamp/);
  const changed = await signedFetch(s.port, 'POST', `/apps/${APP.id}/events`,
    { body, tamper: (b) => b.replace('"e"', '"f"') });
  assert.equal(changed.status, 401);
  assert.match(changed.body, /body_md5/);
  const unsigned = await fetch(`http://127.0.0.1:${s.port}/apps/${APP.id}/channels`);
  assert.equal(unsigned.status, 400);
  const wrongApp = await signedFetch(s.port, 'GET', '/apps/999/channels');
  assert.equal(wrongApp.status, 404);
  const tooMany = await signedFetch(s.port, 'POST', `/apps/${APP.id}/events`, {
    body: JSON.stringify({ name: 'e', data: '1',
      channels: Array.from({ length: 101 }, (_, i) => `c${i}`) }) });
  assert.equal(tooMany.status, 400);
  const notJson = await signedFetch(s.port, 'POST', `/apps/${APP.id}/events`, { body: '{nope' });
  assert.equal(notJson.status, 400);
});

test('bad input gets its documented error; the connection and the others go on', async () => {
  const s = await server();
  const bystander = track(client(s.port));
  await connected(bystander);
  const { ch: watch } = await subscribed(bystander, 'public-calm');
  const p = track(client(s.port, { user: 'z' }));
  await connected(p);
  const expectError = async (raw, code, what) => {
    const err = next(p.connection, 'error', what);
    p.connection.send(raw);
    assert.equal((await err).data.data.code, code, what);
  };
  await expectError('{not json', 4300, 'malformed JSON');
  await expectError('[1,2]', 4300, 'not an object');
  await expectError('{"data":{}}', 4300, 'no event');
  await expectError('{"event":"pusher:frobnicate","data":{}}', 4304, 'unknown event');

  const longName = 'x'.repeat(201);
  const tooLong = next(p.connection, 'message', 'subscription_error for a long name');
  p.connection.send(JSON.stringify({ event: 'pusher:subscribe', data: { channel: longName } }));
  const e1 = (await tooLong).data;
  assert.equal(e1.event, 'pusher:subscription_error');
  assert.equal(e1.data.status, 400);

  const rest = restClient(s.port);
  const sid = p.connection.socket_id;
  const badData = 'not json';
  const sig = rest.authorizeChannel(sid, 'presence-bad', { user_id: 'z' }).auth.split(':')[1];
  void sig;
  // Signed over the bad channel_data, so only the JSON check can refuse it.
  const crypto = await import('node:crypto');
  const auth = `${APP.key}:${crypto.createHmac('sha256', APP.secret)
    .update(`${sid}:presence-bad:${badData}`).digest('hex')}`;
  const notJson = next(p.connection, 'message', 'subscription_error for channel_data');
  p.connection.send(JSON.stringify({ event: 'pusher:subscribe',
    data: { channel: 'presence-bad', auth, channel_data: badData } }));
  const e2 = (await notJson).data;
  assert.equal(e2.event, 'pusher:subscription_error');
  assert.equal(e2.channel, 'presence-bad');
  assert.equal(e2.data.status, 400);

  // A forged signature, through pusher-js itself: the channel's error event fires (Echo's
  // .error()).
  const forger = track(client(s.port, { signer: restClient(s.port, { secret: 'forged-secret!' }) }));
  await connected(forger);
  const refused = next(forger.subscribe('private-vault'), 'pusher:subscription_error', 'forged');
  assert.equal((await refused).data.status, 401);

  // Everyone goes on: p subscribes and receives, the bystander too.
  const { ch: after1 } = await subscribed(p, 'public-calm');
  const e3 = next(after1, 'still');
  const e4 = next(watch, 'still');
  await rest.trigger('public-calm', 'still', 'here');
  assert.equal((await e3).data, 'here');
  assert.equal((await e4).data, 'here');
  const m = await (await fetch(`http://127.0.0.1:${s.port}/metrics`)).text();
  assert.match(m, /herald_pusher_bad_messages_total [1-9]/);
  assert.match(m, /herald_pusher_subscription_errors_total [1-9]/);
});

test('an unknown app key is refused with 4001 and not retried', async () => {
  const s = await server();
  const p = track(client(s.port, { key: 'no-such-key' }));
  const state = await within(new Promise((resolve) => {
    p.connection.bind('state_change', ({ current }) => {
      if (current === 'failed' || current === 'disconnected') {
        resolve(current);
      }
    });
  }), 5000, 'refused');
  assert.ok(state === 'failed' || state === 'disconnected');
  const m = await (await fetch(`http://127.0.0.1:${s.port}/metrics`)).text();
  assert.match(m, /herald_pusher_refused_connections_total [1-9]/);
});

test('one engine: a publish through Herald\'s API reaches pusher-js, and back', async () => {
  const s = await server();
  const p = track(client(s.port));
  await connected(p);
  const { ch } = await subscribed(p, 'public-mixed');
  const shaped = next(ch, 'from-herald');
  let res = await fetch(`http://127.0.0.1:${s.port}/api/publish`, { method: 'POST',
    body: JSON.stringify({ channel: 'pusher-1:public-mixed',
      data: { event: 'from-herald', data: '{"ok":true}' } }) });
  assert.equal(res.status, 200, await res.text());
  assert.deepEqual((await shaped).data, { ok: true });
  const plain = next(ch, 'message');
  res = await fetch(`http://127.0.0.1:${s.port}/api/publish`, { method: 'POST',
    body: JSON.stringify({ channel: 'pusher-1:public-mixed', data: { any: 'thing' } }) });
  assert.equal(res.status, 200);
  assert.deepEqual((await plain).data, { any: 'thing' });
  // A REST event is in the Herald channel's history as {"event","data"}.
  await restClient(s.port).trigger('public-mixed', 'stored', { v: 2 });
  res = await fetch(`http://127.0.0.1:${s.port}/api/history`, { method: 'POST',
    body: JSON.stringify({ channel: 'pusher-1:public-mixed', limit: 1, reverse: true }) });
  const h = await res.json();
  const last = h.result.publications.at(-1).data;
  assert.equal(last.event, 'stored');
  assert.deepEqual(JSON.parse(last.data), { v: 2 });
});

test('cache- channels replay the last event, or pusher:cache_miss', async () => {
  const s = await server();
  const rest = restClient(s.port);
  const p = track(client(s.port));
  await connected(p);
  const miss = within(new Promise((resolve) => {
    p.connection.bind('message', (ev) => {
      if (ev.event === 'pusher:cache_miss') {
        resolve(ev);
      }
    });
  }), 5000, 'cache_miss');
  p.subscribe('cache-weather');
  const m = await miss;
  assert.equal(m.channel, 'cache-weather');
  await rest.trigger('cache-weather', 'forecast', { sun: true });
  const q = track(client(s.port));
  await connected(q);
  const replayed = next(q.subscribe('cache-weather'), 'forecast', 'replayed');
  assert.deepEqual((await replayed).data, { sun: true });
});
