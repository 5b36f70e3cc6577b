// The dashboard (/dashboard) in real headless chromium: while a load runs (Herald protocol
// clients over WebSocket, SSE streams, long-poll sessions and raw TCP clients, and a backend
// publishing), the figures it renders move, then fall back when the load stops. Also takes the
// README's screenshot of it. Run by tests/e2e/run.sh (ctest -L e2e).
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { api, launchBrowser, openPage, screenshotPath, startHerald, waitFor, within } from
  './herald.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const CHANNELS = 6;

// The load: connections of every transport, each subscribed to one of CHANNELS channels, and
// publications from a backend and from the WebSocket clients. Everything it opens, close() ends.
class Load {
  constructor(server) {
    this.server = server;
    this.sockets = [];
    this.requests = [];
    this.polls = [];
    this.timer = null;
    this.tick = 0;
  }

  async protocolClient(i) {
    const ws = new WebSocket(this.server.wsUrl('/connection/websocket'));
    this.sockets.push(ws);
    await within(new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    }), 5000, `protocol client ${i} connects`);
    ws.on('message', () => {});
    ws.send(`{"id":1,"method":"connect"}\n` +
      `{"id":2,"method":"subscribe","params":{"channel":"load:${i % CHANNELS}"}}`);
    return ws;
  }

  sse(i) {
    const req = http.get(`${this.server.base}/connection/sse?channel=load:${i % CHANNELS}`,
      (res) => res.resume());
    req.on('error', () => {});
    this.requests.push(req);
  }

  async poll(i) {
    const res = await fetch(`${this.server.base}/connection/poll`, {
      method: 'POST',
      body: `{"id":1,"method":"connect"}\n` +
        `{"id":2,"method":"subscribe","params":{"channel":"load:${i % CHANNELS}"}}`,
    });
    this.polls.push(res.headers.get('herald-session'));
    await res.text();
  }

  tcp(i) {
    const s = net.connect(this.server.tcpPort, '127.0.0.1', () => {
      s.write(`{"id":1,"method":"connect"}\n` +
        `{"id":2,"method":"subscribe","params":{"channel":"load:${i % CHANNELS}"}}\n`);
    });
    s.on('data', () => {});
    s.on('error', () => {});
    this.sockets.push(s);
  }

  // Publishes every 100 ms, at a rate that rises and falls, so the charts have a shape.
  startPublishing() {
    this.timer = setInterval(() => {
      this.tick += 1;
      const n = 4 + Math.round(10 * (1 + Math.sin(this.tick / 8)));
      const commands = [];
      for (let k = 0; k < n; k++) {
        commands.push({ method: 'publish',
          params: { channel: `load:${(this.tick + k) % CHANNELS}`, data: { n: this.tick } } });
      }
      api(this.server, 'batch', { commands }).catch(() => {});
      // Some of the WebSocket clients publish too (messages in).
      for (const ws of this.sockets.slice(0, 6)) {
        if (ws instanceof WebSocket && ws.readyState === WebSocket.OPEN) {
          ws.send(`{"id":${100 + this.tick},"method":"publish",` +
            `"params":{"channel":"load:${this.tick % CHANNELS}","data":"hi"}}`);
        }
      }
    }, 100);
  }

  async close() {
    clearInterval(this.timer);
    for (const s of this.sockets) {
      if (s instanceof WebSocket) {
        s.close();
      } else {
        s.destroy();
      }
    }
    for (const r of this.requests) {
      r.destroy();
    }
    await Promise.all(this.polls.map((session) =>
      fetch(`${this.server.base}/connection/poll?session=${session}`, { method: 'DELETE' })
        .then((r) => r.text()).catch(() => {})));
  }
}

function figure(page, id) {
  return page.$eval(`#${id}`, (n) => (n.dataset.value === '' ? null : Number(n.dataset.value)));
}

test('the dashboard\'s figures move while a load runs, and fall back after it', async () => {
  const server = await startHerald({ args: ['--threads', '2', '--tcp-listen', '127.0.0.1:0'] });
  const load = new Load(server);
  try {
    const page = await openPage(browser, `${server.base}/dashboard`,
      { viewport: { width: 1360, height: 940 } });
    await waitFor('the dashboard is live', () =>
      page.$eval('#status', (s) => s.dataset.state === 'live'));
    await waitFor('the dashboard shows its first figures', async () =>
      (await figure(page, 'v-connections')) === 0);
    assert.equal(await page.$$eval('#loops tbody tr', (rows) => rows.length), 2, 'two loops');
    await new Promise((r) => setTimeout(r, 4000)); // a quiet start on the charts

    // Ramp up over a few seconds: 24 WebSocket clients, 5 SSE streams, 3 long-poll sessions,
    // 4 raw TCP clients.
    load.startPublishing();
    for (let i = 0; i < 24; i++) {
      await load.protocolClient(i);
      if (i % 5 === 0) {
        load.sse(i);
      }
      if (i % 8 === 0) {
        await load.poll(i);
      }
      if (i % 6 === 0) {
        load.tcp(i);
      }
      await new Promise((r) => setTimeout(r, 180));
    }
    const total = 24 + 5 + 3 + 4;
    await waitFor(`the dashboard shows ${total} connections`, async () =>
      (await figure(page, 'v-connections')) === total);
    await waitFor(`and ${CHANNELS} channels`, async () =>
      (await figure(page, 'v-channels')) === CHANNELS);
    await waitFor('messages out per second above 20', async () =>
      (await figure(page, 'v-out')) > 20);
    await waitFor('messages in per second above 0', async () => (await figure(page, 'v-in')) > 0);
    await waitFor('publications per second above 0', async () =>
      (await figure(page, 'v-pubs')) > 0);
    const perLoop = await page.$$eval('#loops tbody tr td:nth-child(2)',
      (cells) => cells.map((c) => Number(c.dataset.value)));
    assert.equal(perLoop.length, 2);
    assert.ok(perLoop.reduce((a, b) => a + b, 0) >= 24 + 5 + 4,
      `the loops' connections add up to the load at least (${perLoop})`);
    const legend = await page.$eval('#legend-connections b[data-key="websocket"]',
      (b) => Number(b.dataset.value));
    assert.equal(legend, 24, 'the chart legend says 24 WebSockets');
    assert.ok((await figure(page, 'v-lag')) >= 0, 'a loop lag figure');

    await new Promise((r) => setTimeout(r, 8000)); // the charts draw the load for a while
    await page.screenshot({ path: screenshotPath('dashboard.png'), fullPage: true });

    await load.close();
    await waitFor('connections fall back to 0 after the load', async () =>
      (await figure(page, 'v-connections')) === 0, { timeout: 20000 });
    await waitFor('messages out per second fall back to 0', async () =>
      (await figure(page, 'v-out')) === 0);
    assert.deepEqual(page.errors, [], 'no error in the page');

    // The server goes away: the page says so instead of showing stale figures.
    await server.kill();
    await waitFor('the dashboard says the server is unreachable', () =>
      page.$eval('#status', (s) => s.dataset.state === 'disconnected'));
    await page.context().close();
  } catch (err) {
    err.message += `\nserver alive: ${server.alive()}; its stderr:\n${server.stderr()}`;
    throw err;
  } finally {
    await load.close();
    await server.stop();
  }
});

// On a phone (390 px wide) neither page scrolls sideways: the dashboard's charts shrink with
// their column (a grid column of 1fr kept the width of a canvas drawn for a wider layout).
test('both pages fit a phone\'s width', async () => {
  const server = await startHerald();
  try {
    for (const path of ['/#lobby', '/dashboard']) {
      const page = await openPage(browser, `${server.base}${path}`,
        { viewport: { width: 390, height: 844 } });
      await waitFor(`${path} has drawn`, () => page.evaluate(() =>
        document.querySelector('#status')?.dataset.state === 'live' ||
        document.querySelector('#messages') !== null));
      await page.waitForTimeout(1500); // a few refreshes: the charts redraw at their size
      const widths = await page.evaluate(() => ({
        page: document.documentElement.scrollWidth, viewport: window.innerWidth }));
      assert.ok(widths.page <= widths.viewport,
        `${path}: ${widths.page} px of content in a ${widths.viewport} px wide window`);
      assert.deepEqual(page.errors, [], `no error in ${path}`);
      await page.context().close();
    }
  } finally {
    await server.stop();
  }
});

// A loop that stops turning (its thread stopped with ptrace by tests/integration/herald_ptrace.py,
// as a handler stuck in an endless loop would leave it) is marked on the dashboard: the lag
// figure says "stalled" and the loop's row is flagged; once the thread goes on, both clear.
// Also takes the screenshot of that state. Skipped (said so) where ptrace is forbidden.
test('a loop that stops turning is marked stalled, then clears', async (t) => {
  const server = await startHerald({ args: ['--threads', '2', '--stall-timeout', '1'] });
  let stall = null;
  try {
    const page = await openPage(browser, `${server.base}/dashboard`,
      { viewport: { width: 1360, height: 940 } });
    await waitFor('the dashboard is live', () =>
      page.$eval('#status', (s) => s.dataset.state === 'live'));
    await new Promise((r) => setTimeout(r, 3000)); // some history on the charts
    const helper = new URL('../integration/herald_ptrace.py', import.meta.url).pathname;
    stall = spawn('/usr/bin/python3', [helper, String(server.pid), '1', '12'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    stall.stderr.on('data', (d) => { err += d; });
    const exited = new Promise((resolve) => stall.on('exit', resolve));
    const stopped = await within(Promise.race([
      new Promise((resolve) => stall.stdout.once('data', () => resolve(true))),
      exited.then((code) => code === 0)]), 10000, 'herald_ptrace stops loop 1');
    if (!stopped) {
      t.skip(`ptrace is forbidden here: ${err.trim()}`);
      return;
    }
    await waitFor('the lag figure says stalled', () =>
      page.$eval('#v-lag', (n) => n.textContent.trim() === 'stalled'), { timeout: 11000 });
    await waitFor('loop 1\'s row is flagged', () =>
      page.$$eval('#loops tbody tr', (rows) => rows.map((r) => r.classList.contains('stalled')))
        .then((flags) => flags[0] === false && flags[1] === true));
    await page.screenshot({ path: screenshotPath('dashboard-stalled.png'), fullPage: true });
    await within(exited, 20000, 'herald_ptrace lets the loop go');
    await waitFor('the stall clears', () =>
      page.$eval('#v-lag', (n) => n.textContent.trim() !== 'stalled'), { timeout: 10000 });
    assert.equal(await page.$$eval('#loops tbody tr.stalled', (rows) => rows.length), 0);
    assert.deepEqual(page.errors, [], 'no error in the page');
    await page.context().close();
  } finally {
    if (stall && stall.exitCode === null) {
      stall.kill('SIGTERM');
    }
    await server.stop();
  }
});
