// Backoff: full jitter inside [0, cap] for every attempt, the cap doubling from min up to max,
// and the NOW / LATER variants; then the same delays as the client actually waits them, on a
// fake clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Backoff, LATER_MIN_ATTEMPT, Retry, backoffCap, fullJitter } from '../../src/backoff.js';
import { Herald } from '../../src/index.js';
import { FakeClock, FakeNetwork } from '../helpers/fake.mjs';

test('the cap doubles from min and stops at max', () => {
  const caps = Array.from({ length: 10 }, (_, n) => backoffCap(n, 500, 20000));
  assert.deepEqual(caps, [500, 1000, 2000, 4000, 8000, 16000, 20000, 20000, 20000, 20000]);
  assert.equal(backoffCap(5000, 500, 20000), 20000, 'a huge attempt (2^n = Infinity) is max');
  assert.equal(backoffCap(0, 100, 100), 100);
});

test('each delay is inside [0, cap] of its attempt: both ends reached, nothing outside', () => {
  for (let attempt = 0; attempt < 12; attempt++) {
    const cap = backoffCap(attempt, 500, 20000);
    assert.equal(fullJitter(attempt, 500, 20000, () => 0), 0, `attempt ${attempt}: random 0`);
    assert.equal(fullJitter(attempt, 500, 20000, () => 0.999999999), cap,
      `attempt ${attempt}: random just under 1 gives the cap`);
    assert.equal(fullJitter(attempt, 500, 20000, () => 0.5), cap / 2);
  }
});

test('with Math.random, 2000 delays per attempt stay in bounds and spread over the window', () => {
  for (let attempt = 0; attempt < 8; attempt++) {
    const cap = backoffCap(attempt, 500, 20000);
    let lo = Infinity;
    let hi = -Infinity;
    let below = 0;
    for (let i = 0; i < 2000; i++) {
      const d = fullJitter(attempt, 500, 20000, Math.random);
      assert.ok(d >= 0 && d <= cap && Number.isInteger(d),
        `attempt ${attempt}: ${d} not in [0, ${cap}]`);
      lo = Math.min(lo, d);
      hi = Math.max(hi, d);
      below += d < cap / 2 ? 1 : 0;
    }
    // Full jitter, not +-50%: the low tenth and the high tenth of the window are both used, and
    // about half the delays fall under cap/2 (binomial: 1000 +- 22; 150 is ~7 sigma).
    assert.ok(lo < cap * 0.1, `attempt ${attempt}: smallest ${lo} of cap ${cap}`);
    assert.ok(hi > cap * 0.9, `attempt ${attempt}: largest ${hi} of cap ${cap}`);
    assert.ok(Math.abs(below - 1000) < 150, `attempt ${attempt}: ${below}/2000 under cap/2`);
  }
});

test('Backoff walks the attempts, resets, and checks its settings', () => {
  const b = new Backoff({ min: 100, max: 1000, random: () => 0.999999999 });
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => b.next()), [100, 200, 400, 800, 1000, 1000]);
  b.reset();
  assert.equal(b.next(), 100);
  assert.throws(() => new Backoff({ min: 0 }), RangeError);
  assert.throws(() => new Backoff({ min: 500, max: 100 }), RangeError);
  assert.throws(() => new Backoff({ random: 'x' }), TypeError);
  const bad = new Backoff({ random: () => 7 });
  assert.throws(() => bad.next(), RangeError);
});

test('NOW is 0 only for the first retry after a success; LATER starts high', () => {
  const b = new Backoff({ min: 100, max: 100000, random: () => 0.999999999 });
  assert.equal(b.next(Retry.NOW), 0);
  assert.equal(b.next(Retry.NOW), 200, 'a second NOW in a row backs off (attempt 1)');
  b.reset();
  assert.equal(b.next(Retry.LATER), 100 * 2 ** LATER_MIN_ATTEMPT);
  assert.equal(b.next(Retry.BACKOFF), 100 * 2 ** (LATER_MIN_ATTEMPT + 1));
});

test('the client waits exactly the jittered delays, the window doubling up to max', async () => {
  const clock = new FakeClock();
  const net = new FakeNetwork();
  const randoms = [0.25, 0.999999999, 0.5, 0.1, 0.75, 0.999999999, 0.5, 0.999999999];
  let r = 0;
  const client = new Herald(null, {
    clock, random: () => randoms[r++] ?? 0.5, minReconnectDelay: 500, maxReconnectDelay: 4000,
    transports: [net.factory('fake', 'refuse')],
  });
  const errors = [];
  client.on('error', (e) => errors.push(e));
  client.connect();
  await clock.advance(0);
  const waits = [];
  for (let attempt = 0; attempt < randoms.length; attempt++) {
    assert.equal(net.transports.length, attempt + 1);
    const wait = clock.nextIn();
    waits.push(wait);
    await clock.advance(wait);
  }
  const caps = [500, 1000, 2000, 4000, 4000, 4000, 4000, 4000];
  assert.deepEqual(waits, caps.map((c, i) => Math.round(c * randoms[i])));
  assert.equal(errors.length, randoms.length + 1, 'every refused attempt is reported');
  assert.ok(errors.every((e) => e.type === 'transport' && e.error.code === 1006));
  assert.equal(client.state, 'connecting');
  client.disconnect();
  assert.equal(clock.timerCount, 0, 'disconnect() cancels the reconnect timer');
});
