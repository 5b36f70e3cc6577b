// The history extension (docs/PUSHER.md, "History for reconnecting clients") with pusher-js 8: a
// client opts in by adding "herald_since" to its pusher:subscribe (here by wrapping pusher-js's
// send_event, as the documented recipe does), reads each event's "herald_position" from the raw
// frames, and after a reconnect gets what it missed, in order, before live events. A stock
// client on the same channel sees frames without any of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Pusher from 'pusher-js';
import PusherServer from 'pusher';
import { APP, onCleanup, startHerald, within } from './harness.mjs';

const HIST = { id: '8', key: 'hist-key', secret: 'hist-secret-123' };

async function server() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-hist-'));
  const config = path.join(dir, 'herald.yaml');
  fs.writeFileSync(config, `pusher:\n  apps:\n    - ${JSON.stringify({ ...HIST, history: 100 })}\n`);
  const s = await startHerald(['--config', config]);
  onCleanup(async () => {
    await s.stop().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return s;
}

// A pusher-js client of app `app`; since(name) gives the herald_since to send for a channel
// (undefined: a stock subscribe). raw: every frame as the server sent it, parsed.
function client(port, { app = HIST, since = () => undefined, user = 'u' } = {}) {
  const signer = new PusherServer({ appId: app.id, key: app.key, secret: app.secret });
  const p = new Pusher(app.key, {
    wsHost: '127.0.0.1', wsPort: port, forceTLS: false, enabledTransports: ['ws'],
    cluster: 'local', disableStats: true,
    channelAuthorization: {
      customHandler: (params, cb) => cb(null, signer.authorizeChannel(params.socketId,
        params.channelName, params.channelName.startsWith('presence-')
          ? { user_id: user } : undefined)),
    },
  });
  const send = p.send_event.bind(p);
  p.send_event = (name, data, channel) => {
    const s = name === 'pusher:subscribe' ? since(data.channel) : undefined;
    return send(name, s === undefined ? data : { ...data, herald_since: s }, channel);
  };
  const raw = [];
  p.connection.bind('connected', () => {
    p.connection.connection.transport.bind('message', (ev) => raw.push(JSON.parse(ev.data)));
  });
  onCleanup(async () => p.disconnect());
  return { p, raw };
}

function subscribed(p, name) {
  const ch = p.subscribe(name);
  return within(new Promise((resolve, reject) => {
    ch.bind('pusher:subscription_succeeded', () => resolve(ch));
    ch.bind('pusher:subscription_error', (e) => reject(Object.assign(new Error('refused'), { e })));
  }), 5000, `subscribe ${name}`);
}

function collect(ch, event, n) {
  const got = [];
  return within(new Promise((resolve) => {
    ch.bind(event, (d) => {
      got.push(d);
      if (got.length === n) {
        resolve(got);
      }
    });
  }), 5000, `${n} ${event} events`);
}

test('a reconnecting client gets what it missed, in order, before live events', async () => {
  const s = await server();
  const rest = new PusherServer({ appId: HIST.id, key: HIST.key, secret: HIST.secret,
    host: '127.0.0.1', port: String(s.port), useTLS: false });
  const a = client(s.port, { since: () => ({}) });
  const stock = client(s.port);
  const chA = await subscribed(a.p, 'orders');
  const chStock = await subscribed(stock.p, 'orders');
  const first = collect(chA, 'placed', 3);
  const stockGot = collect(chStock, 'placed', 3);
  for (let i = 1; i <= 3; i += 1) {
    await rest.trigger('orders', 'placed', { i });
  }
  assert.deepEqual((await first).map((d) => d.i), [1, 2, 3]);
  await stockGot;
  const ok = a.raw.find((f) => f.event === 'pusher_internal:subscription_succeeded');
  assert.equal(ok.herald_position.offset, 0);
  assert.equal(ok.herald_recovered, undefined);  // {} asks for positions, not for a replay
  const positions = a.raw.filter((f) => f.event === 'placed').map((f) => f.herald_position);
  assert.deepEqual(positions.map((p) => p.offset), [1, 2, 3]);
  const last = positions.at(-1);
  // The stock client's frames are Pusher's, without a trace of the extension.
  assert.ok(stock.raw.length > 0);
  for (const f of stock.raw) {
    assert.ok(!JSON.stringify(f).includes('herald'), JSON.stringify(f));
  }

  // Away: two events are missed.
  a.p.disconnect();
  await rest.trigger('orders', 'placed', { i: 4 });
  await rest.trigger('orders', 'placed', { i: 5 });
  const back = client(s.port, { since: () => last });
  const replayed = [];
  const chBack = back.p.subscribe('orders');
  const all = within(new Promise((resolve) => {
    chBack.bind('placed', (d) => {
      replayed.push(d.i);
      if (replayed.length === 3) {
        resolve();
      }
    });
  }), 5000, 'replay then live');
  await within(new Promise((resolve) => chBack.bind('pusher:subscription_succeeded', resolve)),
    5000, 'resubscribed');
  await rest.trigger('orders', 'placed', { i: 6 });
  await all;
  assert.deepEqual(replayed, [4, 5, 6]);
  const ok2 = back.raw.find((f) => f.event === 'pusher_internal:subscription_succeeded');
  assert.equal(ok2.herald_recovered, true);
  assert.deepEqual(ok2.herald_position, { offset: 5, epoch: last.epoch });
  assert.deepEqual(back.raw.filter((f) => f.event === 'placed').map((f) => f.herald_position.offset),
    [4, 5, 6]);

  // A position from another epoch cannot be recovered: the client is told, and nothing replays.
  const lost = client(s.port, { since: () => ({ offset: 2, epoch: 'not-this-one' }) });
  await subscribed(lost.p, 'orders');
  const ok3 = lost.raw.find((f) => f.event === 'pusher_internal:subscription_succeeded');
  assert.equal(ok3.herald_recovered, false);
  assert.equal(ok3.herald_position.offset, 6);
  assert.equal(lost.raw.filter((f) => f.event === 'placed').length, 0);
});

test('presence channels replay too; a malformed herald_since is refused; other apps ignore it', async () => {
  const s = await server();
  const rest = new PusherServer({ appId: HIST.id, key: HIST.key, secret: HIST.secret,
    host: '127.0.0.1', port: String(s.port), useTLS: false });
  const first = client(s.port, { since: () => ({}), user: 'a' });
  await subscribed(first.p, 'presence-room');
  const epoch = first.raw.find((f) => f.event === 'pusher_internal:subscription_succeeded')
    .herald_position.epoch;
  await rest.trigger('presence-room', 'said', { n: 1 });
  await rest.trigger('presence-room', 'said', { n: 2 });
  const late = client(s.port, { since: () => ({ offset: 1, epoch }), user: 'b' });
  const ch = late.p.subscribe('presence-room');
  const got = collect(ch, 'said', 1);
  assert.deepEqual((await got).map((d) => d.n), [2]);
  assert.equal(ch.members.count, 2);
  const ok = late.raw.find((f) => f.event === 'pusher_internal:subscription_succeeded');
  assert.equal(ok.herald_recovered, true);

  const bad = client(s.port, { since: () => 'yesterday' });
  await assert.rejects(subscribed(bad.p, 'news'), (err) => {
    assert.equal(err.e.type, 'InvalidHistoryPosition');
    assert.equal(err.e.status, 400);
    return true;
  });

  // The default app (history off) answers as stock Pusher does: no position, no refusal.
  const other = client(s.port, { app: APP, since: () => 'yesterday' });
  await subscribed(other.p, 'news');
  const ok2 = other.raw.find((f) => f.event === 'pusher_internal:subscription_succeeded');
  assert.equal(ok2.herald_position, undefined);
});
