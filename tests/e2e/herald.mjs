// Helpers of the browser tests: the real `herald` binary ($HERALD_BIN) started on 127.0.0.1 and
// stopped by its pid (never by name), Debian's chromium driven by playwright-core (never a
// downloaded browser), and waits that poll a condition with a deadline and say what they waited
// for when it passes.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { spawnHerald, within } from '../support/herald_process.mjs';

export { within };

export const CHROMIUM = process.env.HERALD_CHROMIUM || '/usr/bin/chromium';

// Temporary data directories are removed when this process exits (servers still running then
// are killed by herald_process.mjs).
const tempDirs = [];
process.on('exit', () => {
  for (const dir of tempDirs) {
    rmSync(dir, { recursive: true, force: true });
  }
});

export function tempDir(prefix = 'herald-e2e-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

// Where screenshots go: $HERALD_SCREENSHOTS (docs/images to refresh the README's), else a
// temporary directory.
export function screenshotPath(name) {
  const dir = process.env.HERALD_SCREENSHOTS || tempDir('herald-shots-');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}

// Polls fn() (sync or async) until it returns a truthy value, which it returns. A check that is
// not met yet returns a falsy value or throws an Error saying what it saw, never a truthy
// description of the failure (that would end the wait). On timeout the error names the step and
// the last value (or error) seen.
export async function waitFor(what, fn, { timeout = 15000, interval = 100 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) {
        return last;
      }
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const seen = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`step '${what}': not true within ${timeout} ms (last: ${seen})`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

// Starts `herald serve --listen <listen> ...` with durable history in dataDir (default: in
// memory). Resolves once it said where it listens (tests/support/herald_process.mjs).
export async function startHerald({ listen = '127.0.0.1:0', dataDir = null, args = [] } = {}) {
  const bin = process.env.HERALD_BIN;
  if (!bin) {
    throw new Error('HERALD_BIN is not set: it must be the path of the herald binary');
  }
  const argv = ['serve', '--listen', listen, ...(dataDir ? ['--data-dir', dataDir] : ['--memory']),
    ...args];
  const server = await spawnHerald(bin, argv);
  return {
    ...server,
    base: `http://127.0.0.1:${server.port}`,
    wsUrl: (path = '') => `ws://127.0.0.1:${server.port}${path}`,
  };
}

// POST /api/<method> from this (loopback) host: no key needed.
export async function api(server, method, params) {
  const res = await fetch(`${server.base}/api/${method}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(params),
  });
  const body = await res.json();
  if (!res.ok || body.error) {
    throw new Error(`POST /api/${method} ${JSON.stringify(params)}: HTTP ${res.status} ` +
      JSON.stringify(body));
  }
  return body.result ?? body;
}

// Headless chromium from Debian; every test file launches one.
export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
}

// A page in its own browser context (its own localStorage) with `nick` stored as the chat
// nickname. Page errors and console errors are collected in page.errors.
export async function openPage(browser, url, { nick = null, viewport = { width: 1280, height: 800 },
  init = null } = {}) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  if (nick) {
    await context.addInitScript(
      (n) => localStorage.setItem('herald.nick', JSON.stringify(n)), nick);
  }
  if (init) {
    await context.addInitScript(init);
  }
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (err) => page.errors.push(String(err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error') {
      page.errors.push(msg.text());
    }
  });
  await page.goto(url);
  return page;
}

// The chat page's messages as rendered: [{offset, nick, text}] in page order.
export function renderedMessages(page) {
  return page.$$eval('#messages li.msg', (items) => items.map((li) => ({
    offset: Number(li.dataset.offset),
    nick: li.querySelector('.nick')?.textContent ?? '',
    text: li.querySelector('.text')?.textContent ?? '',
  })));
}

// The nicknames in the chat page's presence list.
export function presenceNames(page) {
  return page.$$eval('#presence li .name', (items) => items.map((n) => n.textContent));
}

export function chatState(page) {
  return page.$eval('#status', (s) => s.dataset.state);
}

// Sends a message through the page's composer, as a person would.
export async function say(page, text) {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
}
