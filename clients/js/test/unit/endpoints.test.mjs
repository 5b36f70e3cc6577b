// Several server URLs (the nodes of one cluster, docs/SCALING.md): the client starts on the
// first, and every lost connection or failed attempt moves it to the next one in turn, after the
// usual full-jitter backoff; subscriptions resubscribe from their position on the new node. On a
// fake clock with a fake WebSocket that records the URL of every attempt.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Herald } from '../../src/index.js';
import { FakeClock } from '../helpers/fake.mjs';

// A WebSocket the test drives: every instance is recorded with its URL.
function fakeWebSocketClass() {
  const made = [];
  class FakeWS {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.sent = [];
      made.push(this);
    }

    send(text) {
      this.sent.push(text);
    }

    close() {
      this.readyState = 3;
    }

    // --- the test's side ---
    accept() {
      this.readyState = 1;
      this.onopen?.();
    }

    refuse() {
      this.readyState = 3;
      this.onclose?.({ code: 1006, reason: 'refused' });
    }

    reply(msg) {
      this.onmessage?.({ data: JSON.stringify(msg) });
    }

    commands() {
      return this.sent.flatMap((f) => f.split('\n')).map((l) => JSON.parse(l));
    }
  }
  return { FakeWS, made };
}

const URLS = ['http://n1:8000', 'http://n2:8000', 'http://n3:8000'];
const WS = URLS.map((u) => `${u.replace('http', 'ws')}/connection/websocket`);

function setup(urls = URLS) {
  const clock = new FakeClock();
  const { FakeWS, made } = fakeWebSocketClass();
  const delays = [];
  const client = new Herald(urls, {
    clock, websocket: FakeWS, transports: ['websocket'], random: () => 0.5,
    minReconnectDelay: 100, maxReconnectDelay: 1000,
  });
  client.on('connecting', () => delays.push(clock.nextIn()));
  return { clock, made, client, delays };
}

// Accepts the last attempt and answers its connect.
async function serve(made, clock, clientId) {
  const ws = made.at(-1);
  ws.accept();
  await clock.advance(0);
  const connect = ws.commands().find((c) => c.method === 'connect');
  ws.reply({ id: connect.id, result: { client: clientId, version: 'v', ping: 25, pong: true } });
  await clock.advance(0);
  return ws;
}

test('a list of URLs: starts on the first; a lost connection moves to the next after the ' +
  'backoff delay; the connected event and client.url say where', async () => {
  const { clock, made, client } = setup();
  const seen = [];
  client.on('connected', (e) => seen.push(e.url));
  client.connect();
  await clock.advance(0);
  assert.equal(made.length, 1);
  assert.equal(made[0].url, WS[0]);
  await serve(made, clock, 'c1');
  assert.equal(client.state, 'connected');
  assert.equal(client.url, URLS[0]);

  made[0].refuse(); // the node died (1006)
  assert.equal(client.state, 'connecting');
  assert.equal(client.url, null);
  assert.equal(clock.nextIn(), 50, 'attempt 0, random 0.5: half of the 100 ms window');
  await clock.advance(49);
  assert.equal(made.length, 1, 'no attempt before the backoff delay');
  await clock.advance(1);
  assert.equal(made.length, 2);
  assert.equal(made[1].url, WS[1], 'the next node');
  await serve(made, clock, 'c2');
  assert.equal(client.url, URLS[1]);
  assert.deepEqual(seen, [URLS[0], URLS[1]]);
  client.disconnect();
});

test('refused nodes are tried in turn, backing off between attempts, and the list wraps around',
  async () => {
    const { clock, made, client } = setup();
    client.connect();
    await clock.advance(0);
    const windows = [];
    for (let i = 0; i < 5; i++) {
      made.at(-1).refuse();
      windows.push(clock.nextIn());
      await clock.advance(clock.nextIn());
    }
    assert.deepEqual(made.map((w) => w.url), [WS[0], WS[1], WS[2], WS[0], WS[1], WS[2]],
      'each node in turn, then the first again');
    assert.deepEqual(windows, [50, 100, 200, 400, 500], 'half of min * 2^n, capped at max');
    await serve(made, clock, 'c1');
    assert.equal(client.url, URLS[2]);
    client.disconnect();
  });

test('a subscription follows the client to the next node and resubscribes from its position',
  async () => {
    const { clock, made, client } = setup();
    const sub = client.newSubscription('feed');
    const pubs = [];
    sub.on('publication', (p) => pubs.push(p.offset));
    const subscribed = [];
    sub.on('subscribed', (e) => subscribed.push(e));
    sub.subscribe();
    client.connect();
    await clock.advance(0);
    let ws = await serve(made, clock, 'c1');
    let cmd = ws.commands().find((c) => c.method === 'subscribe');
    assert.equal(cmd.params.since, undefined);
    ws.reply({ id: cmd.id, result: { epoch: 'e', offset: 0, recoverable: true,
      publications: [] } });
    for (let o = 1; o <= 3; o++) {
      ws.reply({ push: 'message', channel: 'feed', offset: o, epoch: 'e', data: o });
    }
    ws.refuse();
    await clock.advance(clock.nextIn());
    ws = await serve(made, clock, 'c2');
    assert.equal(ws.url, WS[1]);
    cmd = ws.commands().find((c) => c.method === 'subscribe');
    assert.deepEqual(cmd.params.since, { offset: 3, epoch: 'e' }, 'recovery from the position');
    ws.reply({ id: cmd.id, result: { epoch: 'e', offset: 5, recoverable: true, recovered: true,
      publications: [3, 4, 5].map((o) => ({ offset: o, epoch: 'e', data: o })) } });
    assert.deepEqual(pubs, [1, 2, 3, 4, 5], 'the missed ones once, the one it had not twice');
    assert.equal(subscribed.at(-1).recovered, true);
    client.disconnect();
  });

test('one URL in a list behaves as one URL; an empty list or a non-string is refused', async () => {
  const { clock, made, client } = setup([URLS[0]]);
  client.connect();
  await clock.advance(0);
  made[0].refuse();
  await clock.advance(clock.nextIn());
  assert.deepEqual(made.map((w) => w.url), [WS[0], WS[0]]);
  client.disconnect();
  assert.throws(() => new Herald([], { transports: [{ name: 'x', create() {} }] }), TypeError);
  assert.throws(() => new Herald([URLS[0], 7], { websocket: class {} }), TypeError);
});
