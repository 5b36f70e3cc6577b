#!/usr/bin/python3
"""The examples (examples/chat.cpp, examples/echo.cpp) are embedding applications written on the
public API only; this drives them with python-websockets as a user would.

Usage: /usr/bin/python3 test_examples.py --chat build/<dir>/examples/example_chat
                                          --echo build/<dir>/examples/example_echo
"""

import argparse
import asyncio
import re
import signal
import subprocess
import sys

import websockets


def start(binary):
    proc = subprocess.Popen([binary, "127.0.0.1:0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    m = re.search(r"ws://127\.0\.0\.1:(\d+)/", line)
    if not m:
        proc.kill()
        raise SystemExit(f"FAIL {binary}: expected 'ws://127.0.0.1:PORT/' first, got {line!r}")
    return proc, int(m.group(1))


def stop(proc, name):
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise SystemExit(f"FAIL {name}: did not exit within 10 s of SIGTERM")
    if code != 0:
        raise SystemExit(f"FAIL {name}: exit status {code} after SIGTERM")


async def chat(port):
    url = f"ws://127.0.0.1:{port}/"
    clients = [await websockets.connect(url) for _ in range(3)]
    await clients[0].send("hello room")
    for c in clients[1:]:
        got = await asyncio.wait_for(c.recv(), 5)
        assert got == "hello room", f"chat: other client got {got!r}"
    await clients[1].send("marker")
    got = await asyncio.wait_for(clients[0].recv(), 5)
    assert got == "marker", f"chat: the sender got its own message back first ({got!r})"
    for c in clients:
        await c.close()


async def echo(port):
    async with websockets.connect(f"ws://127.0.0.1:{port}/") as ws:
        for msg in ["x", b"\x00\x01binary", "y" * 70000]:
            await ws.send(msg)
            got = await asyncio.wait_for(ws.recv(), 5)
            assert got == msg, f"echo: sent {len(msg)} bytes, got {len(got)} back"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--chat", required=True)
    ap.add_argument("--echo", required=True)
    args = ap.parse_args()
    for name, binary, run in (("example_chat", args.chat, chat), ("example_echo", args.echo, echo)):
        proc, port = start(binary)
        try:
            asyncio.run(asyncio.wait_for(run(port), 30))
        except AssertionError as e:
            proc.kill()
            raise SystemExit(f"FAIL {name}: {e}")
        stop(proc, name)
        print(f"  ok   {name}")
    print("== examples: 2 passed, 0 failed")


if __name__ == "__main__":
    sys.exit(main())
