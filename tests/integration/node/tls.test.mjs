// wss with npm `ws` on Node: the server speaks TLS with a certificate the test makes with
// `openssl req`; the client trusts exactly that certificate. /chat fan-out and a 1 MiB message go
// through, and a client that does not trust the certificate is refused by its own TLS check.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Client, MIB, assertSameMessage, makeText, startHerald, within } from './herald.mjs';

let dir;
let server;
let ca;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'herald-node-tls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=herald-node-test',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  ca = readFileSync(cert);
  server = await startHerald(['--tls-cert', cert, '--tls-key', key]);
});
after(async () => {
  const exit = await server.stop();
  rmSync(dir, { recursive: true, force: true });
  assert.deepEqual(exit, { code: 0, signal: null }, `SIGTERM: exit 0; stderr:\n${server.stderr()}`);
});

test('wss /chat: three clients, each message reaches the two others; 1 MiB too', async () => {
  assert.match(server.url('/chat'), /^wss:/);
  const clients = [];
  for (const name of ['A', 'B', 'C']) {
    clients.push(await Client.connect(name, server.url('/chat'), { ca }));
  }
  try {
    for (const text of ['hello over TLS', makeText(MIB)]) {
      await clients[0].send(text);
      for (const c of clients.slice(1)) {
        assertSameMessage(await c.next(`${c.name} receives`), text, `${c.name} gets it`);
      }
    }
  } finally {
    for (const c of clients) {
      c.ws.close();
    }
  }
});

test('a client that does not trust the certificate refuses the connection itself', async () => {
  const ws = new WebSocket(server.url('/chat'));
  const err = await within(new Promise((resolve) => ws.once('error', resolve)), 5000,
    'the untrusting client fails');
  assert.match(String(err.code || err.message), /SELF_SIGNED|CERT|certificate/i);
});
