// The transport fallback rule: while no transport has ever opened, an attempt that fails before
// opening moves to the next transport at once, and the list starts over after a backoff delay;
// once one has opened, the client stays on it whatever happens next.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Herald, TransportChain } from '../../src/index.js';
import { FakeClock, FakeNetwork, FakeServer } from '../helpers/fake.mjs';

test('TransportChain: moves while unlocked, wraps, then stays on the one that opened', () => {
  const chain = new TransportChain([{ name: 'a', create() {} }, { name: 'b', create() {} },
    { name: 'c', create() {} }]);
  assert.equal(chain.current.name, 'a');
  assert.equal(chain.failed(), true);
  assert.equal(chain.current.name, 'b');
  assert.equal(chain.failed(), true);
  assert.equal(chain.current.name, 'c');
  assert.equal(chain.failed(), false, 'wrapped: back off before starting over');
  assert.equal(chain.current.name, 'a');
  chain.failed();
  chain.opened();
  assert.equal(chain.locked, true);
  assert.equal(chain.failed(), false);
  assert.equal(chain.current.name, 'b', 'locked on b');
  assert.throws(() => new TransportChain([]), TypeError);
  assert.throws(() => new TransportChain([{ name: 'x' }]), TypeError);
});

function setup(...factories) {
  const clock = new FakeClock();
  const net = new FakeNetwork();
  new FakeServer(net);
  const list = factories.map(([name, behaviour]) => net.factory(name, behaviour));
  const client = new Herald(null, { clock, random: () => 0.5, transports: list });
  const errors = [];
  client.on('error', (e) => errors.push(e));
  return { clock, net, client, list, errors, names: () => net.transports.map((t) => t.name) };
}

test('the first transport refused: the second is tried at once and kept', async () => {
  const { clock, net, client, list, errors, names } = setup(['websocket', 'refuse'],
    ['stand-in', 'accept']);
  client.connect();
  await clock.advance(0);
  assert.equal(client.state, 'connected');
  assert.equal(client.transport, 'stand-in');
  assert.deepEqual(names(), ['websocket', 'stand-in']);
  assert.deepEqual(errors.map((e) => [e.type, e.transport]), [['transport', 'websocket']]);
  // The transport that worked now fails to open, again and again: the client stays on it.
  list[1].behaviour = 'refuse';
  net.last.serverClose(1006);
  for (let i = 0; i < 5; i++) {
    await clock.advance(clock.nextIn());
  }
  assert.deepEqual(names(), ['websocket', ...Array(6).fill('stand-in')]);
  assert.equal(client.state, 'connecting');
});

test('once the first transport has opened, the client never falls back', async () => {
  const { clock, net, client, list, names } = setup(['websocket', 'accept'],
    ['stand-in', 'accept']);
  client.connect();
  await clock.advance(0);
  assert.equal(client.transport, 'websocket');
  list[0].behaviour = 'refuse';
  net.last.serverClose(1006);
  for (let i = 0; i < 4; i++) {
    await clock.advance(clock.nextIn());
  }
  assert.deepEqual(names(), Array(5).fill('websocket'));
});

test('none opens: each round tries them all at once, rounds spaced by the backoff', async () => {
  const { clock, client, list, names } = setup(['a', 'refuse'], ['b', 'refuse'], ['c', 'refuse']);
  client.connect();
  await clock.advance(0);
  assert.deepEqual(names(), ['a', 'b', 'c']);
  assert.equal(clock.nextIn(), 250, 'backoff attempt 0 after the first round');
  await clock.advance(250);
  assert.deepEqual(names(), ['a', 'b', 'c', 'a', 'b', 'c']);
  assert.equal(clock.nextIn(), 500, 'attempt 1');
  // In the next round b opens: the client settles on it.
  list[1].behaviour = 'accept';
  await clock.advance(500);
  assert.equal(client.state, 'connected');
  assert.equal(client.transport, 'b');
  assert.deepEqual(names().slice(6), ['a', 'b']);
});

test('a transport that opened but closed before connect was answered still counts as opened',
  async () => {
    const { clock, net, client, names } = setup(['websocket', 'manual'], ['stand-in', 'accept']);
    client.connect();
    await clock.advance(0);
    net.last.accept();
    net.last.serverClose(1006); // e.g. a proxy that upgrades, then cuts
    await clock.advance(clock.nextIn());
    assert.deepEqual(names(), ['websocket', 'websocket']);
  });
