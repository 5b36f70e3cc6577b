// Helpers of the browser tests: the real `herald` binary ($HERALD_BIN) started on 127.0.0.1 and
// stopped by its pid (never by name), Debian's chromium driven by playwright-core (never a
// downloaded browser), and waits that poll a condition with a deadline and say what they waited
// for when it passes.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.HERALD_CHROMIUM || '/usr/bin/chromium';
const LISTEN_LINE = /^herald listening on http:\/\/([0-9.]+):([0-9]+)$/;
const TCP_LINE = /^herald tcp on tcp:\/\/([0-9.]+):([0-9]+)$/;

// Servers still running when this process exits are killed by their pid, and temporary data
// directories removed.
const liveChildren = new Set();
const tempDirs = [];
process.on('exit', () => {
  for (const child of liveChildren) {
    child.kill('SIGKILL');
  }
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

// Rejects with "step '<what>': timed out after <ms> ms" unless `promise` settles first.
export function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`step '${what}': timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
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
// memory). Resolves once its first stdout line gives the port.
export async function startHerald({ listen = '127.0.0.1:0', dataDir = null, args = [] } = {}) {
  const bin = process.env.HERALD_BIN;
  if (!bin) {
    throw new Error('HERALD_BIN is not set: it must be the path of the herald binary');
  }
  const argv = ['serve', '--listen', listen, ...(dataDir ? ['--data-dir', dataDir] : ['--memory']),
    ...args];
  const child = spawn(bin, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  liveChildren.add(child);
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d.toString()).slice(-8192);
  });
  let exit = null;
  const exited = new Promise((resolve) => child.on('exit', (code, sig) => {
    liveChildren.delete(child);
    exit = { code, sig };
    resolve(exit);
  }));
  const wantLines = args.includes('--tcp-listen') ? 2 : 1;
  const lines = new Promise((resolve, reject) => {
    let out = '';
    const onData = (d) => {
      out += d.toString();
      const got = out.split('\n');
      if (got.length > wantLines) {
        child.stdout.off('data', onData);
        child.stdout.resume();
        resolve(got.slice(0, wantLines));
      }
    };
    child.stdout.on('data', onData);
    child.on('error', reject);
    exited.then(({ code, sig }) => reject(new Error(`herald exited (code ${code}, signal ${sig}) ` +
      `before it said where it listens; stderr: ${stderr}`)));
  });
  let first;
  try {
    first = await within(lines, 15000, `start herald ${argv.join(' ')}`);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const m = LISTEN_LINE.exec(first[0]);
  if (!m) {
    child.kill('SIGKILL');
    throw new Error(`expected 'herald listening on http://127.0.0.1:<port>', got ${first[0]}`);
  }
  const port = Number(m[2]);
  const tcp = wantLines > 1 ? TCP_LINE.exec(first[1]) : null;
  return {
    port,
    tcpPort: tcp ? Number(tcp[2]) : 0,
    pid: child.pid,
    base: `http://127.0.0.1:${port}`,
    wsUrl: (path = '') => `ws://127.0.0.1:${port}${path}`,
    stderr: () => stderr,
    alive: () => exit === null,
    // SIGKILL: what a crash or an OOM kill does.
    async kill() {
      if (exit === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
    // SIGTERM (a drain), then SIGKILL after graceMs.
    async stop(graceMs = 10000) {
      if (exit !== null) {
        return exit;
      }
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const e = await exited;
      clearTimeout(timer);
      return e;
    },
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
