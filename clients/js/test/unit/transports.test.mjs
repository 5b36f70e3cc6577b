// Which transports a client tries, and where: the endpoint of each transport derived from the one
// server URL, the default list (minus what the environment cannot run), explicit lists of names,
// {transport, url} objects and factories, and the errors that say what to pass. Also the
// connection's two ways of sending connect: after onopen, or in the request that opens.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DEFAULT_TRANSPORTS, Herald, buildTransports, endpointUrl } from '../../src/index.js';
import { FakeClock, FakeNetwork, FakeServer } from '../helpers/fake.mjs';
import { FakeEventSource, fakeFetch } from '../helpers/fake_http.mjs';

test('endpointUrl: every transport from a base URL or from any endpoint, scheme and prefix kept',
  () => {
    const table = [
      // [server URL, websocket, sse, poll]
      ['ws://127.0.0.1:8080/connection/websocket', 'ws://127.0.0.1:8080/connection/websocket',
        'http://127.0.0.1:8080/connection/sse', 'http://127.0.0.1:8080/connection/poll'],
      ['wss://example.com/connection/websocket', 'wss://example.com/connection/websocket',
        'https://example.com/connection/sse', 'https://example.com/connection/poll'],
      ['https://example.com', 'wss://example.com/connection/websocket',
        'https://example.com/connection/sse', 'https://example.com/connection/poll'],
      ['http://h:81/', 'ws://h:81/connection/websocket', 'http://h:81/connection/sse',
        'http://h:81/connection/poll'],
      ['https://example.com/herald/', 'wss://example.com/herald/connection/websocket',
        'https://example.com/herald/connection/sse', 'https://example.com/herald/connection/poll'],
      ['https://example.com/herald/connection/sse', 'wss://example.com/herald/connection/websocket',
        'https://example.com/herald/connection/sse', 'https://example.com/herald/connection/poll'],
      ['http://h/connection/poll', 'ws://h/connection/websocket', 'http://h/connection/sse',
        'http://h/connection/poll'],
      // A WebSocket URL of its own shape is kept for WebSocket; the others are at the root.
      ['ws://h/custom/ws?x=1', 'ws://h/custom/ws?x=1', 'http://h/connection/sse',
        'http://h/connection/poll'],
    ];
    for (const [url, ws, sse, poll] of table) {
      assert.deepEqual(['websocket', 'sse', 'poll'].map((n) => endpointUrl(url, n)),
        [ws, sse, poll], url);
    }
    assert.throws(() => endpointUrl('ftp://h/', 'sse'), /ws\(s\):\/\/ or http\(s\):\/\//);
    assert.throws(() => endpointUrl('not a url', 'sse'), /not a URL/);
    assert.throws(() => endpointUrl('http://h', 'carrier-pigeon'), /unknown transport/);
    assert.throws(() => endpointUrl('http://h', 'toString'), /unknown transport/);
  });

class FakeWebSocket {}
const fetch = fakeFetch();

test('the default list is websocket, sse, poll, minus the ones this environment cannot run', () => {
  assert.deepEqual(DEFAULT_TRANSPORTS, ['websocket', 'sse', 'poll']);
  const names = (options) => buildTransports('http://h', options).map((f) => f.name);
  assert.deepEqual(names({ websocket: FakeWebSocket, eventsource: FakeEventSource, fetch }),
    ['websocket', 'sse', 'poll']);
  // Node 20 with only npm ws passed: no EventSource, so no SSE.
  assert.deepEqual(names({ websocket: FakeWebSocket, fetch }), ['websocket', 'poll']);
  assert.deepEqual(names({ eventsource: FakeEventSource, fetch }), ['sse', 'poll']);
  assert.throws(() => names({ fetch: 'none', websocket: 'none', eventsource: 'none' }),
    /no transport can run here/);
});

test('an explicit list: names, {transport, url} and factories, in order; a transport named ' +
  'explicitly must be able to run', () => {
  const mine = { name: 'mine', create() {} };
  const list = buildTransports('http://h', { websocket: FakeWebSocket, eventsource: FakeEventSource,
    fetch, transports: [{ transport: 'websocket', url: 'ws://h/blocked' }, 'poll', mine] });
  assert.deepEqual(list.map((f) => f.name), ['websocket', 'poll', 'mine']);
  assert.equal(list[2], mine);
  const ws = list[0].create();
  assert.equal(ws._url, 'ws://h/blocked');
  assert.throws(() => buildTransports('http://h', { transports: ['sse'], fetch }),
    /no EventSource constructor.*eventsource: EventSource/);
  assert.throws(() => buildTransports('http://h', { transports: ['websocket'], websocket: 'x' }),
    /no WebSocket constructor/);
  assert.throws(() => buildTransports('http://h', { transports: ['pigeon'] }),
    /unknown transport "pigeon"/);
  assert.throws(() => buildTransports('http://h', { transports: [{ transport: 'poll' }],
    fetch: 'x' }), /needs fetch/);
  assert.throws(() => buildTransports(null, { transports: ['poll'], fetch }),
    /the poll transport needs a URL/);
  assert.deepEqual(buildTransports(null, { fetch,
    transports: [{ transport: 'poll', url: 'http://h/p' }] }).map((f) => f.name), ['poll']);
  assert.throws(() => buildTransports('http://h', { transports: [] }), /non-empty array/);
});

test('the Herald constructor builds its list the same way (Node: fetch is global)', () => {
  const c = new Herald('http://h', { websocket: FakeWebSocket, eventsource: FakeEventSource });
  assert.deepEqual(c._chain._list.map((f) => f.name), ['websocket', 'sse', 'poll']);
  const plain = new Herald('ws://h/connection/websocket', { websocket: FakeWebSocket });
  assert.deepEqual(plain._chain._list.map((f) => f.name), ['websocket', 'poll']);
});

// The connection sends connect after onopen to a plain transport, and gives it to open() for one
// that opensWithFrame; there the reply's timeout starts only when the transport has opened.
test('opensWithFrame: connect goes to open(), its timeout starts at onopen', async () => {
  const clock = new FakeClock();
  const net = new FakeNetwork();
  const server = new FakeServer(net);
  const factory = net.factory('http-like', 'manual');
  const create = factory.create;
  let first = null;
  factory.create = () => {
    const t = create();
    t.opensWithFrame = true;
    t.open = (line) => {
      first = line;
      t.state = 'opening';
    };
    return t;
  };
  const client = new Herald(null, { clock, random: () => 0.5, transports: [factory],
    timeout: 1000 });
  client.connect();
  await clock.advance(999);
  const connect = JSON.parse(first);
  assert.equal(connect.method, 'connect');
  assert.equal(connect.params.protocol, 1);
  net.last.accept(); // the server answered the opening request; its reply is on the way
  await clock.advance(999);
  assert.equal(client.state, 'connecting', 'the open timeout was cleared; the reply has 1000 ms');
  net.last.receive(server.answer(net.last, connect));
  assert.equal(client.state, 'connected');
  assert.deepEqual(net.last.sent, [], 'connect was not sent a second time');
  client.disconnect();
});
