// The long-polling transport (src/poll.js) against a fake fetch and a fake clock: the answer
// format (cursor line, then protocol lines), the connect POST, the poll loop and its cursors,
// commands by POST, retries of a failed poll with the same cursor, the statuses that end the
// session, and DELETE when the client leaves. Last, a Herald client over it.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Herald, POLL_RETRY_DELAYS_MS, parsePollAnswer, pollTransport } from '../../src/index.js';
import { FakeClock } from '../helpers/fake.mjs';
import { fakeFetch, recordTransport, settle } from '../helpers/fake_http.mjs';

const URL_ = 'http://h.test/connection/poll';
const CONNECT = '{"id":1,"method":"connect"}';
const SESSION = '1-00112233445566778899aabbccddeeff';
const REPLY = `{"id":1,"result":{"client":"c1","version":"v","protocol":1,"ping":25,"pong":true,` +
  `"session":"${SESSION}"}}`;

test('parsePollAnswer: the cursor line, then the lines as they are; anything else is refused',
  () => {
    const table = [
      ['{"cursor":3}\n{"id":2,"result":{}}\n{"push":"x"}', { cursor: 3,
        lines: '{"id":2,"result":{}}\n{"push":"x"}' }],
      ['{"cursor":0}', { cursor: 0, lines: '' }],
      ['{"cursor":7}\n', { cursor: 7, lines: '' }],
      ['{"cursor":12}\n{"a":"line\\nwith an escaped newline"}',
        { cursor: 12, lines: '{"a":"line\\nwith an escaped newline"}' }],
      // A \r before the \n is JSON whitespace on the cursor line.
      ['{"cursor": 5 }\r\n{"x":1}', { cursor: 5, lines: '{"x":1}' }],
      ['', null],
      ['x', null],
      ['{"cursor":-1}', null],
      ['{"cursor":"3"}\n{}', null],
      ['{"cursor":1.5}', null],
      ['{"c":1}\n{"cursor":1}', null],
      ['{"id":1,"result":{}}', null],
      ['[1]', null],
      ['null', null],
    ];
    for (const [body, want] of table) {
      assert.deepEqual(parsePollAnswer(body), want, JSON.stringify(body));
    }
  });

function make() {
  const clock = new FakeClock();
  const fetch = fakeFetch();
  const t = pollTransport(URL_, { fetch }).create({ clock });
  const log = recordTransport(t);
  return { clock, fetch, t, log };
}

// A transport whose connect POST was answered (cursor 1, the connect reply), now polling.
async function opened({ header = true } = {}) {
  const s = make();
  s.t.open(CONNECT);
  s.fetch.last().respond(200, `{"cursor":1}\n${REPLY}`,
    header ? { 'Herald-Session': SESSION } : {});
  await settle();
  return s;
}

test('open: POST the connect; 200 opens, its lines are the first frame, then the first poll',
  async () => {
    const { t, fetch, log } = make();
    assert.equal(t.opensWithFrame, true);
    t.open(CONNECT);
    const post = fetch.calls[0];
    assert.equal(post.method, 'POST');
    assert.equal(post.url, URL_);
    assert.equal(post.body, CONNECT);
    assert.equal(log.opened, 0);
    post.respond(200, `{"cursor":1}\n${REPLY}`, { 'Herald-Session': SESSION });
    await settle();
    assert.equal(log.opened, 1);
    assert.deepEqual(log.frames, [REPLY]);
    assert.equal(t.session, SESSION);
    const poll = fetch.calls[1];
    assert.equal(poll.method, 'GET');
    assert.equal(poll.param('session'), SESSION);
    assert.equal(poll.param('cursor'), '1');
  });

test('the session comes from the connect result when the header cannot be read (CORS)',
  async () => {
    const { t, fetch } = await opened({ header: false });
    assert.equal(t.session, SESSION);
    assert.equal(fetch.last().param('session'), SESSION);
  });

test('the connect POST refused (404: no such endpoint) or failing: closed, never opened',
  async () => {
    for (const [answer, reason] of [
      [(c) => c.respond(404, '{"error":"not found"}'),
        'poll: the connect POST answered HTTP 404 not found'],
      [(c) => c.fail('fetch failed'),
        'poll: the connect POST failed: fetch failed: connect ECONNREFUSED'],
      [(c) => c.respond(200, 'not a cursor'),
        'poll: the answer to the connect POST has no {"cursor":N} line'],
    ]) {
      const { t, fetch, log } = make();
      t.open(CONNECT);
      answer(fetch.last());
      await settle();
      assert.equal(log.opened, 0);
      assert.deepEqual(log.closes, [{ code: 1006, reason }]);
      assert.equal(fetch.calls.length, 1, 'no poll, and no DELETE: there is no session');
    }
  });

test('polls: each names the last cursor; an empty answer is a frame of its own and polls again',
  async () => {
    const { t, fetch, log } = await opened();
    fetch.last().respond(200, '{"cursor":3}\n{"id":2,"result":{}}\n{"push":"message"}');
    await settle();
    assert.equal(fetch.last().param('cursor'), '3');
    assert.equal(t.cursor, 3);
    fetch.last().respond(200, '{"cursor":3}'); // the server's poll timeout passed
    await settle();
    assert.deepEqual(log.frames.slice(1), ['{"id":2,"result":{}}\n{"push":"message"}', '']);
    assert.equal(fetch.calls.length, 4);
    assert.equal(fetch.last().param('cursor'), '3');
    assert.deepEqual(log.closes, []);
  });

test('a failed poll is retried with the same cursor after 250 ms, then 1 s; the third failure ' +
  'ends it (and the session is left with DELETE)', async () => {
  const { clock, fetch, log } = await opened();
  assert.deepEqual(POLL_RETRY_DELAYS_MS, [250, 1000]);
  fetch.last().respond(200, '{"cursor":2}\n{"push":"message"}');
  await settle();
  fetch.last().fail('fetch failed');
  await settle();
  assert.equal(fetch.open().length, 0, 'waiting');
  await clock.advance(249);
  assert.equal(fetch.open().length, 0);
  await clock.advance(1);
  assert.equal(fetch.last().param('cursor'), '2', 'the same cursor: a lost answer comes again');
  fetch.last().respond(502, 'bad gateway'); // a proxy: like a lost answer
  await settle();
  await clock.advance(1000);
  assert.equal(fetch.last().param('cursor'), '2');
  fetch.last().fail('fetch failed');
  await settle();
  assert.deepEqual(log.closes, [{ code: 1006,
    reason: 'poll: 3 polls in a row failed; the last: fetch failed: connect ECONNREFUSED' }]);
  const del = fetch.last();
  assert.equal(del.method, 'DELETE');
  assert.equal(del.param('session'), SESSION);
  assert.equal(del.keepalive, true);
});

test('a poll that succeeds after a failure resets the retries', async () => {
  const { clock, fetch, log } = await opened();
  for (let round = 0; round < 3; round++) {
    fetch.last().fail();
    await settle();
    await clock.advance(250);
    fetch.last().respond(200, '{"cursor":1}');
    await settle();
  }
  assert.deepEqual(log.closes, []);
});

for (const status of [404, 410]) {
  test(`a poll answered ${status}: the session is gone, the transport ends, no DELETE`,
    async () => {
      const { fetch, log } = await opened();
      const n = fetch.calls.length;
      fetch.last().respond(status, `{"error":"session ended","status":${status}}`);
      await settle();
      assert.deepEqual(log.closes, [{ code: 1006,
        reason: `poll: the session is gone (HTTP ${status} session ended)` }]);
      assert.equal(fetch.calls.length, n, 'nothing more is sent');
    });
}

test('a poll answered 400 (a cursor the server refuses) ends the transport', async () => {
  const { fetch, log } = await opened();
  fetch.last().respond(400, '{"error":"cursor outside this session","status":400}');
  await settle();
  assert.equal(log.closes.length, 1);
  assert.match(log.closes[0].reason, /^poll: refused \(HTTP 400 cursor outside/);
  assert.equal(fetch.last().method, 'DELETE');
});

test('commands: POST ?session=S, in order, one at a time; 410 ends the transport', async () => {
  const { t, fetch, log } = await opened();
  const held = fetch.last();
  t.send('{"id":2,"method":"subscribe","params":{"channel":"a"}}');
  t.send('{"id":3,"method":"publish","params":{"channel":"a","data":1}}');
  const posts = () => fetch.calls.filter((c) => c.method === 'POST' && c.param('session'));
  assert.equal(posts().length, 1);
  posts()[0].respond(204);
  await settle();
  assert.equal(posts().length, 2);
  assert.equal(posts()[1].body, '{"id":3,"method":"publish","params":{"channel":"a","data":1}}');
  posts()[1].respond(410, '{"error":"session ended","status":410}');
  await settle();
  assert.deepEqual(log.closes,
    [{ code: 1006, reason: 'poll: the session is gone (HTTP 410 session ended)' }]);
  assert.equal(held.aborted, true, 'the held poll is aborted');
  assert.ok(!fetch.calls.some((c) => c.method === 'DELETE'));
});

test('close(): the held poll is aborted, DELETE tells the server, nothing reported', async () => {
  const { t, fetch, log } = await opened();
  const held = fetch.last();
  t.close();
  assert.equal(held.aborted, true);
  assert.equal(fetch.last().method, 'DELETE');
  await settle();
  assert.deepEqual(log.closes, []);
  assert.equal(fetch.calls.filter((c) => c.method === 'DELETE').length, 1);
  t.close();
  assert.equal(fetch.calls.filter((c) => c.method === 'DELETE').length, 1);
});

test('close() while the connect POST is out: aborted, nothing reported, no DELETE', async () => {
  const { t, fetch, log } = make();
  t.open(CONNECT);
  t.close();
  await settle();
  assert.equal(fetch.calls[0].aborted, true);
  assert.equal(fetch.calls.length, 1);
  assert.deepEqual(log.closes, []);
});

// A client over long-polling with a fake server behind the fake fetch: the connect reply in the
// POST's answer, subscribe by POST and its reply in a poll, a disconnect push acted on at once
// (the session's end would otherwise wait for the next poll), then reconnect and recovery.
test('a Herald client over long-polling: connect, subscribe, publications, disconnect push',
  async () => {
    const clock = new FakeClock();
    const fetch = fakeFetch();
    const client = new Herald('https://h.test/base', { clock, random: () => 0.5, fetch,
      transports: ['poll'], timeout: 5000 });
    const sub = client.newSubscription('news');
    const pubs = [];
    sub.on('publication', (p) => pubs.push(p.offset));
    sub.subscribe();
    client.connect();
    await clock.advance(0);
    const post = fetch.last();
    assert.equal(post.url, 'https://h.test/base/connection/poll');
    const connect = JSON.parse(post.body);
    post.respond(200, `{"cursor":1}\n{"id":${connect.id},"result":{"client":"c1","ping":25,` +
      `"session":"${SESSION}"}}`);
    await settle();
    assert.equal(client.state, 'connected');
    assert.equal(client.transport, 'poll');
    const subscribe = fetch.calls.find((c) => c.method === 'POST' && c.body.includes('subscribe'));
    const sid = JSON.parse(subscribe.body).id;
    subscribe.respond(204);
    const poll = fetch.calls.find((c) => c.method === 'GET');
    poll.respond(200, `{"cursor":3}\n{"id":${sid},"result":{"epoch":"e","offset":0,` +
      '"recoverable":true,"recovered":false,"publications":[]}}\n' +
      '{"push":"message","channel":"news","offset":1,"epoch":"e","data":1}');
    await settle();
    assert.equal(sub.state, 'subscribed');
    assert.deepEqual(pubs, [1]);
    fetch.last().respond(200, '{"cursor":4}\n' +
      '{"push":"disconnect","code":4005,"reason":"force reconnect","reconnect":true}');
    await settle();
    assert.equal(client.state, 'connecting', 'at once, not after the next poll');
    assert.equal(fetch.last().method, 'DELETE');
    await clock.advance(clock.nextIn());
    const again = fetch.last();
    assert.equal(again.method, 'POST');
    again.respond(200, `{"cursor":1}\n{"id":${JSON.parse(again.body).id},"result":{"client":"c2",` +
      `"ping":25,"session":"${SESSION}"}}`);
    await settle();
    const resub = fetch.calls.filter((c) => c.method === 'POST' && c.body?.includes('subscribe'))
      .at(-1);
    assert.deepEqual(JSON.parse(resub.body).params,
      { channel: 'news', since: { offset: 1, epoch: 'e' } });
    client.disconnect();
  });
