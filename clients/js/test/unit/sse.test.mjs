// The SSE transport (src/sse.js) against a fake EventSource and a fake fetch: the connect command
// in the URL, open at the first event, the session from the connect result, event data passed on
// whole (the connection splits it), commands POSTed one at a time and in order, and every way the
// stream or a POST can fail ending the transport once, with the EventSource closed so that its
// own reconnect never runs. Last, a Herald client over it on a fake clock.
import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';

import { Herald, sseTransport } from '../../src/index.js';
import { FakeClock } from '../helpers/fake.mjs';
import { FakeEventSource, fakeFetch, recordTransport, settle } from '../helpers/fake_http.mjs';

const URL_ = 'http://h.test/connection/sse';
const CONNECT = '{"id":1,"method":"connect","params":{"token":"a b&c=d"}}';
const SESSION = '0-0123456789abcdef0123456789abcdef';
const connectReply = { id: 1, result: { client: 'c1', version: 'v', protocol: 1, ping: 25,
  pong: true, session: SESSION } };

beforeEach(() => {
  FakeEventSource.made = [];
});

function make() {
  const fetch = fakeFetch();
  const t = sseTransport(URL_, { EventSource: FakeEventSource, fetch }).create({});
  const log = recordTransport(t);
  return { t, log, fetch };
}

async function opened() {
  const s = make();
  s.t.open(CONNECT);
  s.es = FakeEventSource.last;
  s.es.message(connectReply);
  return s;
}

test('the connect command travels URL-encoded in ?connect=; open comes with the first event',
  () => {
    const { t, log } = make();
    assert.equal(t.opensWithFrame, true);
    t.open(CONNECT);
    const es = FakeEventSource.last;
    assert.ok(es.url.startsWith(`${URL_}?connect=`));
    assert.equal(es.param('connect'), CONNECT);
    assert.ok(!es.url.includes(' '), 'encoded');
    assert.equal(log.opened, 0, 'a response head is not enough: nothing has been delivered');
    es.message(connectReply);
    assert.equal(log.opened, 1);
    assert.equal(t.session, SESSION);
    assert.deepEqual(log.frames, [JSON.stringify(connectReply)]);
  });

test('an event with several lines is passed on whole, as one frame', async () => {
  const { es, log } = await opened();
  const batch = '{"id":2,"result":{}}\n{"push":"message","channel":"a","offset":1,"epoch":"e",' +
    '"data":1}\n{"push":"message","channel":"a","offset":2,"epoch":"e","data":2}';
  es.message(batch);
  assert.deepEqual(log.frames.slice(1), [batch]);
});

test('an error before the first event: closed (no EventSource reconnect), reported once', () => {
  const { t, log } = make();
  t.open(CONNECT);
  const es = FakeEventSource.last;
  es.error(404);
  assert.equal(es.closed, true);
  assert.equal(log.opened, 0);
  assert.deepEqual(log.closes, [{ code: 1006, reason: 'sse: the stream did not open (HTTP 404)' }]);
  es.error();
  es.message(connectReply);
  assert.equal(log.closes.length, 1);
  assert.equal(log.opened, 0, 'nothing after the end');
});

test('an error after events (the stream ended): closed, reported once, nothing after', async () => {
  const { es, log } = await opened();
  es.error();
  assert.equal(es.closed, true, "EventSource's own reconnect must not run");
  assert.deepEqual(log.closes, [{ code: 1006, reason: 'sse: the stream ended' }]);
  es.message('{"push":"message"}');
  assert.equal(log.frames.length, 1);
});

test('commands: POST ?session=S, one at a time, in order; frames queued meanwhile go together',
  async () => {
    const { t, fetch, log } = await opened();
    t.send('{"id":2,"method":"subscribe","params":{"channel":"a"}}');
    t.send('{"id":3,"method":"unsubscribe","params":{"channel":"a"}}');
    t.send('{"id":4,"method":"subscribe","params":{"channel":"a"}}');
    assert.equal(fetch.calls.length, 1, 'one POST in flight');
    const first = fetch.calls[0];
    assert.equal(first.method, 'POST');
    assert.equal(first.param('session'), SESSION);
    assert.equal(first.body, '{"id":2,"method":"subscribe","params":{"channel":"a"}}');
    first.respond(204);
    await settle();
    assert.equal(fetch.calls.length, 2);
    assert.equal(fetch.calls[1].body, '{"id":3,"method":"unsubscribe","params":{"channel":"a"}}\n' +
      '{"id":4,"method":"subscribe","params":{"channel":"a"}}');
    fetch.calls[1].respond(204);
    await settle();
    assert.equal(fetch.calls.length, 2);
    assert.deepEqual(log.closes, []);
  });

test('a POST answered 404: the session is gone, the transport ends (and the stream closes)',
  async () => {
    const { t, es, fetch, log } = await opened();
    t.send('{"id":2,"method":"ping"}');
    t.send('{"id":3,"method":"ping"}');
    fetch.last().respond(404, '{"error":"unknown session","status":404}');
    await settle();
    assert.equal(es.closed, true);
    assert.deepEqual(log.closes,
      [{ code: 1006, reason: 'sse: the session is gone (HTTP 404 unknown session)' }]);
    assert.equal(fetch.calls.length, 1, 'the queued frame is dropped, not sent');
    t.send('{"id":4,"method":"ping"}');
    assert.equal(fetch.calls.length, 1);
  });

test('a POST that fails on the network ends the transport; its commands are not resent',
  async () => {
    const { t, fetch, log } = await opened();
    t.send('{"id":2,"method":"publish","params":{"channel":"a","data":1}}');
    fetch.last().fail('fetch failed');
    await settle();
    assert.equal(log.closes.length, 1);
    assert.match(log.closes[0].reason, /^sse: POST of commands failed: fetch failed/);
    assert.equal(fetch.calls.length, 1);
  });

test('close(): the stream and the POST in flight are aborted; no callback afterwards',
  async () => {
    const { t, es, fetch, log } = await opened();
    t.send('{"id":2,"method":"ping"}');
    t.close();
    assert.equal(es.closed, true);
    assert.equal(fetch.calls[0].aborted, true);
    await settle();
    es.error();
    assert.deepEqual(log.closes, [], 'closing from our side is not reported');
  });

test('a constructor that throws (a malformed URL) is reported as a failed open, later',
  async () => {
    class Throws {
      constructor() {
        throw new SyntaxError('Invalid URL');
      }
    }
    const t = sseTransport(URL_, { EventSource: Throws, fetch: fakeFetch() }).create({});
    const log = recordTransport(t);
    t.open(CONNECT);
    assert.equal(log.closes.length, 0, 'not from inside open()');
    await settle();
    assert.deepEqual(log.closes, [{ code: 1006, reason: 'sse: Invalid URL' }]);
  });

test('no EventSource constructor: a TypeError that says what to pass', () => {
  assert.throws(() => sseTransport(URL_, { EventSource: undefined, fetch: fakeFetch() }),
    /eventsource: EventSource/);
});

// A client over the SSE transport, with a fake server behind the fakes: connect in the URL,
// subscribe by POST, replies and pushes as events, keepalive pings by POST, and a 404 on a POST
// (the session is gone) seen as a lost connection that reconnects and recovers.
test('a Herald client over SSE: connect, subscribe, batched events, ping, 404 -> reconnect',
  async () => {
    const clock = new FakeClock();
    const fetch = fakeFetch();
    const client = new Herald('http://h.test', { clock, random: () => 0.5, fetch,
      eventsource: FakeEventSource, transports: ['sse'], timeout: 5000 });
    const states = [];
    client.on('state', (e) => states.push([e.state, e.transport ?? e.code]));
    const sub = client.newSubscription('news');
    const pubs = [];
    sub.on('publication', (p) => pubs.push(p.offset));
    sub.subscribe();
    client.connect();
    await clock.advance(0);
    let es = FakeEventSource.last;
    const connect = JSON.parse(es.param('connect'));
    assert.equal(connect.method, 'connect');
    assert.equal(es.url.split('?')[0], URL_);
    es.message({ id: connect.id, result: { ...connectReply.result, ping: 1 } });
    assert.equal(client.state, 'connected');
    assert.equal(client.transport, 'sse');
    await clock.advance(0);
    const subscribe = JSON.parse(fetch.last().body);
    assert.equal(subscribe.method, 'subscribe');
    fetch.last().respond(204);
    // The reply and two pushes in one event.
    es.message({ id: subscribe.id, result: { epoch: 'e', offset: 0, recoverable: true,
      recovered: false, publications: [] } },
    { push: 'message', channel: 'news', offset: 1, epoch: 'e', data: 1 },
    { push: 'message', channel: 'news', offset: 2, epoch: 'e', data: 2 });
    assert.deepEqual(pubs, [1, 2]);
    await settle();
    // One second of silence (the server's comment lines never show): a ping, by POST.
    await clock.advance(1000);
    const ping = JSON.parse(fetch.last().body);
    assert.equal(ping.method, 'ping');
    // The session is gone (the server restarted): the connection is lost; reconnect, recover.
    fetch.last().respond(404, '{"error":"unknown session","status":404}');
    await settle();
    assert.equal(client.state, 'connecting');
    assert.equal(es.closed, true);
    await clock.advance(clock.nextIn());
    es = FakeEventSource.last;
    assert.equal(FakeEventSource.made.length, 2);
    es.message({ id: JSON.parse(es.param('connect')).id, result: connectReply.result });
    await clock.advance(0);
    const again = JSON.parse(fetch.last().body);
    assert.deepEqual(again.params, { channel: 'news', since: { offset: 2, epoch: 'e' } });
    assert.deepEqual(states.map((s) => s[0]),
      ['connecting', 'connected', 'connecting', 'connected']);
    assert.equal(states[1][1], 'sse');
    client.disconnect();
    assert.equal(es.closed, true);
  });
