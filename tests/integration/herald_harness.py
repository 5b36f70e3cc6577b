"""Harness shared by Herald's Python integration tests.

Starts the real `herald` binary on 127.0.0.1:0 and learns the port from its first stdout line
(Herald), wraps python-websockets with bounded waits, and runs cases (Suite). The runner always
stops the server by its pid, prints which step of which case failed, what was expected and what
came back (plus the server's stderr tail), and exits non-zero if anything failed. Raw sockets
live in herald_raw.py, checks and payloads in herald_checks.py.

Run with /usr/bin/python3 (Debian's python3-websockets 10.4), not a pyenv python.
"""

import argparse
import asyncio
import atexit
import fcntl
import inspect
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import websockets

from herald_checks import (MIB, Failure, check, check_same_payload, clear_steps, current_step,
                           recent_steps, step)
from herald_raw import RawWs

LISTEN_LINE = re.compile(
    r"^herald listening on (?P<scheme>https?)://(?P<host>[0-9.]+):(?P<port>[0-9]+)$")
TCP_LINE = re.compile(r"^herald tcp on (?P<scheme>tcp|tls)://(?P<host>[0-9.]+):(?P<port>[0-9]+)$")


# ---------------------------------------------------------------------------------------------
# The server process


_data_dirs = []  # removed when the test process exits


@atexit.register
def _remove_data_dirs():
    for d in _data_dirs:
        shutil.rmtree(d, ignore_errors=True)


class Herald:
    """One `herald serve` child on 127.0.0.1:0. Owned by the runner; stopped by its pid only."""

    def __init__(self, binary, args=(), echo=True):
        self.argv = [binary, "serve", "--listen", "127.0.0.1:0"]
        if echo:
            self.argv.append("--echo")
        self.argv += list(args)
        # Each server gets its own data directory (history is durable by default), so servers
        # running side by side never share one; a test that restarts a server passes its own.
        self.data_dir = None
        if "--data-dir" not in self.argv and "--memory" not in self.argv:
            self.data_dir = tempfile.mkdtemp(prefix="herald-it-")
            _data_dirs.append(self.data_dir)
            self.argv += ["--data-dir", self.data_dir]
        self.proc = None
        self.port = None
        self.tcp_port = None  # with --tcp-listen: from the second stdout line
        self.host = None
        self.scheme = None
        self.stopped_by_test = False
        self._stderr = None
        self._stdout_rest = []

    def start(self, timeout=15):
        step(f"start {' '.join(self.argv[1:])}")
        # The child shares this file's open description, offset included: O_APPEND makes each of
        # its writes land at the end whatever the offset, and reads use pread, which moves none.
        # (A seek(0)-and-read racing the server's write once put a log line over the first one.)
        self._stderr = tempfile.TemporaryFile()
        fcntl.fcntl(self._stderr.fileno(), fcntl.F_SETFL,
                    fcntl.fcntl(self._stderr.fileno(), fcntl.F_GETFL) | os.O_APPEND)
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._stderr)
        _live_servers.add(self)
        fd = self.proc.stdout.fileno()
        data = b""
        deadline = time.monotonic() + timeout
        want_lines = 2 if "--tcp-listen" in self.argv else 1
        while data.count(b"\n") < want_lines:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise Failure(current_step(), f"first stdout line within {timeout}s",
                              f"only {data!r}; stderr: {self.stderr_tail()}")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    rc = self.proc.wait(timeout=5)
                    raise Failure(current_step(), "a first stdout line 'herald listening on ...'",
                                  f"stdout closed after {data!r}, exit code {rc}; stderr: "
                                  f"{self.stderr_tail()}")
                data += chunk
        line, _, rest = data.partition(b"\n")
        if want_lines == 2:
            tcp_line, _, rest = rest.partition(b"\n")
            t = TCP_LINE.match(tcp_line.decode("utf-8", "replace"))
            if not t:
                self.kill()
                raise Failure(current_step(), "second stdout line 'herald tcp on tcp://HOST:PORT'",
                              repr(tcp_line))
            self.tcp_port = int(t.group("port"))
        self._stdout_rest.append(rest)
        m = LISTEN_LINE.match(line.decode("utf-8", "replace"))
        if not m:
            self.kill()
            raise Failure(current_step(),
                          "first stdout line 'herald listening on http(s)://HOST:PORT'",
                          repr(line))
        self.host, self.port = m.group("host"), int(m.group("port"))
        self.scheme = m.group("scheme")  # https with --tls-cert
        check(self.host == "127.0.0.1", "host 127.0.0.1 in the listening line", self.host)
        check(self.port != 0, "the real port (not 0) in the listening line", self.port)
        # Keep draining stdout so that a chatty server never blocks on a full pipe.
        threading.Thread(target=self._drain, args=(fd,), daemon=True).start()
        return self

    def _drain(self, fd):
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            self._stdout_rest.append(chunk)

    def url(self, path):
        return f"{'wss' if self.scheme == 'https' else 'ws'}://127.0.0.1:{self.port}{path}"

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        self.proc.send_signal(sig)  # by pid

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait(timeout=10)
        _live_servers.discard(self)

    def stop(self, grace=10):
        """SIGTERM, then SIGKILL after `grace` seconds. Returns the exit code seen after SIGTERM,
        or None if the server had to be killed."""
        if not self.alive():
            _live_servers.discard(self)
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        rc = self.wait_exit(grace)
        if rc is None:
            self.kill()
        _live_servers.discard(self)
        return rc

    def stderr_text(self, whole_lines=True):
        """Everything the server wrote to stderr so far; by default only up to the last newline,
        as a line being written while we read may be seen in part."""
        if self._stderr is None:
            return ""
        fd = self._stderr.fileno()
        data = os.pread(fd, os.fstat(fd).st_size, 0)
        if whole_lines:
            data = data[:data.rfind(b"\n") + 1]
        return data.decode("utf-8", "replace")

    def stderr_tail(self, lines=25):
        text = self.stderr_text(whole_lines=False).splitlines()
        if not text:
            return "(empty)"
        return "\n        | " + "\n        | ".join(text[-lines:])


_live_servers = set()


def run_cases(title, herald, cases, run):
    """The case loop of the suites that set up their own servers (Redis, several nodes):
    run(case) sets up, runs and tears down one case (a tuple whose first item is its name);
    every server it started is killed after it. Reports like Suite; exits 1 if any failed."""
    failures = []
    print(f"== {title}: {len(cases)} cases against {herald}", flush=True)
    for case in cases:
        name = case[0]
        clear_steps()
        t0 = time.monotonic()
        try:
            run(case)
            print(f"  ok   {name}  ({time.monotonic() - t0:.2f}s)", flush=True)
        except BaseException as e:  # noqa: BLE001 - report every failure the same way
            failures.append(name)
            Suite._report(name, e, None, t0)
        finally:
            _kill_all_servers()
    if failures:
        print(f"== {title}: {len(failures)} of {len(cases)} FAILED", flush=True)
        sys.exit(1)
    print(f"== {title}: all {len(cases)} passed", flush=True)


def _kill_all_servers():
    for s in list(_live_servers):
        try:
            s.kill()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


atexit.register(_kill_all_servers)


# ---------------------------------------------------------------------------------------------
# websockets (the real third-party client) helpers


async def within(aw, seconds, what):
    """Awaits `aw` for at most `seconds`; a timeout fails the step `what`."""
    step(what)
    try:
        return await asyncio.wait_for(aw, seconds)
    except asyncio.TimeoutError:
        raise Failure(what, f"done within {seconds}s", "timed out") from None


async def ws_connect(server, path, what=None, compression="deflate", timeout=5, **kw):
    """A python-websockets client. compression=None offers no extension."""
    what = what or f"websockets connect {path} (compression={compression})"
    kw.setdefault("max_size", 32 * MIB)
    kw.setdefault("max_queue", 1024)
    return await within(websockets.connect(server.url(path), compression=compression,
                                           ping_interval=None, close_timeout=5,
                                           open_timeout=timeout, **kw), timeout + 1, what)


async def ws_recv(ws, what, timeout=5):
    try:
        return await within(ws.recv(), timeout, what)
    except websockets.ConnectionClosed as e:
        raise Failure(what, "a message", f"connection closed: code {e.code} {e.reason!r}") from None


async def ws_expect_closed_with(ws, codes, what, timeout=5):
    """Waits until the server closes `ws`; checks the close code it sent."""
    step(what)
    try:
        await asyncio.wait_for(ws.wait_closed(), timeout)
    except asyncio.TimeoutError:
        raise Failure(what, f"connection closed with {sorted(codes)} within {timeout}s",
                      "still open") from None
    check(ws.close_code in codes, f"close code {sorted(codes)}",
          f"close code {ws.close_code} reason {ws.close_reason!r}")


async def assert_new_client_works(server, after):
    """A fresh python-websockets client can still use /echo (the server keeps serving)."""
    what = f"a new client still gets echoes after {after}"
    ws = await ws_connect(server, "/echo", what=what)
    try:
        msg = f"still alive after {after}"
        await within(ws.send(msg), 5, what)
        check_same_payload(await ws_recv(ws, what), msg, what)
    finally:
        await within(ws.close(), 6, f"close the checking client after {after}")


class serving_others:
    """Context manager for a bad-input case: a bystander connection opened before it must still
    echo afterwards, and a brand-new python-websockets client must work too."""

    def __init__(self, server, what):
        self.server, self.what = server, what

    def __enter__(self):
        self.bystander = RawWs.connect(self.server.port, "/echo",
                                       what=f"bystander connects before {self.what}")
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.bystander.roundtrip(f"bystander after {self.what}",
                                         f"an already-open client still echoes after {self.what}")
                asyncio.run(assert_new_client_works(self.server, self.what))
        finally:
            self.bystander.close()
        return False


# ---------------------------------------------------------------------------------------------
# The case runner


class CaseTimeout(Exception):
    pass


class Suite:
    """Registers cases and runs them against shared or dedicated servers."""

    def __init__(self, name, transports=("websocket",)):
        self.name = name
        self.cases = []
        self.transports = transports  # what --transport may name (herald_links.TRANSPORT)

    def case(self, name, args=(), echo=True, own_server=False, timeout=30):
        """Registers a case. The function gets a started Herald. own_server: a fresh server that
        the case may stop itself; otherwise one server is shared by all cases with the same
        flags."""
        def register(fn):
            self.cases.append((name, fn, tuple(args), echo, own_server, timeout))
            return fn
        return register

    def main(self):
        ap = argparse.ArgumentParser(description=f"Herald integration tests: {self.name}")
        ap.add_argument("--herald", required=True, help="path to the herald binary")
        ap.add_argument("-k", action="append", default=[], help="run only cases containing this")
        ap.add_argument("--transport", choices=self.transports, default=self.transports[0],
                        help="the transport the protocol clients use (herald_links)")
        ap.add_argument("--broker", choices=("memory", "redis"), default="memory",
                        help="redis: every server runs on a redis-server the suite starts")
        opts = ap.parse_args()
        import herald_links  # noqa: E402 - only the suites that take --transport need it
        import herald_redis  # noqa: E402
        herald_links.TRANSPORT = opts.transport
        if opts.transport != "websocket":
            self.name += f" over {opts.transport}"
        if opts.broker == "redis":
            if not herald_redis.available():
                print("FAIL: --broker redis needs redis-server (scripts/deps --test)", flush=True)
                sys.exit(1)
            herald_redis.SERVER = herald_redis.RedisServer().start()
            self.name += " on Redis"
        if not os.access(opts.herald, os.X_OK):
            print(f"FAIL: --herald {opts.herald} is not an executable file", flush=True)
            sys.exit(1)

        def on_alarm(signum, frame):
            raise CaseTimeout(f"case timed out during step '{current_step()}'")

        signal.signal(signal.SIGALRM, on_alarm)
        signal.signal(signal.SIGTERM, lambda *_: (_kill_all_servers(), os._exit(2)))

        shared = {}
        failures = []
        cases = [c for c in self.cases if not opts.k or any(k in c[0] for k in opts.k)]
        started = time.monotonic()
        print(f"== {self.name}: {len(cases)} cases against {opts.herald}", flush=True)
        try:
            for number, (name, fn, args, echo, own, timeout) in enumerate(cases):
                herald_redis.CASE_PREFIX = f"it{os.getpid()}-{number}"
                args = args + herald_links.server_args() + herald_redis.server_args()
                t0 = time.monotonic()
                clear_steps()
                server = None
                try:
                    if own:
                        server = Herald(opts.herald, args, echo).start()
                    else:
                        server = shared.get((args, echo))
                        if server is None or not server.alive():
                            server = Herald(opts.herald, args, echo).start()
                            shared[(args, echo)] = server
                    signal.setitimer(signal.ITIMER_REAL, timeout)
                    result = fn(server)
                    if inspect.iscoroutine(result):
                        asyncio.run(asyncio.wait_for(result, timeout - 0.5))
                    signal.setitimer(signal.ITIMER_REAL, 0)
                    if not own and not server.alive():
                        step("server still running after the case")
                        raise Failure(current_step(), "server process still running",
                                      f"exited with code {server.proc.returncode}")
                    print(f"  ok   {name}  ({time.monotonic() - t0:.2f}s)", flush=True)
                except BaseException as e:  # noqa: BLE001 - report every failure the same way
                    signal.setitimer(signal.ITIMER_REAL, 0)
                    if isinstance(e, KeyboardInterrupt):
                        raise
                    failures.append(name)
                    self._report(name, e, server, t0)
                finally:
                    if own and server is not None:
                        server.kill()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            for (args, echo), server in shared.items():
                if server.alive():
                    step(f"SIGTERM the shared server ({' '.join(args) or 'default flags'})")
                    rc = server.stop()
                    if rc != 0:
                        failures.append("shutdown after the suite")
                        print(f"  FAIL shutdown after the suite: SIGTERM expected exit code 0 "
                              f"within 10s, got {rc if rc is not None else 'no exit (killed)'}; "
                              f"stderr: {server.stderr_tail()}", flush=True)
            _kill_all_servers()
        total = time.monotonic() - started
        if failures:
            print(f"== {self.name}: {len(failures)} of {len(cases)} FAILED in {total:.1f}s:",
                  flush=True)
            for f in failures:
                print(f"   - {f}", flush=True)
            sys.exit(1)
        print(f"== {self.name}: all {len(cases)} passed in {total:.1f}s", flush=True)

    @staticmethod
    def _report(name, e, server, t0):
        print(f"  FAIL {name}  ({time.monotonic() - t0:.2f}s)", flush=True)
        if isinstance(e, Failure):
            print(f"    {e}", flush=True)
        elif isinstance(e, (CaseTimeout, asyncio.TimeoutError)):
            print(f"    timed out in step '{current_step()}'", flush=True)
        else:
            print(f"    in step '{current_step()}': unexpected {type(e).__name__}: {e}", flush=True)
            tb = "".join(traceback.format_exception(type(e), e, e.__traceback__)[-6:])
            print("    " + tb.replace("\n", "\n    "), flush=True)
        print(f"    last steps: {' -> '.join(recent_steps())}", flush=True)
        if server is not None:
            state = "running" if server.alive() else f"EXITED with {server.proc.returncode}"
            print(f"    server: {state}; stderr tail: {server.stderr_tail()}", flush=True)
