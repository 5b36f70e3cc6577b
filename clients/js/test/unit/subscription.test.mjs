// Subscriptions: the state machine, delivery once and in order (duplicates dropped by offset in
// the same epoch), recovery from the last position after a reconnect, `recovered: false` when
// the window is gone, gaps repaired by subscribing again, unsubscribe pushes by code range, and
// subscribe errors by `temporary`.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ClientCode, Herald } from '../../src/index.js';
import { fakeSetup, recordSub } from '../helpers/fake.mjs';

async function subscribed(channel = 'chat:a', subOptions = {}) {
  const s = await fakeSetup(Herald, { timeout: 5000 });
  const sub = s.client.newSubscription(channel, subOptions);
  const events = recordSub(sub);
  const offsets = () => events.filter(([n]) => n === 'publication').map(([, p]) => p.offset);
  sub.subscribe();
  s.client.connect();
  await s.clock.advance(0);
  return { ...s, sub, events, offsets };
}

function subscribes(t) {
  return t.commands().filter((c) => c.method === 'subscribe');
}

test('subscribing -> subscribed; publications in order with their fields', async () => {
  const { sub, server, clock, events } = await subscribed();
  assert.equal(sub.state, 'subscribed');
  assert.deepEqual(events.map(([n]) => n), ['subscribing', 'subscribed']);
  assert.deepEqual(events[0][1], { code: ClientCode.SUBSCRIBE_CALLED, reason: 'subscribe called' });
  assert.deepEqual(events[1][1], { channel: 'chat:a', epoch: 'e1', offset: 0, recoverable: true,
    recovered: false, wasRecovering: false });
  server.publish('chat:a', { text: 'one' });
  server.publish('chat:a', { text: 'two' });
  await clock.advance(0);
  assert.deepEqual(events.slice(2), [
    ['publication', { channel: 'chat:a', offset: 1, epoch: 'e1', data: { text: 'one' } }],
    ['publication', { channel: 'chat:a', offset: 2, epoch: 'e1', data: { text: 'two' } }],
  ]);
  assert.deepEqual(sub.position, { offset: 2, epoch: 'e1' });
});

test('duplicates (an offset already delivered in the same epoch) are dropped', async () => {
  const { net, offsets } = await subscribed();
  const m = (offset) => ({ push: 'message', channel: 'chat:a', offset, epoch: 'e1', data: offset });
  net.last.receive(m(1), m(2), m(2), m(1), m(3));
  net.last.receive(m(3), m(4));
  assert.deepEqual(offsets(), [1, 2, 3, 4]);
});

test('pushes in the same frame as the subscribe reply are delivered after it', async () => {
  const { client, server, clock, net } = await fakeSetup(Herald);
  client.connect();
  await clock.advance(0);
  server.channel('b').pubs.push({ offset: 1, epoch: 'e1', data: 1 });
  server.onCommand = (t, cmd) => {
    if (cmd.method !== 'subscribe') {
      return undefined;
    }
    queueMicrotask(() => t.receive(
      { id: cmd.id, result: { epoch: 'e1', offset: 1, recoverable: true, recovered: false,
        publications: [] } },
      { push: 'message', channel: 'b', offset: 2, epoch: 'e1', data: 2 }));
    return null;
  };
  const got = [];
  client.subscribe('b').on('publication', (p) => got.push(p.offset));
  await clock.advance(0);
  assert.deepEqual(got, [2]);
  assert.ok(net.last);
});

test('after a reconnect: subscribe with since, the missed ones recovered once and in order',
  async () => {
    const { sub, server, clock, net, events, offsets } = await subscribed();
    server.publish('chat:a', 1);
    server.publish('chat:a', 2);
    await clock.advance(0);
    net.last.serverClose(1006);
    assert.equal(sub.state, 'subscribing');
    assert.deepEqual(events.at(-1), ['subscribing', { code: 1006, reason: '' }]);
    server.publish('chat:a', 3); // missed while disconnected
    server.publish('chat:a', 4);
    await clock.advance(clock.nextIn());
    assert.deepEqual(subscribes(net.last)[0].params,
      { channel: 'chat:a', since: { offset: 2, epoch: 'e1' } });
    const ev = events.find(([n, e]) => n === 'subscribed' && e.wasRecovering);
    assert.equal(ev[1].recovered, true);
    server.publish('chat:a', 5);
    await clock.advance(0);
    assert.deepEqual(offsets(), [1, 2, 3, 4, 5]);
  });

test('recovered publications already delivered are not delivered again', async () => {
  const { server, clock, net, offsets } = await subscribed();
  server.publish('chat:a', 1);
  server.publish('chat:a', 2);
  await clock.advance(0);
  // A server that answers from an older position than asked: 1 and 2 come back.
  server.onCommand = (t, cmd) => (cmd.method === 'subscribe' ? { id: cmd.id, result: {
    epoch: 'e1', offset: 3, recoverable: true, recovered: true,
    publications: [1, 2, 3].map((o) => ({ offset: o, epoch: 'e1', data: o })) } } : undefined);
  net.last.serverClose(1001);
  await clock.advance(clock.nextIn());
  assert.deepEqual(offsets(), [1, 2, 3]);
});

test('the epoch changed while away: subscribed with recovered false, wasRecovering true',
  async () => {
    const { sub, server, clock, net, events, offsets } = await subscribed();
    server.publish('chat:a', 1);
    await clock.advance(0);
    net.last.serverClose(1006);
    server.channels.get('chat:a').epoch = 'e2'; // history lost
    server.channels.get('chat:a').pubs = [];
    server.publish('chat:a', 'new-1');
    await clock.advance(clock.nextIn());
    const ev = events.filter(([n]) => n === 'subscribed').at(-1)[1];
    assert.deepEqual(ev, { channel: 'chat:a', epoch: 'e2', offset: 1, recoverable: true,
      recovered: false, wasRecovering: true });
    assert.deepEqual(sub.position, { offset: 1, epoch: 'e2' }, 'continues from the new top');
    server.publish('chat:a', 'new-2');
    await clock.advance(0);
    assert.deepEqual(offsets(), [1, 2]);
    assert.equal(events.filter(([n]) => n === 'publication').at(-1)[1].epoch, 'e2');
  });

test('a gap in the pushes: error, then unsubscribe + subscribe with since fills it', async () => {
  const { sub, server, clock, net, events, offsets } = await subscribed();
  server.publish('chat:a', 1);
  await clock.advance(0);
  // The server "loses" 2 and 3 on the way (they are in its history), then pushes 4.
  const c = server.channels.get('chat:a');
  c.pubs.push({ offset: 2, epoch: 'e1', data: 2 }, { offset: 3, epoch: 'e1', data: 3 });
  server.publish('chat:a', 4);
  await clock.advance(0);
  const gap = events.find(([n]) => n === 'error');
  assert.equal(gap[1].type, 'gap');
  assert.equal(gap[1].error.code, ClientCode.RESUBSCRIBE);
  const cmds = net.last.commands().slice(-2);
  assert.deepEqual(cmds.map((x) => x.method), ['unsubscribe', 'subscribe']);
  assert.deepEqual(cmds[1].params.since, { offset: 1, epoch: 'e1' });
  assert.equal(sub.state, 'subscribed');
  assert.deepEqual(offsets(), [1, 2, 3, 4]);
});

test('unsubscribe push 2000-2499 resubscribes with since; 2500-2999 ends the subscription',
  async () => {
    const { sub, server, clock, net, events } = await subscribed();
    server.publish('chat:a', 1);
    await clock.advance(0);
    server.channels.get('chat:a').subs.clear();
    net.last.receive({ push: 'unsubscribe', channel: 'chat:a', code: 2000, reason: 'resubscribe' });
    await clock.advance(0);
    assert.deepEqual(subscribes(net.last).at(-1).params.since, { offset: 1, epoch: 'e1' });
    assert.equal(sub.state, 'subscribed');
    const before = net.last.commands().length;
    net.last.receive({ push: 'unsubscribe', channel: 'chat:a', code: 2501, reason: 'revoked' });
    await clock.advance(0);
    assert.equal(sub.state, 'unsubscribed');
    assert.deepEqual(events.at(-1), ['unsubscribed', { code: 2501, reason: 'revoked' }]);
    assert.equal(net.last.commands().length, before, 'nothing sent: the server already dropped it');
    net.last.serverClose(1006);
    await clock.advance(clock.nextIn());
    assert.equal(subscribes(net.last).length, 0, 'not subscribed again after a reconnect');
  });

test('subscribe errors: permanent -> unsubscribed with the code; temporary -> retried',
  async () => {
    const { client, server, clock } = await fakeSetup(Herald);
    let tries = 0;
    server.onCommand = (t, cmd) => {
      if (cmd.method === 'subscribe' && cmd.params.channel === 'secret') {
        return { id: cmd.id, error: { code: 111, message: 'permission denied', temporary: false } };
      }
      if (cmd.method === 'subscribe' && cmd.params.channel === 'busy' && ++tries < 3) {
        return { id: cmd.id, error: { code: 113, message: 'too many requests', temporary: true } };
      }
      return undefined;
    };
    client.connect();
    await clock.advance(0);
    const secret = client.subscribe('secret');
    const secretEvents = recordSub(secret);
    const busy = client.subscribe('busy');
    await clock.advance(0);
    assert.equal(secret.state, 'unsubscribed');
    assert.deepEqual(secretEvents.map(([n, e]) => [n, e.code ?? e.error.code]),
      [['error', 111], ['unsubscribed', 111]]);
    assert.equal(busy.state, 'subscribing');
    assert.equal(clock.nextIn(), 250);
    await clock.advance(250);
    await clock.advance(clock.nextIn());
    assert.equal(busy.state, 'subscribed');
    assert.equal(tries, 3);
  });

test('`since` in the options: the first subscribe recovers from it', async () => {
  const { client, server, clock, net } = await fakeSetup(Herald);
  for (let i = 1; i <= 5; i++) {
    server.publish('news', i);
  }
  const got = [];
  const sub = client.newSubscription('news', { since: { offset: 3, epoch: 'e1' } });
  sub.on('publication', (p) => got.push(p.data));
  sub.subscribe();
  client.connect();
  await clock.advance(0);
  assert.deepEqual(subscribes(net.last)[0].params.since, { offset: 3, epoch: 'e1' });
  assert.deepEqual(got, [4, 5]);
  assert.throws(() => client.newSubscription('x', { since: { offset: -1, epoch: 'e' } }),
    TypeError);
  assert.throws(() => client.newSubscription('news'), /already/);
});

test('unsubscribe() while the subscribe is on its way: undone when the reply comes', async () => {
  const { client, server, clock, net } = await fakeSetup(Herald);
  client.connect();
  await clock.advance(0);
  let release;
  server.onCommand = (t, cmd) => {
    if (cmd.method !== 'subscribe') {
      return undefined;
    }
    const reply = server.answer(t, cmd);
    release = () => server.push(t, reply);
    return null; // held
  };
  const sub = client.subscribe('a');
  const events = recordSub(sub);
  await clock.advance(0);
  assert.equal(net.last.commands().at(-1).method, 'subscribe');
  sub.unsubscribe();
  await clock.advance(0);
  assert.equal(net.last.commands().at(-1).method, 'subscribe', 'nothing to undo yet');
  release();
  await clock.advance(0);
  assert.equal(net.last.commands().at(-1).method, 'unsubscribe', 'undone once the reply came');
  assert.deepEqual(events.map(([n]) => n), ['unsubscribed']);
  const got = [];
  sub.on('publication', (p) => got.push(p));
  server.publish('a', 1);
  await clock.advance(0);
  assert.deepEqual(got, []);
  assert.equal(sub.state, 'unsubscribed');
});

test('unsubscribe() then subscribe() again recovers from the kept position', async () => {
  const { sub, server, clock, net, offsets } = await subscribed();
  server.publish('chat:a', 1);
  await clock.advance(0);
  sub.unsubscribe();
  await clock.advance(0);
  server.publish('chat:a', 2);
  sub.subscribe();
  await clock.advance(0);
  assert.deepEqual(subscribes(net.last).at(-1).params.since, { offset: 1, epoch: 'e1' });
  assert.deepEqual(offsets(), [1, 2]);
});

test('a channel without history is not asked to recover (no pointless reload signal)',
  async () => {
    const { client, server, clock, net } = await fakeSetup(Herald);
    server.onCommand = (t, cmd) => (cmd.method === 'subscribe' ? { id: cmd.id, result: {
      epoch: 'e1', offset: 7, recoverable: false, recovered: false, publications: [] } }
      : undefined);
    client.subscribe('typing');
    client.connect();
    await clock.advance(0);
    net.last.serverClose(1006);
    await clock.advance(clock.nextIn());
    assert.deepEqual(subscribes(net.last)[0].params, { channel: 'typing' });
  });

test('join and leave pushes become events; removeSubscription forgets the channel', async () => {
  const { client, sub, net, events } = await subscribed();
  const info = { user: '7', client: 'c9' };
  net.last.receive({ push: 'join', channel: 'chat:a', info },
    { push: 'leave', channel: 'chat:a', info });
  assert.deepEqual(events.slice(-2), [['join', { channel: 'chat:a', info }],
    ['leave', { channel: 'chat:a', info }]]);
  client.removeSubscription(sub);
  assert.equal(client.getSubscription('chat:a'), null);
  assert.equal(sub.state, 'unsubscribed');
  assert.throws(() => sub.subscribe(), /removed/);
});
