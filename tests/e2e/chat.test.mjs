// The chat page (/) in real headless chromium against the real server: two people chat, the
// server is killed and restarted under them, and the tutorials' `new WebSocket('ws://host:port')`
// reaches the classic chat room. Run by tests/e2e/run.sh (ctest -L e2e).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import {
  api, chatState, launchBrowser, openPage, presenceNames, renderedMessages, say, screenshotPath,
  startHerald, tempDir, waitFor, within,
} from './herald.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

// Waits until `page` shows exactly `texts`, in this order, each once, at consecutive offsets
// starting at `first`.
async function expectMessages(page, who, texts, first = 1) {
  const want = texts.map((text, i) => ({ offset: first + i, text }));
  await waitFor(`${who} shows ${JSON.stringify(texts)}`, async () => {
    const got = (await renderedMessages(page)).map(({ offset, text }) => ({ offset, text }));
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      throw new Error(`shows ${JSON.stringify(got)}`); // not yet: waitFor tries again
    }
    return got;
  });
}

// Waits until every page shows each of `texts` once, at the consecutive offsets 1..n, in the
// same order on every page (the order of publications that raced each other is the server's).
async function expectSameMessages(pages, texts) {
  const want = [...texts].sort();
  await waitFor(`every page shows ${JSON.stringify(texts)} once each, in one order`, async () => {
    const lists = await Promise.all(pages.map((p) => renderedMessages(p)));
    const ok = lists.every((list) =>
      list.every((m, i) => m.offset === i + 1) &&
      JSON.stringify(list.map((m) => m.text).sort()) === JSON.stringify(want) &&
      JSON.stringify(list) === JSON.stringify(lists[0]));
    if (!ok) {
      throw new Error(`shows ${JSON.stringify(lists.map((l) => l.map((m) => [m.offset, m.text])))}`);
    }
    return lists[0];
  });
  return (await renderedMessages(pages[0])).map((m) => m.text);
}

async function waitConnected(page, who) {
  await waitFor(`${who} is connected`, async () => (await chatState(page)) === 'connected');
}

async function waitPresence(page, who, names) {
  await waitFor(`${who}'s presence list shows ${names.join(' and ')}`, async () => {
    const got = await presenceNames(page);
    if (!names.every((n) => got.includes(n))) {
      throw new Error(`shows ${got.join(', ') || 'nobody'}`);
    }
    return got;
  });
}

describe('the chat page', () => {
  test('two pages chat through /: messages both ways, presence shows both', async () => {
    const server = await startHerald();
    try {
      const ann = await openPage(browser, `${server.base}/#lobby`, { nick: 'Ann' });
      const bo = await openPage(browser, `${server.base}/#lobby`, { nick: 'Bo' });
      await waitConnected(ann, 'Ann');
      await waitConnected(bo, 'Bo');
      await waitPresence(ann, 'Ann', ['Ann', 'Bo']);
      await waitPresence(bo, 'Bo', ['Ann', 'Bo']);

      await say(ann, 'Morning! Did the deploy go out?');
      await expectMessages(bo, 'Bo', ['Morning! Did the deploy go out?']);
      await say(bo, 'Yes, ten minutes ago. Every client reconnected on its own.');
      const both = ['Morning! Did the deploy go out?',
        'Yes, ten minutes ago. Every client reconnected on its own.'];
      await expectMessages(ann, 'Ann', both);
      const first = (await renderedMessages(bo))[0];
      assert.equal(first.nick, 'Ann', 'the message carries its sender\'s nickname');
      assert.match(await bo.$eval('#messages li.msg time', (t) => t.textContent), /\d{1,2}.\d{2}/,
        'and the time it was sent');
      assert.equal(await ann.$eval('#messages li.msg', (li) => li.classList.contains('own')), true,
        'Ann\'s own message is marked as hers');

      // A backend's publication (server API) and a few more lines, for the README's picture.
      await api(server, 'publish', { channel: 'chat:lobby',
        data: { text: 'Build #1432 passed on main: 2,418 tests, 0 failures.', nick: 'CI bot' } });
      const ci = 'Build #1432 passed on main: 2,418 tests, 0 failures.';
      await say(ann, 'Nice. The dashboard showed 20k messages a second at the peak.');
      await expectMessages(bo, 'Bo', [...both, ci,
        'Nice. The dashboard showed 20k messages a second at the peak.']);
      await say(bo, 'Let\'s keep an eye on the loop lag this afternoon.');
      await say(bo, 'I\'ll post the numbers here.');
      const all = [...both, ci, 'Nice. The dashboard showed 20k messages a second at the peak.',
        'Let\'s keep an eye on the loop lag this afternoon.', 'I\'ll post the numbers here.'];
      await expectMessages(ann, 'Ann', all);

      // A page opened later gets the recent history on entering the room.
      const cleo = await openPage(browser, `${server.base}/#lobby`, { nick: 'Cleo' });
      await expectMessages(cleo, 'Cleo (history on join)', all);
      await cleo.context().close();
      await waitFor('Ann sees Cleo leave', async () =>
        !(await presenceNames(ann)).includes('Cleo'));

      await ann.fill('#text', 'Sounds good');
      await ann.screenshot({ path: screenshotPath('chat.png') });

      // Another room, and back: each room is its own channel, with its own history.
      await ann.click('#rooms a[href="#random"]');
      await waitFor('Ann is in #random', async () =>
        (await ann.$eval('#room-title', (h) => h.textContent)) === '# random');
      await say(ann, 'anyone here?');
      await expectMessages(ann, 'Ann in #random', ['anyone here?']);
      await ann.click('#rooms a[href="#lobby"]');
      await expectMessages(ann, 'Ann back in #lobby', all);
      assert.equal((await renderedMessages(bo)).length, all.length, '#random stayed out of #lobby');
      assert.deepEqual(ann.errors, [], 'no error in Ann\'s page');
      assert.deepEqual(bo.errors, [], 'no error in Bo\'s page');
      await ann.context().close();
      await bo.context().close();
    } finally {
      await server.stop();
    }
  });

  test('SIGKILL and restart: both pages show reconnecting, recover, lose and repeat nothing',
    async () => {
      const dataDir = tempDir();
      let server = await startHerald({ dataDir });
      const port = server.port;
      try {
        const ann = await openPage(browser, `${server.base}/#ops`, { nick: 'Ann' });
        const bo = await openPage(browser, `${server.base}/#ops`, { nick: 'Bo' });
        await waitConnected(ann, 'Ann');
        await waitConnected(bo, 'Bo');
        await say(ann, 'one');
        await expectMessages(bo, 'Bo', ['one']);
        await say(bo, 'two');
        await expectMessages(ann, 'Ann', ['one', 'two']);

        await server.kill();
        await waitFor('both pages show reconnecting', async () =>
          (await chatState(ann)) === 'reconnecting' && (await chatState(bo)) === 'reconnecting');
        const banner = await ann.$eval('#banner', (b) => (b.hidden ? '' : b.textContent));
        assert.match(banner, /Reconnecting/, 'the room says the connection is being restored');
        // Typed while the server is down: it waits in the outbox, then goes out once.
        await say(ann, 'three (sent while the server was down)');
        await waitFor('the message waits in Ann\'s outbox', () =>
          ann.$eval('#outbox', (o) => o.textContent.includes('three')));

        server = await startHerald({ dataDir, listen: `127.0.0.1:${port}` });
        // Published by a backend right after the restart, before the pages are back.
        await api(server, 'publish',
          { channel: 'chat:ops', data: { text: 'four (from the API)' } });

        await waitConnected(ann, 'Ann after the restart');
        await waitConnected(bo, 'Bo after the restart');
        // "three" went out when Ann's page reconnected, which may be before or after "four".
        const all = await expectSameMessages([ann, bo], ['one', 'two', 'four (from the API)',
          'three (sent while the server was down)']);
        assert.deepEqual(all.slice(0, 2), ['one', 'two']);
        assert.equal(await ann.$eval('#outbox', (o) => o.children.length), 0, 'outbox empty');

        await say(bo, 'five');
        await expectMessages(ann, 'Ann', [...all, 'five']);
        await expectMessages(bo, 'Bo', [...all, 'five']);
        assert.equal(await ann.$eval('#banner', (b) => b.hidden), true, 'no banner once back');
        // The page itself logs nothing; chromium's own "connection refused" lines are expected.
        const ours = (errors) => errors.filter((e) => !/WebSocket connection to .* failed/.test(e));
        assert.deepEqual(ours(ann.errors), [], 'no error in Ann\'s page');
        assert.deepEqual(ours(bo.errors), [], 'no error in Bo\'s page');
        await ann.context().close();
        await bo.context().close();
      } finally {
        await server.stop();
      }
    });

  test('new WebSocket(\'ws://127.0.0.1:PORT\') from a page joins the classic chat room',
    async () => {
      const server = await startHerald();
      let classic;
      try {
        const page = await openPage(browser, `${server.base}/`);
        classic = new WebSocket(server.wsUrl('/chat'));
        const inbox = [];
        classic.on('message', (m) => inbox.push(m.toString()));
        await within(new Promise((resolve, reject) => {
          classic.once('open', resolve);
          classic.once('error', reject);
        }), 5000, 'a /chat client connects');

        // The tutorials' browser code, unchanged: no path, no protocol.
        await page.evaluate((url) => new Promise((resolve, reject) => {
          const ws = new WebSocket(url);
          window.tutorial = { ws, got: [] };
          ws.onmessage = (e) => window.tutorial.got.push(e.data);
          ws.onopen = () => {
            ws.send('hello from a tutorial');
            resolve();
          };
          ws.onerror = () => reject(new Error('the WebSocket to / failed'));
        }), `ws://127.0.0.1:${server.port}`);
        await waitFor('the /chat client receives the page\'s message',
          () => inbox.includes('hello from a tutorial'));
        classic.send('hello back from /chat');
        await waitFor('the page receives the /chat client\'s message', () =>
          page.evaluate(() => window.tutorial.got.includes('hello back from /chat')));
        assert.deepEqual(page.errors, []);
        await page.context().close();
      } finally {
        classic?.close();
        await server.stop();
      }
    });

  // A proxy that refuses WebSocket upgrades: every WebSocket the page opens goes to a port where
  // nothing listens, so it fails the way a blocked upgrade does (an error, then close 1006), not
  // by a constructor that throws. The SDK must fall through to SSE and stay there.
  test('a page whose WebSocket is blocked falls back to SSE and still chats', async () => {
    const server = await startHerald();
    try {
      const blocked = await openPage(browser, `${server.base}/#fallback`, { nick: 'Ann',
        init: () => {
          const Real = window.WebSocket;
          window.webSocketsTried = 0;
          window.WebSocket = class extends Real {
            constructor(url, protocols) {
              window.webSocketsTried += 1;
              super('ws://127.0.0.1:9/blocked', protocols);
            }
          };
        } });
      const bo = await openPage(browser, `${server.base}/#fallback`, { nick: 'Bo' });
      await waitConnected(blocked, 'Ann (no WebSocket)');
      assert.equal(await blocked.evaluate(() => window.heraldChat.client.transport), 'sse');
      assert.ok(await blocked.evaluate(() => window.webSocketsTried) >= 1,
        'the page tried WebSocket first');
      await waitConnected(bo, 'Bo');
      await say(blocked, 'over SSE');
      await expectMessages(bo, 'Bo', ['over SSE']);
      await say(bo, 'over WebSocket');
      await expectMessages(blocked, 'Ann', ['over SSE', 'over WebSocket']);
      await blocked.context().close();
      await bo.context().close();
    } finally {
      await server.stop();
    }
  });
});
