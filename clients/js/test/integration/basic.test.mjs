// Against the real server, over each transport (WebSocket, SSE, long-polling): connect,
// subscribe, publish and receive (from another SDK client and from the server API), presence,
// history, join/leave, and a server-side disconnect that must not be retried.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Herald } from '../../src/index.js';
import {
  Inbox, TRANSPORTS, api, disconnectAfter, integrationOptions, mintToken, nextEvent, over,
  startHerald, tempDir,
} from '../helpers/server.mjs';

const opts = integrationOptions();
let server;
let dir;

before(async () => {
  if (opts.skip) {
    return;
  }
  dir = tempDir();
  // join/leave pushes are off by default; turn them on for every namespace.
  const config = dir.file('herald.yaml', 'default_namespace:\n  join_leave: true\n');
  server = await startHerald({ args: ['--config', config] });
});

after(async () => {
  await server?.stop();
  dir?.remove();
});

for (const transport of TRANSPORTS) {
  test(`${transport}: two clients: subscribe, publish, receive; server API publish; join, leave, ` +
    'presence, history', opts, (t) => twoClients(t, transport));
  test(`${transport}: POST /api/disconnect (4503): disconnected, and the client does not come back`,
    opts, (t) => forceDisconnect(t, transport));
}

function client(transport, options = {}) {
  return new Herald(server.url, { ...over(transport), timeout: 5000, ...options });
}

async function twoClients(t, transport) {
  const room = `chat:room-${transport}`;
  const alice = client(transport, { data: { name: 'Alice' } });
  const bob = client(transport, { data: { name: 'Bob' } });
  t.after(() => {
    alice.disconnect();
    bob.disconnect();
  });
  alice.connect();
  bob.connect();
  await Promise.all([alice.ready(), bob.ready()]);
  assert.deepEqual([alice.transport, bob.transport], [transport, transport]);
  const aliceSub = alice.newSubscription(room);
  const aliceInbox = new Inbox(aliceSub);
  aliceSub.subscribe();
  await nextEvent(aliceSub, 'subscribed');

  const joined = nextEvent(aliceSub, 'join', (e) => e.info.client === bob.clientId);
  const bobSub = bob.newSubscription(room);
  const bobInbox = new Inbox(bobSub);
  const bobSubscribed = nextEvent(bobSub, 'subscribed');
  bobSub.subscribe();
  const j = await joined;
  assert.deepEqual(j, { channel: room,
    info: { user: '', client: bob.clientId, info: { name: 'Bob' } } });
  await bobSubscribed;

  const r1 = await aliceSub.publish({ text: 'hello' });
  const r2 = await api(server.port, 'publish',
    { channel: room, data: { text: 'from backend' } });
  assert.equal(r2.offset, r1.offset + 1);
  const pubs = await bobInbox.until(2, 5000, 'bob receives both');
  assert.deepEqual(pubs.map((p) => [p.offset, p.data]),
    [[r1.offset, { text: 'hello' }], [r2.offset, { text: 'from backend' }]]);
  assert.equal(pubs[0].info.client, alice.clientId);
  assert.deepEqual(pubs[0].info.info, { name: 'Alice' });
  assert.equal(pubs[1].info, undefined, 'a backend publication has no publisher');
  assert.equal(typeof pubs[0].time, 'number');
  await aliceInbox.until(2, 5000, 'alice receives her own publication and the backend one');

  const presence = await alice.presence(room);
  assert.deepEqual(Object.keys(presence.clients).sort(), [alice.clientId, bob.clientId].sort());
  assert.deepEqual(await alice.presenceStats(room), { numClients: 2, numUsers: 0 });
  const history = await alice.history(room, { limit: 1, reverse: true });
  assert.equal(history.publications[0].offset, r2.offset);
  assert.equal(history.offset, r2.offset);

  const left = nextEvent(aliceSub, 'leave', (e) => e.info.client === bob.clientId);
  bobSub.unsubscribe();
  await left;

  const err = await alice.publish('bad channel', 1).catch((e) => e);
  assert.equal(err.code, 104, 'an error reply carries the protocol code');
  assert.equal(alice.state, 'connected');
}

async function forceDisconnect(t, transport) {
  const secret = 'an integration test secret of 32+ bytes';
  const s = await startHerald({ args: ['--token-secret', secret] });
  try {
    const token = mintToken(secret, { sub: 'u-4503', exp: Math.floor(Date.now() / 1000) + 600 });
    const c = disconnectAfter(t, new Herald(s.url, { ...over(transport), token,
      minReconnectDelay: 10, maxReconnectDelay: 20 }));
    c.connect();
    await c.ready();
    const gone = nextEvent(c, 'disconnected');
    await api(s.port, 'disconnect', { user: 'u-4503' });
    const e = await gone;
    assert.equal(e.code, 4503);
    assert.equal(c.state, 'disconnected');
    assert.equal(c._reconnectTimer, null, 'no reconnect scheduled');
  } finally {
    await s.stop();
  }
}
