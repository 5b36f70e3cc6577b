#!/usr/bin/python3
"""Graceful drain of the real server: on SIGTERM/SIGINT every WebSocket client gets close 1001 and
the process exits 0 within a few seconds, even if a client never answers the close.

Usage: /usr/bin/python3 test_drain.py --herald build/<dir>/apps/herald/herald [-k SUBSTRING]
"""

import asyncio
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from herald_checks import check, step  # noqa: E402
from herald_harness import Suite, within, ws_connect  # noqa: E402
from herald_raw import OP_CLOSE, RawWs, close_info  # noqa: E402

suite = Suite("drain (signals)")

EXIT_WITHIN = 5  # seconds from the signal to the exit of a server whose clients cooperate
STUBBORN_EXIT_WITHIN = 15  # ... and when one client never answers the close frame


async def drain_with_clients(server, sig):
    clients = {
        "chat A (deflate)": await ws_connect(server, "/chat", compression="deflate"),
        "chat B (plain)": await ws_connect(server, "/chat", compression=None),
        "echo C (deflate)": await ws_connect(server, "/echo", compression="deflate"),
    }
    # Make sure every client is fully set up on the server side: a chat message gets across and
    # the echo client gets its echo.
    a, b, c = clients.values()
    await within(a.send("before drain"), 5, "A says something")
    check((await within(b.recv(), 5, "B hears A")) == "before drain", "B hears A", "other")
    await within(c.send("ping?"), 5, "C sends")
    check((await within(c.recv(), 5, "C gets its echo")) == "ping?", "C's echo", "other")

    step(f"send {signal.Signals(sig).name} to the server (pid {server.proc.pid})")
    t0 = time.monotonic()
    server.send_signal(sig)
    for name, ws in clients.items():
        await within(ws.wait_closed(), EXIT_WITHIN, f"{name} is closed by the server")
        check(ws.close_code == 1001, f"{name}: close code 1001 (going away)",
              f"close code {ws.close_code} reason {ws.close_reason!r}")
    step(f"the server exits within {EXIT_WITHIN}s of the signal")
    rc = await asyncio.get_running_loop().run_in_executor(
        None, server.wait_exit, max(0.1, EXIT_WITHIN - (time.monotonic() - t0)))
    check(rc is not None, f"process exit within {EXIT_WITHIN}s", "still running")
    check(rc == 0, "exit code 0", f"exit code {rc}")


@suite.case("SIGTERM: 3 clients get close 1001, exit code 0", own_server=True)
async def sigterm(server):
    await drain_with_clients(server, signal.SIGTERM)


@suite.case("SIGINT: 3 clients get close 1001, exit code 0", own_server=True)
async def sigint(server):
    await drain_with_clients(server, signal.SIGINT)


@suite.case("SIGTERM with no clients: exit code 0", own_server=True)
def idle(server):
    step("SIGTERM an idle server")
    server.send_signal(signal.SIGTERM)
    rc = server.wait_exit(EXIT_WITHIN)
    check(rc == 0, f"exit code 0 within {EXIT_WITHIN}s", "still running" if rc is None else rc)


@suite.case("SIGTERM with a client that never answers the close: bounded exit, code 0",
            own_server=True, timeout=STUBBORN_EXIT_WITHIN + 10)
def stubborn(server):
    ws = RawWs.connect(server.port, "/echo", what="connect a client that will ignore the close")
    try:
        ws.roundtrip("hello", "the stubborn client is set up")
        step("SIGTERM the server")
        t0 = time.monotonic()
        server.send_signal(signal.SIGTERM)
        f = ws.recv_frame(EXIT_WITHIN, what="the stubborn client gets a close frame")
        check(f.opcode == OP_CLOSE, "a close frame", f)
        check(close_info(f)[0] == 1001, "close code 1001", close_info(f))
        # We never answer the close frame.
        step(f"the server exits within {STUBBORN_EXIT_WITHIN}s without the client's answer")
        rc = server.wait_exit(STUBBORN_EXIT_WITHIN - (time.monotonic() - t0))
        check(rc is not None, f"process exit within {STUBBORN_EXIT_WITHIN}s", "still running")
        check(rc == 0, "exit code 0", f"exit code {rc}")
    finally:
        ws.close()


if __name__ == "__main__":
    suite.main()
