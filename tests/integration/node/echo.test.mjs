// Echo over /echo with the npm `ws` client: size boundaries up to the 16 MiB default limit, text
// and binary, without compression, with permessage-deflate, deflate-negotiated but sent
// uncompressed, and deflate offered to a server started with --no-deflate; plus messages sent as
// several frames with send(data, {fin: false}).
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, MIB, assertSameMessage, makeBinary, makeText, startHerald, within }
  from './herald.mjs';

const SIZES = [0, 125, 126, 65535, 65536, 16 * MIB];
const MODES = {
  uncompressed: { connect: { perMessageDeflate: false }, send: {} },
  'server --no-deflate': {
    connect: { perMessageDeflate: { threshold: 0 } }, send: {}, server: 'noDeflate',
  },
  // threshold 0: compress every message, even the empty one.
  deflate: { connect: { perMessageDeflate: { threshold: 0 } }, send: { compress: true } },
  'deflate negotiated, sent uncompressed': {
    connect: { perMessageDeflate: { threshold: 0 } }, send: { compress: false },
  },
};

const servers = {};
before(async () => {
  servers.main = await startHerald();
  servers.noDeflate = await startHerald(['--no-deflate']);
});
afterEach(() => {
  for (const [name, s] of Object.entries(servers)) {
    assert.ok(s.alive(), `the ${name} server died during the test; stderr:\n${s.stderr()}`);
  }
});
after(async () => {
  for (const [name, s] of Object.entries(servers)) {
    const exit = await s.stop();
    assert.deepEqual(exit, { code: 0, signal: null },
      `SIGTERM to the ${name} server after the suite: expected exit code 0; ` +
      `stderr:\n${s.stderr()}`);
  }
});

async function open(mode, name) {
  const server = servers[MODES[mode].server ?? 'main'];
  const c = await Client.connect(name, server.url('/echo'), MODES[mode].connect);
  const ext = c.ws.extensions;
  if (mode === 'uncompressed' || mode === 'server --no-deflate') {
    assert.equal(ext, '', `${name}: no extension when none is offered, got '${ext}'`);
  } else {
    assert.match(ext, /permessage-deflate/,
      `${name}: permessage-deflate negotiated when offered, got '${ext}'`);
  }
  return c;
}

for (const mode of Object.keys(MODES)) {
  describe(`echo, ${mode}`, () => {
    for (const kind of ['text', 'binary']) {
      for (const size of SIZES) {
        test(`${kind} ${size} bytes`, { timeout: 40000 }, async () => {
          const msg = kind === 'text' ? makeText(size) : makeBinary(size);
          const c = await open(mode, `${mode} ${kind} ${size}`);
          try {
            const what = `${kind} message of ${size} bytes (${mode})`;
            await within(c.send(msg, { binary: kind === 'binary', ...MODES[mode].send }),
              30000, `send ${what}`);
            assertSameMessage(await c.next(`receive the echo of ${what}`, 30000), msg,
              `echo of ${what}`);
            const again = kind === 'text' ? makeText(100) : makeBinary(100);
            await c.send(again, { binary: kind === 'binary', ...MODES[mode].send });
            assertSameMessage(await c.next('echo of a 100-byte message after it'), again,
              `echo of a 100-byte ${kind} message after the ${size}-byte one`);
          } finally {
            await c.close();
          }
        });
      }
    }

    const FRAGMENTED = {
      'text in 3 frames': ['Hello, ', 'wor', 'ld! €😀'],
      'text with empty frames': ['', 'a', '', 'bc', ''],
      'binary 100 KiB in 10 frames': Array.from({ length: 10 }, (_, i) => makeBinary(10240 + i)),
      'binary 1 MiB in 16 frames': Array.from({ length: 16 }, () => makeBinary(65536)),
    };
    for (const [name, parts] of Object.entries(FRAGMENTED)) {
      test(`fragmented ${name}`, { timeout: 20000 }, async () => {
        const binary = Buffer.isBuffer(parts[0]);
        const whole = binary ? Buffer.concat(parts) : parts.join('');
        const c = await open(mode, `${mode} fragmented ${name}`);
        try {
          for (let i = 0; i < parts.length; i++) {
            await within(c.send(parts[i],
              { binary, fin: i === parts.length - 1, ...MODES[mode].send }),
            5000, `send fragment ${i + 1} of ${parts.length}`);
          }
          assertSameMessage(await c.next(`echo of ${name}`, 10000), whole,
            `echo of ${name} is the reassembled message`);
          await c.send('after', MODES[mode].send);
          assertSameMessage(await c.next('echo after the fragmented message'), 'after',
            'echo of a plain message after the fragmented one');
        } finally {
          await c.close();
        }
      });
    }
  });
}

test('ping -> pong with the same payload', async () => {
  const c = await open('uncompressed', 'pinger');
  try {
    for (const payload of [Buffer.alloc(0), Buffer.from('hello'), makeBinary(125)]) {
      const pong = new Promise((resolve) => c.ws.once('pong', resolve));
      c.ws.ping(payload);
      const got = await within(pong, 5000, `pong for a ${payload.length}-byte ping`);
      assertSameMessage(Buffer.from(got), payload, 'pong payload equals the ping payload');
    }
  } finally {
    await c.close();
  }
});

test('close 1000 -> the server answers 1000', async () => {
  const c = await open('uncompressed', 'closer');
  const { code } = await c.close(1000);
  assert.equal(code, 1000, `close code from the server: expected 1000, got ${code}`);
});
