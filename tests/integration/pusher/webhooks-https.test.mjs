// Webhooks over https:// (docs/PUSHER.md, "Webhooks"): Node https receivers on 127.0.0.1 with
// certificates made by `openssl` for this run (a test CA, and another CA nobody trusts), herald
// configured with pusher.webhook_tls_ca. A receiver whose certificate the CA signed for
// 127.0.0.1 gets the events signed and valid (the `pusher` library's webhook() checks them); a
// receiver whose certificate another CA signed, and one whose certificate names another host,
// are refused in the TLS handshake: they never get a request, each attempt is counted in
// herald_pusher_webhook_failed_attempts_total, and the reason is logged once per URL, not per
// retry. Waits on the receivers, /metrics and the log, never on time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import Pusher from 'pusher-js';
import PusherServer from 'pusher';
import { onCleanup, startHerald, within } from './harness.mjs';

const HOOK_APP = { id: '8', key: 'tls-hook-key', secret: 'tls-hook-secret-1' };

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-hooks-tls-'));
onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = (name) => path.join(dir, name);

function openssl(...args) {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60000 });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

// A CA: its certificate and key files.
function makeCa(name) {
  openssl('req', '-x509', ...EC, '-keyout', file(`${name}.key`), '-out', file(`${name}.pem`),
    '-days', '2', '-subj', `/CN=${name}`);
  return name;
}

// {cert, key} PEM text of a certificate `ca` signs for subjectAltName `san`.
function issue(ca, name, san) {
  openssl('req', ...EC, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`),
    '-subj', `/CN=${name}`);
  fs.writeFileSync(file(`${name}.ext`), `subjectAltName=${san}\n`);
  openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file(`${ca}.pem`), '-CAkey',
    file(`${ca}.key`), '-CAcreateserial', '-out', file(`${name}.pem`), '-days', '2',
    '-extfile', file(`${name}.ext`));
  return { cert: fs.readFileSync(file(`${name}.pem`)), key: fs.readFileSync(file(`${name}.key`)) };
}

const trusted = makeCa('trusted-ca');
const stranger = makeCa('stranger-ca');

// An https receiver: every request as {headers, rawBody, hook}, and the TLS handshakes that
// failed on its side (Node's tlsClientError: the client refused us, or went away).
async function receiver(pair) {
  const got = [];
  const tlsErrors = [];
  const verifier = new PusherServer({ appId: HOOK_APP.id, key: HOOK_APP.key,
    secret: HOOK_APP.secret });
  const server = https.createServer(pair, (req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (d) => { raw += d; });
    req.on('end', () => {
      got.push({ headers: req.headers, rawBody: raw, path: req.url,
        hook: verifier.webhook({ headers: req.headers, rawBody: raw }) });
      res.end('ok');
    });
  });
  server.on('tlsClientError', (err) => tlsErrors.push(err.message));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  }));
  return { port: server.address().port, got, tlsErrors };
}

async function heraldWith(webhooks, ca) {
  const config = file(`herald-${Math.random().toString(36).slice(2)}.yaml`);
  const app = { ...HOOK_APP, webhooks };
  fs.writeFileSync(config, `pusher:\n  webhook_tls_ca: ${JSON.stringify(ca)}\n` +
    `  apps:\n    - ${JSON.stringify(app)}\n`);
  const s = await startHerald(['--config', config]);
  onCleanup(() => s.stop().catch(() => {}));
  return s;
}

async function metric(port, name) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line ? Number(line.split(' ')[1]) : NaN;
}

// Polls cond (async) until it holds: each try is a real request or a log read.
async function until(cond, what, ms = 10000) {
  await within((async () => {
    while (!(await cond())) {
      await new Promise((r) => setTimeout(r, 20));
    }
  })(), ms, what);
}

function occupy(port, channel) {
  const p = new Pusher(HOOK_APP.key, {
    wsHost: '127.0.0.1', wsPort: port, forceTLS: false, enabledTransports: ['ws'],
    cluster: 'local', disableStats: true,
  });
  onCleanup(async () => p.disconnect());
  const ch = p.subscribe(channel);
  return within(new Promise((resolve) => ch.bind('pusher:subscription_succeeded', resolve)),
    5000, `subscribe ${channel}`);
}

test('https receivers: signed events to the verified one; another CA and another name refused, counted, logged once', async () => {
  const good = await receiver(issue(trusted, 'good', 'IP:127.0.0.1'));
  const otherCa = await receiver(issue(stranger, 'other-ca', 'IP:127.0.0.1'));
  const otherName = await receiver(issue(trusted, 'other-name', 'DNS:hooks.example'));
  const hook = (r, extra = {}) => ({ url: `https://127.0.0.1:${r.port}/hooks?k=1`, batch_ms: 20,
    events: ['channel_occupied'], ...extra });
  const s = await heraldWith([
    hook(good),
    // Three attempts each (250 ms, then 500 ms apart), then the batch is dropped.
    hook(otherCa, { max_attempts: 3 }),
    hook(otherName, { max_attempts: 3 }),
  ], file(`${trusted}.pem`));

  await occupy(s.port, 'orders');
  await occupy(s.port, 'invoices');
  await until(() => good.got.length >= 1 && good.got.flatMap((r) => r.hook.getEvents())
    .length >= 2, 'both events at the verified receiver');
  for (const r of good.got) {
    assert.equal(r.path, '/hooks?k=1');
    assert.equal(r.headers['x-pusher-key'], HOOK_APP.key);
    assert.ok(r.hook.isValid(), `signature of ${r.rawBody}`);
  }
  assert.deepEqual(good.got.flatMap((r) => r.hook.getEvents()).map((e) => e.channel).sort(),
    ['invoices', 'orders']);
  assert.deepEqual(good.tlsErrors, []);

  // Both refused receivers: each batch (one or two, as the events fell into batch windows)
  // tried three times, then dropped; no request reached them.
  await until(async () => (await (await fetch(`http://127.0.0.1:${s.port}/metrics`)).text())
    .split('\n').includes('herald_pusher_webhook_dropped_events_total{reason="attempts"} 4'),
  'both events of both refused URLs dropped after max_attempts');
  assert.ok(await metric(s.port, 'herald_pusher_webhook_failed_attempts_total') >= 6);
  assert.equal(otherCa.got.length, 0, 'a request reached the receiver of another CA');
  assert.equal(otherName.got.length, 0, 'a request reached the receiver of another name');
  // Herald did connect each time and gave up in the handshake (the test can fail).
  assert.ok(otherCa.tlsErrors.length >= 1, `handshakes at the other CA: ${otherCa.tlsErrors}`);
  assert.ok(otherName.tlsErrors.length >= 1, `handshakes at the other name: ${otherName.tlsErrors}`);
  assert.equal(await metric(s.port, 'herald_pusher_webhook_delivered_events_total'), 2);

  // The reason, once per URL (three or six failed attempts each, one line).
  const lines = (port) => s.stderr().split('\n')
    .filter((l) => l.includes(`webhook https://127.0.0.1:${port}:`));
  const caLines = lines(otherCa.port);
  assert.equal(caLines.length, 1, caLines.join('\n'));
  assert.match(caLines[0], /TLS handshake failed: certificate verify failed/);
  const nameLines = lines(otherName.port);
  assert.equal(nameLines.length, 1, nameLines.join('\n'));
  assert.match(nameLines[0], /TLS handshake failed: .*IP address mismatch/);
  assert.deepEqual(lines(good.port), []);
  assert.ok(!/\?k=1/.test(s.stderr()), 'the URL\'s query (it may hold a secret) is not logged');
});

test('webhook_tls_ca that is not a PEM file stops the start with one line naming it', async () => {
  const bad = file('not-a-ca.pem');
  fs.writeFileSync(bad, 'hello\n');
  await assert.rejects(heraldWith([{ url: 'https://127.0.0.1:9/x' }], bad),
    new RegExp(`pusher.webhook_tls_ca ${bad}: no PEM certificate in it`));
  // And set with no https:// webhook, it is refused rather than ignored.
  await assert.rejects(heraldWith([{ url: 'http://127.0.0.1:9/x' }], file(`${trusted}.pem`)),
    /pusher.webhook_tls_ca is set but no pusher webhook url is https/);
});
