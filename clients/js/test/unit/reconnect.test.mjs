// Retry classes by disconnect code (docs/PROTOCOL.md, "Disconnect codes"): 4500-4999 and
// reconnect:false stop; 1013 backs off long; 4004 reconnects at once with a fresh token; every
// other code backs off. Plus the token life cycle around them, on a fake clock and server.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { LATER_MIN_ATTEMPT, Retry, retryClass } from '../../src/backoff.js';
import { ClientCode, Herald } from '../../src/index.js';
import { fakeSetup } from '../helpers/fake.mjs';

test('retryClass by the documented ranges, unknown codes included', () => {
  for (const code of [4500, 4501, 4502, 4503, 4504, 4505, 4600, 4999]) {
    assert.equal(retryClass(code), Retry.NO, `code ${code}`);
  }
  for (const code of [1000, 1001, 1002, 1006, 1007, 1009, 1011, 3000, 4000, 4001, 4002, 4003, 4005,
    4006, 4321, 4499, 5000, ClientCode.TIMEOUT]) {
    assert.equal(retryClass(code), Retry.BACKOFF, `code ${code}`);
  }
  assert.equal(retryClass(1013), Retry.LATER);
  assert.equal(retryClass(4004), Retry.NOW);
  assert.equal(retryClass(4000, false), Retry.NO, 'reconnect:false in the push wins');
  assert.equal(retryClass(4501, true), Retry.NO, 'a no-retry code stays one');
});

// Connects the fake client and returns once it is connected.
async function connected(options = {}) {
  const s = await fakeSetup(Herald, options);
  s.client.connect();
  await s.clock.advance(0);
  assert.equal(s.client.state, 'connected');
  return s;
}

const NO_RETRY = [[4503, true], [4501, false], [4777, false], [4000, 'reconnect:false']];
for (const [code, withPush] of NO_RETRY) {
  test(`code ${code} (${withPush === true ? 'push and close' : withPush || 'close only'}): ` +
      'disconnected, no retry', async () => {
    const { clock, net, client, events } = await connected();
    const t = net.last;
    if (withPush) {
      t.receive({ push: 'disconnect', code, reason: 'bye', reconnect: false });
    }
    t.serverClose(code, 'bye');
    assert.equal(client.state, 'disconnected');
    assert.deepEqual(events.at(-1), ['disconnected', { code, reason: 'bye' }]);
    assert.equal(clock.timerCount, 0, 'no reconnect timer');
    await clock.advance(10 * 60 * 1000);
    assert.equal(net.transports.length, 1, 'never reconnected');
  });
}

for (const code of [1001, 1006, 4000, 4001, 4002, 4003, 4005, 4006, 4321]) {
  test(`code ${code}: connecting, reconnect after the backoff delay, connected again`, async () => {
    const { clock, net, client, events } = await connected();
    net.last.serverClose(code, 'why');
    assert.equal(client.state, 'connecting');
    assert.deepEqual(events.at(-1), ['connecting', { code, reason: 'why' }]);
    assert.equal(clock.nextIn(), 250, 'attempt 0, random 0.5: half of 500 ms');
    await clock.advance(249);
    assert.equal(net.transports.length, 1);
    await clock.advance(1);
    assert.equal(net.transports.length, 2);
    assert.equal(client.state, 'connected');
  });
}

test('1013 try again later: the backoff starts at a wide window', async () => {
  const { clock, net, client } = await connected();
  net.last.receive({ push: 'disconnect', code: 1013, reason: 'try again later', reconnect: true });
  net.last.serverClose(1013);
  assert.equal(client.state, 'connecting');
  assert.equal(clock.nextIn(), (500 * 2 ** LATER_MIN_ATTEMPT) / 2);
});

test('the disconnect push decides over the close code', async () => {
  const { client, net, events } = await connected();
  net.last.receive({ push: 'disconnect', code: 4502, reason: 'forbidden', reconnect: false });
  net.last.serverClose(1000, '');
  assert.equal(client.state, 'disconnected');
  assert.deepEqual(events.at(-1), ['disconnected', { code: 4502, reason: 'forbidden' }]);
});

test('backoff grows while attempts fail and resets after a connect', async () => {
  const { clock, net, server, client } = await connected();
  server.onCommand = (t, cmd) => (cmd.method === 'connect' ? null : undefined); // connect hangs
  net.last.serverClose(1006);
  const waits = [];
  for (let i = 0; i < 4; i++) {
    waits.push(clock.nextIn());
    await clock.advance(clock.nextIn()); // the reconnect timer
    net.last.serverClose(1006); // this attempt dies before connect's reply
  }
  assert.deepEqual(waits, [250, 500, 1000, 2000]);
  server.onCommand = null;
  await clock.advance(clock.nextIn());
  assert.equal(client.state, 'connected');
  net.last.serverClose(1006);
  assert.equal(clock.nextIn(), 250, 'a success resets the backoff');
});

test('token: getToken() before the first connect, again after 4004, reconnecting at once',
  async () => {
    let n = 0;
    const { clock, net, client, events } = await fakeSetup(Herald, {
      getToken: async () => `token-${++n}`,
    });
    client.connect();
    await clock.advance(0);
    assert.equal(client.state, 'connected');
    assert.equal(net.last.commands()[0].params.token, 'token-1');
    net.last.receive({ push: 'disconnect', code: 4004, reason: 'token expired', reconnect: true });
    net.last.serverClose(4004, 'token expired');
    assert.deepEqual(events.at(-1), ['connecting', { code: 4004, reason: 'token expired' }]);
    assert.equal(clock.nextIn(), 0, 'retry now');
    await clock.advance(0);
    assert.equal(client.state, 'connected');
    assert.equal(n, 2);
    assert.equal(net.last.commands()[0].params.token, 'token-2');
  });

test('token: an expired token at connect (120 + 4004) asks again; twice in a row backs off',
  async () => {
    let n = 0;
    const { clock, net, server, client } = await fakeSetup(Herald, {
      getToken: () => `token-${++n}`,
    });
    server.onCommand = (t, cmd) => {
      if (cmd.method === 'connect' && cmd.params.token !== 'token-3') {
        queueMicrotask(() => {
          t.receive(
            { id: cmd.id, error: { code: 120, message: 'token: expired', temporary: false } },
            { push: 'disconnect', code: 4004, reason: 'token: expired', reconnect: true });
          t.serverClose(4004, 'token: expired');
        });
        return null;
      }
      return undefined;
    };
    client.connect();
    await clock.advance(0);
    assert.equal(n, 2, 'the first refusal is retried at once with a new token');
    assert.equal(client.state, 'connecting');
    assert.equal(clock.nextIn(), 500, 'the second backs off (attempt 1: half of 1000 ms)');
    await clock.advance(500);
    assert.equal(client.state, 'connected');
    assert.equal(net.last.commands()[0].params.token, 'token-3');
  });

test('token: 4004 without getToken stops with a token error', async () => {
  const { clock, net, client, events } = await connected({ token: 'static' });
  assert.equal(net.last.commands()[0].params.token, 'static');
  net.last.receive({ push: 'disconnect', code: 4004, reason: 'token expired', reconnect: true });
  net.last.serverClose(4004);
  assert.equal(client.state, 'disconnected');
  const err = events.find(([name, e]) => name === 'error' && e.type === 'token');
  assert.equal(err[1].error.code, ClientCode.TOKEN);
  assert.equal(clock.timerCount, 0);
  client.setToken('fresh');
  client.connect();
  await clock.advance(0);
  assert.equal(client.state, 'connected');
  assert.equal(net.last.commands()[0].params.token, 'fresh');
});

test('token: getToken() failing is reported and retried with backoff', async () => {
  let calls = 0;
  const { clock, client, events } = await fakeSetup(Herald, {
    getToken: async () => {
      if (++calls === 1) {
        throw new Error('backend down');
      }
      return 'ok';
    },
  });
  client.connect();
  await clock.advance(0);
  assert.equal(client.state, 'connecting');
  assert.deepEqual(events.filter(([n]) => n === 'error').map(([, e]) => [e.type, e.error.message]),
    [['token', 'backend down']]);
  assert.equal(clock.nextIn(), 250);
  await clock.advance(250);
  assert.equal(client.state, 'connected');
});

test('a refused connect without a disconnect push: permanent stops, temporary backs off',
  async () => {
    for (const temporary of [false, true]) {
      const { clock, server, client } = await fakeSetup(Herald);
      server.onCommand = (t, cmd) => ({ id: cmd.id, error: { code: temporary ? 503 : 111,
        message: 'no', temporary } });
      client.connect();
      await clock.advance(0);
      if (temporary) {
        assert.equal(client.state, 'connecting');
        assert.equal(clock.nextIn(), 250);
      } else {
        assert.equal(client.state, 'disconnected');
      }
    }
  });

test('disconnect() while getToken() is pending: the late token is not used', async () => {
  let release;
  const { clock, net, client } = await fakeSetup(Herald, {
    getToken: () => new Promise((resolve) => { release = resolve; }),
  });
  client.connect();
  await clock.advance(0);
  client.disconnect();
  release('late');
  await clock.advance(1000);
  assert.equal(net.transports.length, 0);
  assert.equal(client.state, 'disconnected');
});
