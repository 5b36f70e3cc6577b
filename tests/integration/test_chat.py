#!/usr/bin/python3
"""The /chat room with python-websockets clients: a text message from one client reaches every
other connected client exactly once and never comes back to its sender; clients that leave (cleanly
or by dropping TCP) stop receiving without disturbing the others; many concurrent messages keep
their order per sender; compressed and uncompressed clients share one room.

Usage: /usr/bin/python3 test_chat.py --herald build/<dir>/apps/herald/herald [-k SUBSTRING]
"""

import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from herald_checks import Failure, check, check_same_payload, make_text  # noqa: E402
from herald_harness import Suite, within, ws_connect, ws_recv  # noqa: E402

suite = Suite("chat (python-websockets)")


async def join(server, name, compression="deflate"):
    return await ws_connect(server, "/chat", what=f"{name} joins /chat (compression={compression})",
                            compression=compression)


async def leave(ws, name):
    await within(ws.close(), 6, f"{name} leaves with a close handshake")


async def say(ws, name, text):
    await within(ws.send(text), 5, f"{name} sends {text[:40]!r}")


async def hears(ws, name, expected, about):
    got = await ws_recv(ws, f"{name} receives {about}")
    check_same_payload(got, expected, f"{name}'s next message is {about}")


@suite.case("3 clients: each message reaches every other client, never the sender")
async def three_clients(server):
    # Mixed compression: the same broadcast must reach deflate and plain clients alike.
    a = await join(server, "A", "deflate")
    b = await join(server, "B", None)
    c = await join(server, "C", "deflate")
    clients = {"A": a, "B": b, "C": c}
    try:
        for sender in clients:
            text = f"hello from {sender} " + make_text(200)
            await say(clients[sender], sender, text)
            for name, ws in clients.items():
                if name != sender:
                    await hears(ws, name, text, f"{sender}'s message")
        # Nobody got their own message back: if they had, it would be the next thing they read
        # instead of this marker (waits on a message, not on a sleep).
        await say(a, "A", "marker from A")
        await hears(b, "B", "marker from A", "A's marker")
        await hears(c, "C", "marker from A", "A's marker")
        await say(b, "B", "marker from B")
        await hears(a, "A", "marker from B", "B's marker (not an echo of its own messages)")
        await hears(c, "C", "marker from B", "B's marker")
        await say(c, "C", "marker from C")
        await hears(a, "A", "marker from C", "C's marker")
        await hears(b, "B", "marker from C", "C's marker (not an echo of its own messages)")
    finally:
        for name, ws in clients.items():
            await leave(ws, name)


@suite.case("a client that leaves stops receiving; the others keep chatting")
async def leaving(server):
    a = await join(server, "A")
    b = await join(server, "B")
    c = await join(server, "C")
    d = await join(server, "D", None)
    try:
        await say(a, "A", "everyone is here")
        for name, ws in (("B", b), ("C", c), ("D", d)):
            await hears(ws, name, "everyone is here", "the first message")

        await leave(c, "C")
        check(c.close_code == 1000, "C's close handshake answered with 1000",
              f"close code {c.close_code} {c.close_reason!r}")
        await say(a, "A", "C has left")
        await hears(b, "B", "C has left", "A's message after C left")
        await hears(d, "D", "C has left", "A's message after C left")

        # D vanishes without a close frame (TCP dropped): the room must shed it, not stall.
        d.transport.abort()
        await within(d.wait_closed(), 5, "D's connection is gone")
        for i in range(20):
            await say(b, "B", f"after D dropped {i}")
            await hears(a, "A", f"after D dropped {i}", f"B's message {i} after D dropped")

        # A newcomer gets only what is said after it joined.
        e = await join(server, "E")
        await say(a, "A", "welcome E")
        await hears(e, "E", "welcome E", "the first message after joining (no backlog)")
        await hears(b, "B", "welcome E", "A's welcome")
        await leave(e, "E")
    finally:
        for name, ws in (("A", a), ("B", b)):
            await leave(ws, name)


@suite.case("4 clients, 3 senders x 300 messages at once: order kept per sender", timeout=60)
async def ordering(server):
    count = 300
    names = ["S0", "S1", "S2", "R"]  # R only listens
    clients = {}
    for i, name in enumerate(names):
        clients[name] = await join(server, name, "deflate" if i % 2 else None)
    senders = names[:3]
    try:
        async def send_all(name):
            ws = clients[name]
            for seq in range(count):
                await ws.send(f"{name}:{seq}:" + "y" * (seq % 97))

        async def receive_all(name):
            ws = clients[name]
            expected_from = [s for s in senders if s != name]
            next_seq = {s: 0 for s in expected_from}
            total = count * len(expected_from)
            for n in range(total):
                msg = await ws_recv(ws, f"{name} receives message {n + 1} of {total} "
                                    f"(progress {next_seq})", 20)
                sender, seq, pad = msg.split(":", 2)
                if sender == name:
                    raise Failure(f"{name} receives", "only messages of other clients",
                                  f"its own message {msg[:30]!r}")
                check(sender in next_seq, f"{name}: messages from {expected_from}", msg[:30])
                check(int(seq) == next_seq[sender],
                      f"{name}: message {next_seq[sender]} from {sender} (order per sender)",
                      f"message {seq} from {sender}")
                check(pad == "y" * (int(seq) % 97), f"{name}: intact payload", msg[:60])
                next_seq[sender] += 1

        receivers = [asyncio.ensure_future(receive_all(n)) for n in names]
        await within(asyncio.gather(*(send_all(n) for n in senders)), 30, "all senders send")
        await within(asyncio.gather(*receivers), 30, "every client receives everything")
    finally:
        for name, ws in clients.items():
            await leave(ws, name)


@suite.case("50 clients each say one thing: everyone hears the 49 others", timeout=40)
async def fan_out(server):
    n = 50
    clients = []
    for i in range(n):
        clients.append(await join(server, f"client {i}", "deflate" if i % 3 == 0 else None))
    try:
        await within(asyncio.gather(*(clients[i].send(f"from {i}") for i in range(n))), 10,
                     "all 50 clients send")

        async def collect(i):
            got = set()
            for k in range(n - 1):
                msg = await ws_recv(clients[i], f"client {i} receives message {k + 1} of {n - 1}",
                                    15)
                check(msg != f"from {i}", f"client {i} never hears itself", msg)
                check(msg not in got, f"client {i} hears each message once", f"{msg} twice")
                got.add(msg)
        await within(asyncio.gather(*(collect(i) for i in range(n))), 30,
                     "every client hears the 49 others")
    finally:
        await asyncio.gather(*(within(ws.close(), 6, "close") for ws in clients),
                             return_exceptions=True)


@suite.case("a 1 MiB text message reaches every other client")
async def large_text(server):
    a = await join(server, "A", "deflate")
    b = await join(server, "B", None)
    c = await join(server, "C", "deflate")
    try:
        big = make_text(1024 * 1024)
        await say(a, "A", big)
        await hears(b, "B", big, "A's 1 MiB text message")
        await hears(c, "C", big, "A's 1 MiB text message")
    finally:
        for name, ws in (("A", a), ("B", b), ("C", c)):
            await leave(ws, name)


if __name__ == "__main__":
    suite.main()
