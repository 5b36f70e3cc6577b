// The /chat room with npm `ws` clients: every message reaches every other client once and never
// its sender; a client that leaves stops receiving; concurrent senders keep their order.
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, assertSameMessage, makeText, startHerald, within } from './herald.mjs';

let server;
before(async () => {
  server = await startHerald();
});
afterEach(() => {
  assert.ok(server.alive(), `the server died during the test; stderr:\n${server.stderr()}`);
});
after(async () => {
  const exit = await server.stop();
  assert.deepEqual(exit, { code: 0, signal: null },
    `SIGTERM after the suite: expected exit code 0; stderr:\n${server.stderr()}`);
});

// Alternate compressed and plain clients: one broadcast must reach both kinds.
async function join(name, i) {
  return Client.connect(name, server.url('/chat'),
    { perMessageDeflate: i % 2 === 0 ? { threshold: 0 } : false });
}

async function hears(client, expected, about) {
  assertSameMessage(await client.next(`${client.name} receives ${about}`), expected,
    `${client.name}'s next message is ${about}`);
}

test('4 clients: each message reaches every other client, never the sender', async () => {
  const clients = [];
  for (const [i, name] of ['A', 'B', 'C', 'D'].entries()) {
    clients.push(await join(name, i));
  }
  try {
    for (const sender of clients) {
      const text = `hello from ${sender.name} ${makeText(300)}`;
      await sender.send(text);
      for (const c of clients.filter((x) => x !== sender)) {
        await hears(c, text, `${sender.name}'s message`);
      }
    }
    // Had anyone received its own message, it would be read here instead of the marker.
    for (const sender of clients) {
      await sender.send(`marker from ${sender.name}`);
      for (const c of clients.filter((x) => x !== sender)) {
        await hears(c, `marker from ${sender.name}`,
          `${sender.name}'s marker (not an echo of its own messages)`);
      }
    }
  } finally {
    for (const c of clients) {
      await c.close();
    }
  }
});

test('a client that leaves stops receiving; the others keep chatting', async () => {
  const [a, b, c, d] = [await join('A', 0), await join('B', 1), await join('C', 2),
    await join('D', 3)];
  try {
    await a.send('everyone is here');
    for (const x of [b, c, d]) {
      await hears(x, 'everyone is here', 'the first message');
    }
    const { code } = await c.close(1000);
    assert.equal(code, 1000, `C's close answered with 1000, got ${code}`);
    await a.send('C has left');
    await hears(b, 'C has left', "A's message after C left");
    await hears(d, 'C has left', "A's message after C left");
    assert.equal(c.inbox.length, 0, `C received ${c.inbox.length} messages after leaving`);

    d.ws.terminate(); // TCP dropped without a close frame
    await within(d.closed, 5000, 'D is gone');
    for (let i = 0; i < 20; i++) {
      await b.send(`after D dropped ${i}`);
      await hears(a, `after D dropped ${i}`, `B's message ${i} after D dropped`);
    }
  } finally {
    await a.close();
    await b.close();
  }
});

test('3 senders x 300 messages at once: order kept per sender', { timeout: 60000 }, async () => {
  const count = 300;
  const clients = [];
  for (const [i, name] of ['S0', 'S1', 'S2', 'R'].entries()) {
    clients.push(await join(name, i));
  }
  const senders = clients.slice(0, 3);
  try {
    const receive = async (c) => {
      const next = Object.fromEntries(senders.filter((s) => s !== c).map((s) => [s.name, 0]));
      const total = count * Object.keys(next).length;
      for (let n = 0; n < total; n++) {
        const msg = await c.next(`${c.name} receives message ${n + 1} of ${total} ` +
          `(progress ${JSON.stringify(next)})`, 20000);
        const [from, seq, pad] = msg.split(':');
        assert.notEqual(from, c.name, `${c.name} received its own message ${msg.slice(0, 30)}`);
        assert.ok(from in next, `${c.name}: unexpected sender in ${msg.slice(0, 30)}`);
        assert.equal(Number(seq), next[from],
          `${c.name}: expected message ${next[from]} from ${from}, got ${seq} (order per sender)`);
        assert.equal(pad, 'z'.repeat(Number(seq) % 89), `${c.name}: payload intact`);
        next[from]++;
      }
    };
    const receivers = clients.map(receive);
    await Promise.all(senders.map(async (s) => {
      for (let seq = 0; seq < count; seq++) {
        s.ws.send(`${s.name}:${seq}:${'z'.repeat(seq % 89)}`);
      }
    }));
    await within(Promise.all(receivers), 30000, 'every client receives everything');
  } finally {
    for (const c of clients) {
      await c.close();
    }
  }
});
