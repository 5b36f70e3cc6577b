// Laravel Echo with pusher-js in real headless chromium against the real server, as a Laravel
// page uses them (docs/LARAVEL.md): pages served by a tiny static server of this test (the
// "application": the page, pusher-js's browser build, Echo's IIFE build, and the
// /broadcasting/auth endpoints signed by the `pusher` server library), Herald on another port
// (so pusher-js's requests to it are cross-origin, CORS included). Two people join a presence
// channel, whisper, and get a broadcast sent through the REST API with socket_id excluded; a
// page whose WebSockets are blocked falls back to xhr_streaming and still receives and whispers.
// Run by tests/e2e/run.sh (ctest -L e2e).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import PusherServer from 'pusher';
import { launchBrowser, openPage, startHerald, waitFor } from './herald.mjs';

const require = createRequire(import.meta.url);
const APP = { id: '7', key: 'echo-key', secret: 'echo-secret-123' };
const FILES = {
  '/pusher.js': require.resolve('pusher-js/dist/web/pusher.js'),
  '/echo.js': require.resolve('laravel-echo/iife'),
};
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>Echo</title>
<script src="/pusher.js"></script><script src="/echo.js"></script></head><body></body></html>`;

// The application: its page, the two scripts, and Laravel's /broadcasting/auth endpoints (the
// user is the X-User header Echo sends with auth.headers, as a session cookie would say).
function startApp(rest) {
  const scripts = Object.fromEntries(Object.entries(FILES).map(([url, file]) =>
    [url, readFileSync(file)]));
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://app');
    if (req.method === 'GET' && url.pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (req.method === 'GET' && url.pathname === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE);
      return;
    }
    if (req.method === 'GET' && scripts[url.pathname]) {
      res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(scripts[url.pathname]);
      return;
    }
    if (req.method === 'POST' && url.pathname.startsWith('/broadcasting/')) {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => {
        const form = new URLSearchParams(body);
        const user = req.headers['x-user'];
        let answer;
        if (url.pathname === '/broadcasting/auth') {
          const channel = form.get('channel_name');
          answer = rest.authorizeChannel(form.get('socket_id'), channel,
            channel.startsWith('presence-') ? { user_id: user, user_info: { name: user } }
              : undefined);
        } else {
          answer = rest.authenticateUser(form.get('socket_id'), { id: user });
        }
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer));
      });
      return;
    }
    res.writeHead(404).end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    base: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => server.close(r)),
  })));
}

// Echo in the page, as resources/js/echo.js sets it up for Herald (docs/LARAVEL.md), with the
// page's events collected in window.seen.
async function startEcho(page, heraldPort, user, { enabledTransports } = {}) {
  await page.evaluate(({ port, key, user, enabledTransports }) => {
    window.seen = { here: null, joining: [], leaving: [], whispers: [], messages: [], notes: [] };
    window.echo = new Echo.default({
      broadcaster: 'pusher',
      key,
      cluster: 'mt1',
      wsHost: '127.0.0.1',
      wsPort: port,
      wssPort: port,
      httpHost: '127.0.0.1',
      httpPort: port,
      forceTLS: false,
      disableStats: true,
      ...(enabledTransports ? { enabledTransports } : {}),
      auth: { headers: { 'X-User': user } },
    });
  }, { port: heraldPort, key: APP.key, user, enabledTransports });
  await waitFor(`${user} connected`, () => page.evaluate(() =>
    window.echo.connectionStatus() === 'connected'), { timeout: 30000 });
}

function transportOf(page) {
  return page.evaluate(() => window.echo.connector.pusher.connection.connection.transport.name);
}

function seen(page) {
  return page.evaluate(() => window.seen);
}

// Joins presence-<room> with Echo's presence API and listens for whispers and the broadcast.
function joinRoom(page, room) {
  return page.evaluate((room) => {
    window.echo.join(room)
      .here((users) => { window.seen.here = users.map((u) => u.name).sort(); })
      .joining((u) => window.seen.joining.push(u.name))
      .leaving((u) => window.seen.leaving.push(u.name))
      .listenForWhisper('typing', (e) => window.seen.whispers.push(e))
      .listen('MessageSent', (e) => window.seen.messages.push(e.text));
  }, room);
}

// Resolves to the page's socket id once Echo has one.
function socketId(page) {
  return page.evaluate(() => window.echo.socketId());
}

describe('Laravel Echo and pusher-js in chromium', () => {
  let browser;
  let herald;
  let app;
  let rest;
  before(async () => {
    browser = await launchBrowser();
    herald = await startHerald({ args: ['--threads', '2', '--session-timeout', '3',
      '--pusher-app', `${APP.id}:${APP.key}:${APP.secret}`] });
    rest = new PusherServer({ appId: APP.id, key: APP.key, secret: APP.secret,
      host: '127.0.0.1', port: String(herald.port), useTLS: false });
    app = await startApp(rest);
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    await herald?.stop();
  });

  test('presence: here, joining, whisper, a broadcast toOthers(), leaving', async () => {
    const ann = await openPage(browser, `${app.base}/`);
    const bo = await openPage(browser, `${app.base}/`);
    await startEcho(ann, herald.port, 'ann', { enabledTransports: ['ws'] });
    await startEcho(bo, herald.port, 'bo', { enabledTransports: ['ws'] });
    assert.equal(await transportOf(ann), 'ws');

    await joinRoom(ann, 'room');
    await waitFor('ann is here alone', async () =>
      JSON.stringify((await seen(ann)).here) === '["ann"]');
    await joinRoom(bo, 'room');
    await waitFor('bo sees both', async () =>
      JSON.stringify((await seen(bo)).here) === '["ann","bo"]');
    await waitFor('ann sees bo joining', async () =>
      JSON.stringify((await seen(ann)).joining) === '["bo"]');

    // A whisper reaches the other one only.
    await bo.evaluate(() => window.echo.join('room').whisper('typing', { who: 'bo' }));
    await waitFor('ann gets the whisper', async () =>
      JSON.stringify((await seen(ann)).whispers) === '[{"who":"bo"}]');

    // Laravel's broadcast(new MessageSent(...))->toOthers() from ann's request: the REST event
    // carries ann's socket id (X-Socket-ID), so everyone but ann gets it.
    const annSocket = await socketId(ann);
    assert.match(annSocket, /^\d+\.\d+$/);
    await rest.trigger('presence-room', 'App\\Events\\MessageSent', { text: 'from ann' },
      { socket_id: annSocket });
    await waitFor('bo gets the broadcast', async () =>
      JSON.stringify((await seen(bo)).messages) === '["from ann"]');
    await rest.trigger('presence-room', 'App\\Events\\MessageSent', { text: 'to all' });
    await waitFor('ann gets only the second broadcast', async () =>
      JSON.stringify((await seen(ann)).messages) === '["to all"]');
    assert.deepEqual((await seen(bo)).messages, ['from ann', 'to all']);
    assert.deepEqual((await seen(bo)).whispers, [], 'a whisper never returns to its sender');

    await bo.evaluate(() => window.echo.leave('room'));
    await waitFor('ann sees bo leaving', async () =>
      JSON.stringify((await seen(ann)).leaving) === '["bo"]');
    assert.deepEqual([...ann.errors, ...bo.errors], []);
    await ann.context().close();
    await bo.context().close();
  });

  // A proxy that refuses WebSocket upgrades: every WebSocket the page opens goes to a port where
  // nothing listens, so it fails as a blocked upgrade does. pusher-js's default strategy then
  // tries its HTTP fallbacks, streaming first.
  test('WebSocket blocked: pusher-js falls back to xhr_streaming, receives and whispers',
    async () => {
      const blocked = await openPage(browser, `${app.base}/`, { init: () => {
        const Real = window.WebSocket;
        window.webSocketsTried = 0;
        window.WebSocket = class extends Real {
          constructor(url, protocols) {
            window.webSocketsTried += 1;
            super('ws://127.0.0.1:9/blocked', protocols);
          }
        };
      } });
      const open = await openPage(browser, `${app.base}/`);
      // The transports docs/LARAVEL.md sets: WebSocket first, then the HTTP fallbacks.
      await startEcho(blocked, herald.port, 'cy',
        { enabledTransports: ['ws', 'wss', 'xhr_streaming', 'xhr_polling'] });
      await startEcho(open, herald.port, 'di', { enabledTransports: ['ws'] });
      assert.equal(await transportOf(blocked), 'xhr_streaming');
      assert.ok(await blocked.evaluate(() => window.webSocketsTried) >= 1,
        'the page tried WebSocket first');

      await joinRoom(open, 'lobby');
      await waitFor('di is here', async () => (await seen(open)).here !== null);
      await joinRoom(blocked, 'lobby');
      await waitFor('cy (xhr_streaming) sees both', async () => {
        const here = JSON.stringify((await seen(blocked)).here);
        if (here !== '["cy","di"]') {
          throw new Error(`here is ${here}; page errors ${JSON.stringify(blocked.errors)}`);
        }
        return true;
      });
      await waitFor('di sees cy joining', async () =>
        (await seen(open)).joining.includes('cy'));

      await rest.trigger('presence-lobby', 'App\\Events\\MessageSent', { text: 'over http' });
      await waitFor('cy receives the broadcast over xhr_streaming', async () =>
        JSON.stringify((await seen(blocked)).messages) === '["over http"]');
      // Whispers both ways: cy's goes up through xhr_send.
      await blocked.evaluate(() => window.echo.join('lobby').whisper('typing', { who: 'cy' }));
      await waitFor('di gets cy\'s whisper', async () =>
        JSON.stringify((await seen(open)).whispers) === '[{"who":"cy"}]');
      await open.evaluate(() => window.echo.join('lobby').whisper('typing', { who: 'di' }));
      await waitFor('cy gets di\'s whisper', async () =>
        JSON.stringify((await seen(blocked)).whispers) === '[{"who":"di"}]');

      // The page goes away: its session ends and cy leaves the room for the others.
      await blocked.context().close();
      await waitFor('di sees cy leaving', async () => (await seen(open)).leaving.includes('cy'),
        { timeout: 15000 });
      const ours = open.errors.filter((e) => !/WebSocket connection to .* failed/.test(e));
      assert.deepEqual(ours, []);
      await open.context().close();
    });
});
