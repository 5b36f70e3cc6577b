// pusher-js's HTTP fallbacks (xhr_streaming, xhr_polling under /pusher/app/{key}/) against the
// herald binary: the real pusher-js 8 in Node (its node build carries its own XMLHttpRequest, the
// `xmlhttprequest` package, which streams: readyState 3 per chunk), then the wire format by hand
// for what pusher-js never sends. Two loops per server, so a session's requests cross loops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { APP, client, connected, next, restClient, server, subscribed, track,
  within } from './harness.mjs';

// The transport pusher-js settled on.
function transportOf(p) {
  return p.connection.connection.transport.name;
}

// A port nothing listens on: WebSocket attempts there are refused at once.
async function closedPort() {
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

for (const transport of ['xhr_streaming', 'xhr_polling']) {
  test(`${transport}: subscribe, receive, toOthers, client events, presence, close codes`,
    async () => {
      // A session ends min(5 s, session_timeout) after the connection of its stream or held
      // poll closed: 2 s here.
      const s = await server(['--session-timeout', '2']);
      const rest = restClient(s.port);
      const a = track(client(s.port, { user: 'alice', info: { n: 1 }, transports: [transport] }));
      const b = track(client(s.port, { user: 'bob', transports: [transport] }));
      const w = track(client(s.port, { user: 'walt' }));  // WebSocket, on the same channels
      const idA = await connected(a);
      await connected(b);
      await connected(w);
      assert.match(idA, /^\d+\.\d+$/);
      assert.equal(transportOf(a), transport);
      assert.equal(transportOf(b), transport);

      // Public and private channels get REST events; socket_id excludes that socket only.
      const { ch: pubA } = await subscribed(a, 'news');
      const { ch: privA } = await subscribed(a, 'private-inbox');
      const { ch: privB } = await subscribed(b, 'private-inbox');
      const gotPub = next(pubA, 'headline');
      await rest.trigger('news', 'headline', { text: 'hello over http' });
      assert.deepEqual((await gotPub).data, { text: 'hello over http' });
      let aGot = 0;
      privA.bind('note', () => { aGot += 1; });
      const gotB = next(privB, 'note', 'note to b');
      await rest.trigger('private-inbox', 'note', { n: 1 }, { socket_id: idA });
      assert.deepEqual((await gotB).data, { n: 1 });
      const gotA2 = next(privA, 'note', 'second note to a');
      await rest.trigger('private-inbox', 'note', { n: 2 });
      assert.deepEqual((await gotA2).data, { n: 2 });
      assert.equal(aGot, 1);  // the first one skipped A, and nothing else came meanwhile

      // A burst arrives whole and in order (events of one turn share an answer).
      const seen = [];
      const all = within(new Promise((resolve) => {
        privB.bind('seq', (d) => {
          seen.push(d.i);
          if (seen.length === 50) {
            resolve();
          }
        });
      }), 10000, 'burst of 50');
      await rest.triggerBatch(Array.from({ length: 10 }, (_, i) => ({
        channel: 'private-inbox', name: 'seq', data: JSON.stringify({ i }) })));
      for (let i = 10; i < 50; ++i) {
        await rest.trigger('private-inbox', 'seq', { i });
      }
      await all;
      assert.deepEqual(seen, Array.from({ length: 50 }, (_, i) => i));

      // Presence: the WebSocket client sees the HTTP clients join with their info.
      const { ch: presW, data: start } = await subscribed(w, 'presence-room');
      assert.equal(start.count, 1);
      const addedA = next(presW, 'pusher:member_added', 'alice added');
      const { ch: presA } = await subscribed(a, 'presence-room');
      assert.deepEqual((await addedA).data, { id: 'alice', info: { n: 1 } });
      const addedB = next(presW, 'pusher:member_added', 'bob added');
      const { ch: presB, data: members } = await subscribed(b, 'presence-room');
      await addedB;
      assert.equal(members.count, 3);

      // Client events sent through xhr_send: to the others with user_id, never echoed.
      let echoed = 0;
      presA.bind('client-typing', () => { echoed += 1; });
      const toB = next(presB, 'client-typing', 'whisper to b');
      const toW = next(presW, 'client-typing', 'whisper to w');
      assert.equal(presA.trigger('client-typing', { typing: true }), true);
      const { data, meta } = await toB;
      assert.deepEqual(data, { typing: true });
      assert.equal(meta.user_id, 'alice');
      assert.equal((await toW).meta.user_id, 'alice');
      const back = next(presA, 'client-reply', 'reply to a');
      presW.trigger('client-reply', {});
      await back;
      assert.equal(echoed, 0);

      // A refused client event is a pusher:error on the same session, which goes on.
      const err = next(a.connection, 'error', 'error 4302');
      pubA.trigger('client-nope', {});
      assert.equal((await err).data.data.code, 4302);
      assert.equal(a.connection.state, 'connected');

      // The client leaves (pusher-js aborts its stream or held poll): its session ends after the
      // grace and its presence goes with it.
      const removed = within(new Promise((resolve) => presW.bind('pusher:member_removed', resolve)),
        10000, 'bob removed');
      b.disconnect();
      assert.deepEqual(await removed, { id: 'bob', info: {} });

      // signin and sendToUser over the fallback.
      a.signin();
      await within(a.user.signinDonePromise, 5000, 'signin done');
      await within(new Promise((resolve) => {
        const check = () => (a.user.serverToUserChannel?.subscribed ? resolve()
          : setTimeout(check, 10));
        check();
      }), 5000, 'server-to-user channel subscribed');
      const personal = next(a.user, 'notice', 'sendToUser');
      await rest.sendToUser('alice', 'notice', { text: 'hi' });
      assert.deepEqual((await personal).data, { text: 'hi' });

      // terminateUserConnections closes the session with 4009: pusher-js does not reconnect.
      const closed = within(new Promise((resolve) => a.connection.bind('state_change',
        (st) => { if (st.current === 'disconnected' || st.current === 'failed') resolve(st); })),
      5000, 'terminated');
      await rest.terminateUserConnections('alice');
      await closed;
      assert.notEqual(a.connection.state, 'connected');
    });
}

test('default strategy: WebSocket refused, pusher-js falls back to xhr_streaming', async () => {
  const s = await server();
  const p = track(client(s.port, { transports: null, wsPort: await closedPort() }));
  // ws first, then (after pusher-js's own 5 s delay) its HTTP loop, streaming first.
  await within(new Promise((resolve) => p.connection.bind('connected', resolve)), 20000,
    'fallback connects');
  assert.equal(transportOf(p), 'xhr_streaming');
  const { ch } = await subscribed(p, 'news');
  const got = next(ch, 'headline');
  await restClient(s.port).trigger('news', 'headline', { via: 'fallback' });
  assert.deepEqual((await got).data, { via: 'fallback' });
});

// An event's data, whether sent as an object or as a JSON string.
function dataOf(event) {
  return typeof event.data === 'string' ? JSON.parse(event.data) : event.data;
}

async function post(port, path, body, headers = {}) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', body, headers });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

test('wire: frames, refusals and bad requests on /pusher/app/', async () => {
  const s = await server();
  const base = `/pusher/app/${APP.key}/123/abcdefgh`;
  // A poll opens the session: "o", then connection_established in an "a" frame.
  const first = await post(s.port, `${base}/xhr?protocol=7&client=js&version=8.6.0`);
  assert.equal(first.status, 200);
  const lines = first.text.trimEnd().split('\n');
  assert.equal(lines[0], 'o');
  assert.ok(lines[1].startsWith('a['), lines[1]);
  const established = JSON.parse(JSON.parse(lines[1].slice(1))[0]);
  assert.equal(established.event, 'pusher:connection_established');
  assert.match(JSON.parse(established.data).socket_id, /^\d+\.\d+$/);

  // xhr_send: a subscribe; the next poll has subscription_succeeded.
  const sub = JSON.stringify({ event: 'pusher:subscribe', data: { channel: 'news' } });
  assert.equal((await post(s.port, `${base}/xhr_send`, JSON.stringify([sub]))).status, 204);
  const second = await post(s.port, `${base}/xhr?protocol=7`);
  const events = JSON.parse(second.text.trimEnd().slice(1)).map((e) => JSON.parse(e));
  assert.deepEqual(events.map((e) => e.event), ['pusher_internal:subscription_succeeded']);
  assert.equal(events[0].channel, 'news');
  // An empty array is the heartbeat.
  assert.equal((await post(s.port, `${base}/xhr_send`, '[]')).status, 204);

  // Bad bodies, unknown sessions, bad paths, methods.
  assert.equal((await post(s.port, `${base}/xhr_send`, '{"event":"x"}')).status, 400);
  assert.equal((await post(s.port, `${base}/xhr_send`, '[1]')).status, 400);
  assert.equal((await post(s.port, `${base}/xhr_send`, 'not json')).status, 400);
  assert.equal((await post(s.port, `/pusher/app/${APP.key}/1/nosuchsession/xhr_send`, '[]')).status,
    404);
  assert.equal((await post(s.port, `/pusher/app/${APP.key}/1/a.b/xhr`, '')).status, 404);
  assert.equal((await post(s.port, `/pusher/app/${APP.key}/1/abc/websocket`, '')).status, 404);
  const get = await fetch(`http://127.0.0.1:${s.port}${base}/xhr`);
  assert.equal(get.status, 405);
  // A bad event inside xhr_send is the protocol's own error on the session.
  assert.equal((await post(s.port, `${base}/xhr_send`, JSON.stringify(['{oops']))).status, 204);
  const third = await post(s.port, `${base}/xhr?protocol=7`);
  const bad = JSON.parse(JSON.parse(third.text.trimEnd().slice(1))[0]);
  assert.equal(bad.event, 'pusher:error');
  assert.equal(dataOf(bad).code, 4300);

  // An unknown key and a missing protocol are refused as on a WebSocket: o, error, close.
  const unknown = await post(s.port, '/pusher/app/nokey/1/abcdefgh/xhr_streaming?protocol=7');
  const u = unknown.text.trimEnd().split('\n');
  assert.equal(u[0], 'o');
  assert.equal(dataOf(JSON.parse(JSON.parse(u[1].slice(1))[0])).code, 4001);
  assert.equal(JSON.parse(u[2].slice(1))[0], 4001);
  const noProto = await post(s.port, `/pusher/app/${APP.key}/1/zzzzzzzz/xhr`);
  assert.equal(JSON.parse(noProto.text.trimEnd().split('\n')[2].slice(1))[0], 4008);

  // A CORS preflight from a page elsewhere is allowed (no origin list configured).
  const pre = await fetch(`http://127.0.0.1:${s.port}${base}/xhr_send`, { method: 'OPTIONS',
    headers: { Origin: 'http://app.example', 'Access-Control-Request-Method': 'POST' } });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), 'http://app.example');
  assert.match(pre.headers.get('access-control-allow-headers'), /Content-Type/i);

  const metrics = await (await fetch(`http://127.0.0.1:${s.port}/metrics`)).text();
  assert.match(metrics, /^herald_pusher_xhr_sessions_total [1-9]/m);
  assert.match(metrics, /^herald_pusher_xhr_refusals_total [1-9]/m);
});
