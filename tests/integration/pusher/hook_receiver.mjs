// A webhook receiver for the Pusher tests (docs/PUSHER.md, "Webhooks"): a Node http server on
// loopback that keeps every request, answers with the status the test chooses, and checks each
// body and signature with the `pusher` server library's own webhook() helper, as a Laravel or
// Node backend would; and a herald started with a YAML config whose app has the webhook.
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Pusher from 'pusher-js';
import PusherServer from 'pusher';
import { onCleanup, startHerald, within } from './harness.mjs';

export const HOOK_APP = { id: '7', key: 'hook-key', secret: 'hook-secret-123' };

// A receiver: every request as {headers, rawBody, hook} (hook: the library's WebHook).
// statuses: what to answer, in order (then 200); hang: never answer at all.
export async function receiver({ statuses = [], hang = false } = {}) {
  const got = [];
  const waiters = [];
  const verifier = new PusherServer({ appId: HOOK_APP.id, key: HOOK_APP.key,
    secret: HOOK_APP.secret });
  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (d) => { raw += d; });
    req.on('end', () => {
      const hook = verifier.webhook({ headers: req.headers, rawBody: raw });
      got.push({ headers: req.headers, rawBody: raw, hook, path: req.url });
      for (const w of [...waiters]) {
        w();
      }
      if (hang) {
        return;  // the socket stays open until the server closes
      }
      res.statusCode = statuses.length > 0 ? statuses.shift() : 200;
      res.end('ok');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  }));
  return {
    url: `http://127.0.0.1:${server.address().port}/hooks/pusher?x=1`,
    got,
    // The events of requests answered 2xx (or all, for a hanging receiver), in arrival order.
    events() {
      return got.filter((r, i) => r.hook.isValid() && got.findIndex(
        (o) => o.headers['x-pusher-signature'] === r.headers['x-pusher-signature']) === i)
        .flatMap((r) => r.hook.getEvents());
    },
    until(cond, what, ms = 10000) {
      return within(new Promise((resolve) => {
        const check = () => {
          if (cond()) {
            resolve();
            return true;
          }
          return false;
        };
        if (!check()) {
          const w = () => {
            if (check()) {
              waiters.splice(waiters.indexOf(w), 1);
            }
          };
          waiters.push(w);
        }
      }), ms, what);
    },
  };
}

// extra: more of the app's fields; args: more command-line arguments; yaml: more top-level config.
export async function heraldWith(webhooks, extra = {}, { args = [], yaml = '' } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-hooks-'));
  const config = path.join(dir, 'herald.yaml');
  const app = { ...HOOK_APP, webhooks, ...extra };
  fs.writeFileSync(config, `${yaml}pusher:\n  apps:\n    - ${JSON.stringify(app)}\n`);
  const s = await startHerald(['--config', config, ...args]);
  onCleanup(async () => {
    await s.stop().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return s;
}

export function hookClient(port, user) {
  const signer = new PusherServer({ appId: HOOK_APP.id, key: HOOK_APP.key,
    secret: HOOK_APP.secret });
  const p = new Pusher(HOOK_APP.key, {
    wsHost: '127.0.0.1', wsPort: port, forceTLS: false, enabledTransports: ['ws'],
    cluster: 'local', disableStats: true,
    channelAuthorization: {
      customHandler: (params, cb) => cb(null, signer.authorizeChannel(params.socketId,
        params.channelName, params.channelName.startsWith('presence-')
          ? { user_id: user, user_info: { name: user } } : undefined)),
    },
  });
  onCleanup(async () => p.disconnect());
  return p;
}

export function subscribe(p, name) {
  const ch = p.subscribe(name);
  return within(new Promise((resolve, reject) => {
    ch.bind('pusher:subscription_succeeded', () => resolve(ch));
    ch.bind('pusher:subscription_error', (e) => reject(new Error(JSON.stringify(e))));
  }), 5000, `subscribe ${name}`);
}

export async function metric(port, name) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line ? Number(line.split(' ')[1]) : NaN;
}

export const names = (events, name) => events.filter((e) => e.name === name);
