// Reconnect policy: exponential backoff with full jitter, and what each server disconnect code
// asks of the client (docs/PROTOCOL.md, "Disconnect codes" and "Unsubscribe codes").
//
// Full jitter (the "Exponential Backoff And Jitter" scheme): the n-th retry (n = 0, 1, ...) waits
// a uniformly random time in [0, min(max, min * 2^n)]. Spreading every delay over the whole
// window, not +-50% around it, is what keeps a thousand clients that lost the same server from
// coming back in waves.

// How to go on after a connection ended.
export const Retry = Object.freeze({
  NO: 'no', // do not reconnect by yourself (4500-4999, or the server said reconnect: false)
  BACKOFF: 'backoff', // reconnect after the next backoff delay (every other code)
  LATER: 'later', // the server is overloaded (1013): reconnect after a long backoff
  NOW: 'now', // reconnect at once, then back off if that fails (4004: a fresh token fixes it)
});

// The backoff attempt a LATER disconnect starts from: with the defaults (0.5 s to 20 s) the
// window is [0, 16 s] instead of [0, 0.5 s].
export const LATER_MIN_ATTEMPT = 5;

// The retry class of a disconnect code. `reconnect` is the flag of the disconnect push, when there
// was one; false always wins. Codes nobody has documented yet are judged by their range, as the
// protocol requires of clients.
export function retryClass(code, reconnect) {
  if (reconnect === false) {
    return Retry.NO;
  }
  if (code >= 4500 && code <= 4999) {
    return Retry.NO;
  }
  if (code === 1013) {
    return Retry.LATER;
  }
  if (code === 4004) {
    return Retry.NOW;
  }
  return Retry.BACKOFF;
}

// Whether an unsubscribe push code asks the client to subscribe again (2000-2499) or not
// (2500-2999). Codes outside 2000-2999 are not defined; below 2500 they resubscribe, which at
// worst costs one subscribe that the server refuses.
export function resubscribeAfter(code) {
  return !(code >= 2500);
}

// The upper bound of the window of retry number `attempt` (0-based): min(max, min * 2^attempt).
export function backoffCap(attempt, min, max) {
  const cap = min * 2 ** attempt; // Infinity for a huge attempt, which min() turns into max
  return Math.min(max, cap);
}

// One delay of retry number `attempt`, uniformly random in [0, cap]. random() is in [0, 1), like
// Math.random; the result is rounded to whole milliseconds.
export function fullJitter(attempt, min, max, random) {
  const cap = backoffCap(attempt, min, max);
  const r = random();
  if (!(r >= 0 && r <= 1)) {
    throw new RangeError(`random() must return a number in [0, 1), got ${r}`);
  }
  return Math.round(r * cap);
}

// The delays of one sequence of failed attempts. reset() after a success starts over. Owned by
// a client (connection attempts) or a subscription (subscribe attempts that got a temporary error).
export class Backoff {
  // min, max: milliseconds, 0 < min <= max. random: () => [0, 1), injectable for tests.
  constructor({ min = 500, max = 20000, random = Math.random } = {}) {
    if (!(Number.isFinite(min) && min > 0)) {
      throw new RangeError(`minReconnectDelay must be a positive number of ms, got ${min}`);
    }
    if (!(Number.isFinite(max) && max >= min)) {
      throw new RangeError(`maxReconnectDelay must be a number of ms >= ${min}, got ${max}`);
    }
    if (typeof random !== 'function') {
      throw new TypeError('random must be a function returning a number in [0, 1)');
    }
    this.min = min;
    this.max = max;
    this.random = random;
    this.attempt = 0; // retries since the last success
  }

  // The delay before the next retry, for a retry class from retryClass() (BACKOFF by default).
  // NOW is 0 only for the first retry after a success: a token that keeps expiring at once, or
  // a server that keeps closing with 4004, still ends up backing off.
  next(retry = Retry.BACKOFF) {
    if (retry === Retry.NOW && this.attempt === 0) {
      this.attempt = 1;
      return 0;
    }
    if (retry === Retry.LATER) {
      this.attempt = Math.max(this.attempt, LATER_MIN_ATTEMPT);
    }
    const delay = fullJitter(this.attempt, this.min, this.max, this.random);
    this.attempt++;
    return delay;
  }

  reset() {
    this.attempt = 0;
  }
}
