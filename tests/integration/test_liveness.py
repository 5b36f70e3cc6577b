#!/usr/bin/python3
"""Liveness of the real server: every event loop stamps a heartbeat each second, and a loop that
stops turning is seen. One loop thread ("herald-loop-1") is stopped with ptrace (PTRACE_INTERRUPT
stops that thread only, as a handler stuck in an endless loop would leave it); then GET /health
and /ready answer 503 "stalled" within stall_timeout, /metrics still answers (within its one
second gather timeout) with that loop's herald_loop_heartbeat_age_seconds above stall_timeout,
/stats.json marks it for the dashboard, and the systemd watchdog pings (WATCHDOG=1 on $NOTIFY_SOCKET, here a socket of this test) stop.
Resumed, the loop is healthy again and the pings come back. READY=1 comes once the server
listens, STOPPING=1 when it drains.

Usage: /usr/bin/python3 test_liveness.py --herald build/<dir>/apps/herald/herald [-k SUBSTRING]
"""

import json
import os
import re
import signal
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from herald_checks import check, step  # noqa: E402
from herald_harness import Suite  # noqa: E402
from herald_ptrace import loop_thread, resume, stop  # noqa: E402

suite = Suite("liveness")

STALL_S = 2
# The servers of this file notify this socket (set before any is started: they inherit it).
NOTIFY_DIR = tempfile.mkdtemp(prefix="herald-notify-")
NOTIFY_PATH = os.path.join(NOTIFY_DIR, "notify.sock")
NOTIFY = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
NOTIFY.bind(NOTIFY_PATH)
os.environ["NOTIFY_SOCKET"] = NOTIFY_PATH
os.environ["WATCHDOG_USEC"] = "1000000"  # a ping every 0.5 s

def get(port, path, timeout=1.0):
    """(status, body) of GET path on a fresh connection; None if no answer in time (it landed
    on the stopped loop: every loop accepts on its own SO_REUSEPORT socket)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    except OSError:
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    m = re.match(rb"HTTP/1\.1 (\d+)", head)
    return (int(m.group(1)), body.decode()) if m else None


def answered(port, path, want, what, within_s, timeout=1.0):
    """The first answer to GET path for which want(status, body) holds, within within_s."""
    step(what)
    deadline = time.monotonic() + within_s
    last = None
    while time.monotonic() < deadline:
        r = get(port, path, timeout)
        if r is not None:
            last = r
            if want(*r):
                return r
        time.sleep(0.1)
    check(False, what, f"last answer: {last}")


def answered_by_loop0(port, path, tries=20):
    """The body of GET path from the first try that lands on a running loop (a connection that
    lands on the stopped one gets no answer: the next try), which must answer 200 after at most
    the one second gather timeout, however long the stopped loop stays stopped."""
    step(f"{path} still answers, after at most its one second gather timeout")
    for _ in range(tries):
        t1 = time.monotonic()
        r = get(port, path, timeout=4)
        if r is not None:
            took = time.monotonic() - t1
            check(r[0] == 200 and took < 3, f"{path} answered in time", (r[0], took))
            return r[1]
    check(False, f"an answer to {path}", f"all {tries} tries landed on the stopped loop")


def notifications(seconds):
    """The datagrams that came on the notify socket within `seconds`."""
    got = []
    NOTIFY.settimeout(0.05)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            got.append(NOTIFY.recv(4096).decode())
        except socket.timeout:
            pass
    return got


def drain_notifications():
    NOTIFY.setblocking(False)
    try:
        while True:
            NOTIFY.recv(4096)
    except BlockingIOError:
        pass


def heartbeat_age(metrics, loop):
    m = re.search(rf'^herald_loop_heartbeat_age_seconds\{{loop="{loop}"\}} ([0-9.e+-]+)$', metrics,
                  re.M)
    return float(m.group(1)) if m else None


@suite.case("a stopped loop: /health, /ready 503 stalled; /metrics answers; the watchdog stops",
            args=("--threads", "2", "--stall-timeout", str(STALL_S)), own_server=True, timeout=60)
async def stalled_loop(server):
    step("READY=1 and watchdog pings while every loop turns")
    got = notifications(1.5)
    check(sum(n == "WATCHDOG=1" for n in got) >= 2, "WATCHDOG=1 about every 0.5 s", got)
    r = answered(server.port, "/health", lambda s, b: True, "GET /health", 10)
    check(r == (200, '{"status":"ok"}'), "healthy", r)

    tid = loop_thread(server.proc.pid, 1)
    check(tid is not None, "the thread herald-loop-1", os.listdir(f"/proc/{server.proc.pid}/task"))
    step(f"stop thread {tid} (herald-loop-1) with PTRACE_INTERRUPT")
    try:
        stop(tid)
    except OSError as e:
        # A kernel or container that forbids tracing even one's own child (Yama
        # ptrace_scope 3, a seccomp profile): say so loudly rather than fail for the machine.
        print(f"    SKIPPED the stall itself: {e} (this machine forbids ptrace)", flush=True)
        return
    try:
        t0 = time.monotonic()
        # Each try that lands on the stopped loop costs its 1 s timeout: the window leaves room
        # for many (a run of six on loop 1 once used up a 7 s one), and ends at the first 503.
        status, body = answered(server.port, "/health", lambda s, b: s == 503,
                                "/health answers 503 within stall_timeout", STALL_S + 20)
        check(time.monotonic() - t0 >= STALL_S - 1.2, "not before stall_timeout",
              time.monotonic() - t0)
        check(json.loads(body) == {"status": "stalled", "loops": [1]}, "the stalled loop named",
              body)
        answered(server.port, "/ready", lambda s, b: s == 503 and "stalled" in b,
                 "/ready answers 503 stalled", 20)
        # A connection may land on the stopped loop (no answer: the next try); one that lands on
        # loop 0 must be answered without waiting for loop 1 for more than the gather timeout.
        metrics = answered_by_loop0(server.port, "/metrics")
        age = heartbeat_age(metrics, 1)
        check(age is not None and age > STALL_S, "loop 1's heartbeat age above stall_timeout",
              age)
        age0 = heartbeat_age(metrics, 0)  # 0.0 is fresh too
        check(age0 is not None and age0 < 2, "loop 0's heartbeat is fresh", age0)
        stats = json.loads(answered_by_loop0(server.port, "/stats.json"))
        check([lp["stalled"] for lp in stats["loops"]] == [0, 1] and stats["total"]["stalled"],
              "the dashboard's figures mark loop 1 stalled", stats)
        drain_notifications()
        got = notifications(1.5)
        check("WATCHDOG=1" not in got, "no watchdog ping while a loop is stalled", got)
        check(f"loop 1 has not turned for over {STALL_S * 1000} ms" in server.stderr_text(),
              "one error line names the loop", server.stderr_tail())
    finally:
        resume(tid)
    step("resumed: healthy again, pings again")
    answered(server.port, "/health", lambda s, b: s == 200, "/health 200 again", 5)
    drain_notifications()
    got = notifications(1.5)
    check(got.count("WATCHDOG=1") >= 2, "the watchdog pings again", got)


@suite.case("READY=1 once listening; STOPPING=1 on SIGTERM", own_server=True)
async def ready_and_stopping(server):
    # READY=1 was sent before the first stdout line (which start() waited for).
    got = notifications(0.5)
    check("READY=1" in got, "READY=1", got)
    drain_notifications()
    server.send_signal(signal.SIGTERM)
    got = notifications(2)
    check("STOPPING=1" in got, "STOPPING=1 when the drain begins", got)
    check(server.wait_exit(10) == 0, "exit 0", "")


if __name__ == "__main__":
    try:
        suite.main()
    finally:
        NOTIFY.close()
        os.unlink(NOTIFY_PATH)
        os.rmdir(NOTIFY_DIR)
