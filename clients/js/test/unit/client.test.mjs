// The client's commands: timeouts (a command with no reply rejects and ends the connection),
// keepalive pings from the server's announced interval, commands waiting for a connection, what
// the connection's end does to commands in flight, and how commands are batched into frames.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ClientCode, Emitter, Herald, HeraldError } from '../../src/index.js';
import { fakeSetup, tick } from '../helpers/fake.mjs';

async function connected(options = {}, serverOptions = {}) {
  const s = await fakeSetup(Herald, { timeout: 5000, ...options }, serverOptions);
  s.client.connect();
  await s.clock.advance(0);
  assert.equal(s.client.state, 'connected');
  return s;
}

test('publish, presence, history and presenceStats reach the server and resolve with its result',
  async () => {
    const { client, net, server } = await connected();
    server.onCommand = (t, cmd) => {
      if (cmd.method === 'presence_stats') {
        return { id: cmd.id, result: { num_clients: 3, num_users: 2 } };
      }
      if (cmd.method === 'history' || cmd.method === 'presence') {
        return { id: cmd.id, result: { echo: cmd.params } };
      }
      return undefined;
    };
    assert.deepEqual(await client.publish('news', { a: 1 }, { idempotencyKey: 'k1' }),
      { offset: 1, epoch: 'e1' });
    assert.deepEqual(await client.presenceStats('news'), { numClients: 3, numUsers: 2 });
    assert.deepEqual(await client.history('news', { limit: 2, reverse: true }),
      { echo: { channel: 'news', limit: 2, reverse: true } });
    assert.deepEqual(await client.presence('news'), { echo: { channel: 'news' } });
    const publish = net.last.commands().find((c) => c.method === 'publish');
    assert.deepEqual(publish.params, { channel: 'news', data: { a: 1 }, idempotency_key: 'k1' });
    await assert.rejects(client.publish('news'), TypeError);
  });

test('an error reply rejects with HeraldError carrying code and temporary', async () => {
  const { client, server } = await connected();
  server.onCommand = (t, cmd) => ({ id: cmd.id, error: { code: 113, message: 'too many requests',
    temporary: true } });
  const err = await client.publish('news', 1).catch((e) => e);
  assert.ok(err instanceof HeraldError);
  assert.equal(err.code, 113);
  assert.equal(err.temporary, true);
  assert.equal(client.state, 'connected', 'an error reply does not end the connection');
});

test('a command without a reply times out, and the connection is treated as dead', async () => {
  const { client, clock, net, server, events } = await connected();
  server.mute = true;
  const p = client.publish('news', 1);
  let err = null;
  p.catch((e) => { err = e; });
  await clock.advance(4999);
  assert.equal(err, null);
  await clock.advance(1);
  assert.equal(err.code, ClientCode.TIMEOUT);
  assert.equal(net.transports[0].closedBy, 'client');
  assert.equal(client.state, 'connecting');
  assert.equal(events.at(-1)[0], 'connecting');
  assert.equal(events.at(-1)[1].code, ClientCode.TIMEOUT);
  server.mute = false;
  await clock.advance(clock.nextIn());
  assert.equal(client.state, 'connected');
  assert.equal(net.transports.length, 2);
});

test('a transport that never opens times out and is retried', async () => {
  const { client, clock, net, events } = await fakeSetup(Herald, { timeout: 3000 });
  client._chain.current.behaviour = 'manual'; // the fake transport never opens by itself
  client.connect();
  await clock.advance(3000);
  assert.equal(net.transports[0].closedBy, 'client');
  const err = events.find(([n]) => n === 'error');
  assert.equal(err[1].type, 'transport');
  assert.equal(err[1].error.code, ClientCode.TIMEOUT);
  await clock.advance(clock.nextIn());
  assert.equal(net.transports.length, 2);
});

test('keepalive: a ping after `ping` seconds of silence; no answer is a dead connection',
  async () => {
    const { client, clock, net, server } = await connected({}, { ping: 25 });
    const pings = () => net.last.commands().filter((c) => c.method === 'ping').length;
    await clock.advance(20000);
    net.last.receive({ push: 'join', channel: 'x' }); // any frame is a sign of life...
    await clock.advance(24999); // ...so 45 s after connect the silence is only 24.999 s
    assert.equal(pings(), 0);
    await clock.advance(1);
    assert.equal(pings(), 1);
    await clock.advance(25000);
    assert.equal(pings(), 2, 'answered pings keep the connection');
    assert.equal(client.state, 'connected');
    server.mute = true;
    await clock.advance(25000);
    assert.equal(pings(), 3);
    await clock.advance(4999);
    assert.equal(client.state, 'connected');
    await clock.advance(1);
    assert.equal(client.state, 'connecting', 'ping + timeout of silence: dead');
    assert.equal(net.transports.length, 1);
  });

test('keepalive off when the server announces no ping interval', async () => {
  const { client, clock, net } = await connected({}, { ping: 0 });
  await clock.advance(10 * 60 * 1000);
  assert.equal(net.last.commands().filter((c) => c.method === 'ping').length, 0);
  assert.equal(client.state, 'connected');
});

test('commands wait while connecting, are sent once connected, or time out waiting', async () => {
  const { client, clock, net } = await fakeSetup(Herald, { timeout: 5000 });
  await assert.rejects(client.publish('a', 1), (e) => e.code === ClientCode.NOT_CONNECTED);
  client._chain.current.behaviour = 'manual';
  client.connect();
  const early = client.publish('a', 'early');
  const late = client.publish('a', 'late').catch((e) => e);
  await clock.advance(4000);
  net.last.accept();
  await clock.advance(0);
  assert.deepEqual(await early, { offset: 1, epoch: 'e1' });
  assert.deepEqual(await late, { offset: 2, epoch: 'e1' });
  client.disconnect();
  client.connect(); // manual: never opens
  const never = client.publish('a', 'never').catch((e) => e);
  await clock.advance(4999);
  client.disconnect();
  assert.equal((await never).code, ClientCode.NOT_CONNECTED,
    'disconnect() rejects waiting commands');
});

test('commands in flight when the connection drops reject with CONNECTION_CLOSED', async () => {
  const { client, clock, net, server } = await connected();
  server.mute = true;
  const p = client.publish('a', 1).catch((e) => e);
  await clock.advance(0);
  net.last.serverClose(1006);
  const err = await p;
  assert.equal(err.code, ClientCode.CONNECTION_CLOSED);
  assert.equal(err.temporary, true);
});

test('commands of one turn share frames of at most 100 commands', async () => {
  const { client, clock, net } = await connected();
  const before = net.last.sent.length;
  const all = Array.from({ length: 250 }, (_, i) => client.publish('a', i));
  await clock.advance(0);
  const frames = net.last.sent.slice(before);
  assert.deepEqual(frames.map((f) => f.split('\n').length), [100, 100, 50]);
  const results = await Promise.all(all);
  assert.deepEqual(results.map((r) => r.offset), Array.from({ length: 250 }, (_, i) => i + 1));
  const big = 'x'.repeat(200 * 1024);
  const before2 = net.last.sent.length;
  await Promise.all([client.publish('a', big), client.publish('a', big), client.publish('a', 1)]);
  assert.deepEqual(net.last.sent.slice(before2).map((f) => f.split('\n').length), [1, 2],
    'a frame stops growing past 256 Ki units');
});

test('a frame of several lines: replies and pushes are each handled, junk reported', async () => {
  const { client, clock, net, events } = await connected();
  const sub = client.subscribe('a');
  await clock.advance(0);
  const seen = [];
  sub.on('publication', (p) => seen.push(p.data));
  net.last.receive({ push: 'message', channel: 'a', offset: 1, epoch: 'e1', data: 'x' },
    '', 'not json', { push: 'future-type', channel: 'a' },
    { push: 'message', channel: 'a', offset: 2, epoch: 'e1', data: 'y' },
    { id: 0, error: { code: 100, message: 'bad request', temporary: false } });
  assert.deepEqual(seen, ['x', 'y']);
  const errs = events.filter(([n]) => n === 'error').map(([, e]) => e.type);
  assert.deepEqual(errs, ['protocol', 'protocol']);
});

test('state events: connecting, connected with the connect result, disconnected', async () => {
  const { client, clock, events } = await fakeSetup(Herald);
  const states = [];
  client.on('state', (e) => states.push(e.state));
  client.connect();
  await clock.advance(0);
  await client.ready();
  assert.equal(client.clientId, 'c1');
  assert.equal(client.transport, 'fake');
  client.disconnect();
  assert.deepEqual(states, ['connecting', 'connected', 'disconnected']);
  assert.deepEqual(events.map(([n]) => n), ['connecting', 'connected', 'disconnected']);
  assert.deepEqual(events[1][1], { client: 'c1', version: 'fake', transport: 'fake', url: null,
    ping: 25, pong: true });
  assert.deepEqual(events[2][1],
    { code: ClientCode.DISCONNECT_CALLED, reason: 'disconnect called' });
  await assert.rejects(client.ready());
});

test('Emitter: on/once/off, and a throwing listener does not stop the others', async () => {
  const e = new Emitter();
  const got = [];
  const off = e.on('x', (v) => got.push(['a', v]));
  e.once('x', (v) => got.push(['once', v]));
  const offBug = e.on('x', () => { throw new Error('listener bug'); });
  e.on('x', (v) => got.push(['b', v]));
  // The listener's exception is re-thrown from a microtask; catch that microtask here.
  const deferred = [];
  const real = globalThis.queueMicrotask;
  globalThis.queueMicrotask = (fn) => deferred.push(fn);
  try {
    e.emit('x', 1);
  } finally {
    globalThis.queueMicrotask = real;
  }
  off();
  offBug();
  e.emit('x', 2);
  assert.equal(deferred.length, 1);
  assert.throws(deferred[0], /listener bug/);
  await tick();
  assert.deepEqual(got, [['a', 1], ['once', 1], ['b', 1], ['b', 2]]);
  assert.equal(e.emit('nothing'), false);
});

test('connect data that is not JSON is refused by the constructor, not at every attempt', () => {
  assert.throws(() => new Herald(null, { transports: [{ name: 'x', create() {} }], data: 1n }),
    /data must be a JSON value/);
});
