// Against the real server with --token-secret, over each transport: getToken() is called again
// when the server says the token expired (4004), both while connected and at connect; an invalid
// token (4501) is not retried. Tokens are minted here with node:crypto (HS256, claims sub and
// exp). Over SSE the token travels in the URL of the stream (the connect command is there).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Herald } from '../../src/index.js';
import {
  Inbox, TRANSPORTS, api, disconnectAfter, integrationOptions, mintToken, nextEvent, over,
  startHerald, within,
} from '../helpers/server.mjs';

const SECRET = 'js sdk integration secret, 32 bytes or more';
const opts = integrationOptions();
let server;

before(async () => {
  if (!opts.skip) {
    server = await startHerald({ args: ['--token-secret', SECRET] });
  }
});

after(async () => {
  await server?.stop();
});

const nowS = () => Math.floor(Date.now() / 1000);

for (const transport of TRANSPORTS) {
  test(`${transport}: token expires while connected: 4004, getToken() again, reconnected and ` +
    'recovered', opts, (t) => expiresWhileConnected(t, transport));
  test(`${transport}: an expired token at connect: error 120 + 4004, then a fresh token connects`,
    opts, (t) => expiredAtConnect(t, transport));
  test(`${transport}: an invalid token (4501): disconnected, not retried`, opts,
    (t) => invalidToken(t, transport));
}

async function expiresWhileConnected(t, transport) {
  const channel = `chat:expiry-${transport}`;
  const issued = [];
  const getToken = async () => {
    // The first token lives 2 s (the server counts whole seconds); later ones an hour.
    const exp = issued.length === 0 ? nowS() + 2 : nowS() + 3600;
    issued.push(exp);
    return mintToken(SECRET, { sub: 'ann', exp });
  };
  const c = disconnectAfter(t, new Herald(server.url,
    { ...over(transport), getToken, timeout: 5000 }));
  const states = [];
  c.on('state', (e) => states.push([e.state, e.code]));
  const sub = c.newSubscription(channel);
  const inbox = new Inbox(sub);
  const subscribed = nextEvent(sub, 'subscribed');
  sub.subscribe();
  c.connect();
  await c.ready();
  await subscribed;
  const stats = await c.presence(channel);
  assert.equal(Object.values(stats.clients)[0].user, 'ann', 'the token says who we are');

  const expired = nextEvent(c, 'connecting', (e) => e.code === 4004, 5000, 'disconnect 4004');
  const resubscribed = nextEvent(sub, 'subscribed', (e) => e.wasRecovering, 8000, 'resubscribed');
  await expired;
  // Published around the reconnect (which is immediate): delivered once, recovered or live.
  await api(server.port, 'publish', { channel: channel, data: 'while away' });
  await c.ready();
  const ev = await resubscribed;
  assert.equal(ev.recovered, true);
  await inbox.until(1, 5000, 'the publication from the gap');
  assert.deepEqual(inbox.pubs.map((p) => p.data), ['while away']);
  assert.equal(issued.length, 2, 'getToken() called once more, after 4004');
  assert.deepEqual(states, [['connecting', 1], ['connected', undefined], ['connecting', 4004],
    ['connected', undefined]]);
  assert.equal(c.transport, transport);
}

async function expiredAtConnect(t, transport) {
  let calls = 0;
  const getToken = () => mintToken(SECRET,
    { sub: 'bo', exp: ++calls === 1 ? nowS() - 60 : nowS() + 600 });
  const c = disconnectAfter(t, new Herald(server.url,
    { ...over(transport), getToken, timeout: 5000 }));
  const errors = [];
  c.on('error', (e) => errors.push(e));
  c.connect();
  await within(c.ready(), 5000, 'connected with the second token');
  assert.equal(calls, 2);
  assert.deepEqual(errors.map((e) => [e.type, e.error.code]), [['connect', 120]]);
  assert.equal(c.transport, transport);
}

async function invalidToken(t, transport) {
  const bad = mintToken('not the server secret, but long enough', { sub: 'x', exp: nowS() + 600 });
  let calls = 0;
  const getToken = () => {
  calls++;
  return bad;
  };
  const c = disconnectAfter(t, new Herald(server.url, { ...over(transport), getToken }));
  const gone = nextEvent(c, 'disconnected');
  c.connect();
  const e = await gone;
  assert.equal(e.code, 4501);
  assert.equal(calls, 1);
  assert.equal(c.state, 'disconnected');
  assert.equal(c._reconnectTimer, null);
}
