"""Checks shared by Herald's integration tests: named steps, failures that say what was expected
and what came back, and deterministic payloads of exact sizes."""

import collections
import hashlib
import random

MIB = 1024 * 1024


class Failure(Exception):
    """A check that did not hold. Says in which step, what was expected and what came back."""

    def __init__(self, step_name, expected, got):
        super().__init__(f"step '{step_name}':\n      expected: {expected}\n      got:      {got}")


_steps = collections.deque(maxlen=12)


def step(name):
    """Records the step being run, so that failures and timeouts can name it."""
    _steps.append(name)
    return name


def current_step():
    return _steps[-1] if _steps else "(none)"


def recent_steps():
    """The last few steps, oldest first (printed with a failure)."""
    return list(_steps)


def clear_steps():
    _steps.clear()


def check(cond, expected, got):
    if not cond:
        raise Failure(current_step(), expected, got)


def check_eq(got, expected, what=None):
    if got != expected:
        raise Failure(what or current_step(), describe(expected), describe(got))


def describe(value, limit=60):
    """Short printable form of a possibly huge payload."""
    if isinstance(value, (bytes, bytearray)):
        if len(value) <= limit:
            return f"bytes[{len(value)}] {bytes(value)!r}"
        digest = hashlib.sha1(value).hexdigest()[:12]
        return f"bytes[{len(value)}] {bytes(value[:24])!r}... sha1={digest}"
    if isinstance(value, str):
        if len(value) <= limit:
            return f"str[{len(value)} chars] {value!r}"
        digest = hashlib.sha1(value.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        return f"str[{len(value)} chars] {value[:24]!r}... sha1={digest}"
    return repr(value)


def check_same_payload(got, expected, what):
    """Compares an echoed/relayed message with the original; reports type, length, first diff."""
    step(what)
    if type(got) is not type(expected):
        kind = {str: "text", bytes: "binary"}
        raise Failure(what, f"a {kind.get(type(expected), type(expected))} message",
                      f"a {kind.get(type(got), type(got))} message: {describe(got)}")
    if got == expected:
        return
    first = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b),
                 min(len(got), len(expected)))
    raise Failure(what, describe(expected),
                  f"{describe(got)} (length {len(got)} vs {len(expected)}, "
                  f"first difference at {first})")


def make_text(nbytes):
    """A text message whose UTF-8 encoding is exactly nbytes long, with 1- to 4-byte chars."""
    unit = "aé€😀"  # 1 + 2 + 3 + 4 = 10 bytes
    text = unit * (nbytes // 10) + "x" * (nbytes % 10)
    assert len(text.encode()) == nbytes
    return text


def make_binary(nbytes):
    """Deterministic binary: the first half uniformly random bytes, the second half drawn from 16
    byte values, so that a deflated message stays smaller than the original (python-websockets
    always compresses when deflate is on, and 16 MiB of pure noise would deflate to slightly MORE
    than the 16 MiB limit)."""
    rng = random.Random(nbytes)
    half = nbytes // 2
    alphabet = rng.randbytes(16)
    low = rng.randbytes(nbytes - half).translate(bytes(alphabet[i & 15] for i in range(256)))
    return rng.randbytes(half) + low
