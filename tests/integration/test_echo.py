#!/usr/bin/python3
"""Echo over /echo with python-websockets: every size boundary of the frame length encoding up to
the 16 MiB default limit, text and binary, with and without permessage-deflate, and messages
sent as several fragments.

Usage: /usr/bin/python3 test_echo.py --herald build/<dir>/apps/herald/herald [-k SUBSTRING]
"""

import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory  # noqa: E402

from herald_checks import MIB, check, check_same_payload, make_binary, make_text  # noqa: E402
from herald_harness import Suite, within, ws_connect, ws_recv  # noqa: E402

suite = Suite("echo (python-websockets)")

# 125/126 and 65535/65536 straddle the 7-bit, 16-bit and 64-bit length encodings;
# 16 MiB is exactly the default max message size, which must still pass.
SIZES = [0, 125, 126, 65535, 65536, 16 * MIB]

# How the client offers compression. "uncompressed": no Sec-WebSocket-Extensions at all;
# "server --no-deflate": the client offers deflate to a server that has compression disabled.
NO_DEFLATE = ("--no-deflate",)
MODES = {
    "uncompressed": dict(compression=None),
    "server --no-deflate": dict(compression="deflate"),
    "deflate": dict(compression="deflate"),
    "deflate-no-context-takeover-9-bits": dict(
        compression=None,
        extensions=[ClientPerMessageDeflateFactory(
            server_no_context_takeover=True, client_no_context_takeover=True,
            server_max_window_bits=9, client_max_window_bits=9)]),
}


async def open_mode(server, mode):
    ws = await ws_connect(server, "/echo", what=f"connect /echo ({mode})", **MODES[mode])
    names = [e.name for e in ws.extensions]
    if mode in ("uncompressed", "server --no-deflate"):
        check(names == [], f"no extension negotiated ({mode})",
              f"{names} (Sec-WebSocket-Extensions: "
              f"{ws.response_headers.get('Sec-WebSocket-Extensions')})")
    elif mode == "deflate":
        check(names == ["permessage-deflate"], "permessage-deflate negotiated when offered",
              f"{names or 'nothing'} (Sec-WebSocket-Extensions: "
              f"{ws.response_headers.get('Sec-WebSocket-Extensions')})")
    # The third mode may be declined by the server (RFC 7692 allows it); it must still work.
    return ws


async def echo_once(ws, message, what, timeout):
    await within(ws.send(message), timeout, f"send {what}")
    got = await ws_recv(ws, f"receive the echo of {what}", timeout)
    check_same_payload(got, message, f"echo of {what} is identical")


def register_size_case(mode, kind, size):
    timeout = 40 if size >= MIB else 10

    @suite.case(f"{mode} {kind} {size} bytes", timeout=timeout,
                args=NO_DEFLATE if mode == "server --no-deflate" else ())
    async def run(server):
        message = make_text(size) if kind == "text" else make_binary(size)
        ws = await open_mode(server, mode)
        try:
            await echo_once(ws, message, f"{kind} message of {size} bytes ({mode})", timeout - 5)
            # A second message on the same connection: exercises the compression context (or its
            # reset with no_context_takeover) and buffer reuse after a big message.
            again = make_text(100) if kind == "text" else make_binary(100)
            await echo_once(ws, again, f"a 100-byte {kind} message after it", 5)
        finally:
            await within(ws.close(), 6, "close")


for _mode in MODES:
    for _kind in ("text", "binary"):
        for _size in SIZES:
            register_size_case(_mode, _kind, _size)


def register_fragment_case(mode, name, fragments):
    @suite.case(f"{mode} fragmented {name}", timeout=20,
                args=NO_DEFLATE if mode == "server --no-deflate" else ())
    async def run(server):
        ws = await open_mode(server, mode)
        try:
            whole = "".join(fragments) if isinstance(fragments[0], str) else b"".join(fragments)
            # websockets sends an iterable as one message: first frame + continuations.
            await within(ws.send(iter(fragments)), 10, f"send {name} as {len(fragments)} frames")
            got = await ws_recv(ws, f"receive the echo of {name}", 10)
            check_same_payload(got, whole, f"echo of {name} is the reassembled message")
            await within(ws.send("after"), 5, "send a plain message after the fragmented one")
            check_same_payload(await ws_recv(ws, "receive it"), "after", "echo after fragments")
        finally:
            await within(ws.close(), 6, "close")


FRAGMENTED = {
    "text in 3 frames": ["Hello, ", "wor", "ld! €😀"],
    "text with empty frames": ["", "a", "", "bc", ""],
    "binary 100 KiB in 10 frames": [make_binary(10240 + i) for i in range(10)],
    "binary 1 MiB in 16 frames of 64 KiB": [make_binary(65536)] * 16,
    "text 200 KiB in 2 frames": [make_text(100000), make_text(100001)],
}

for _mode in ("uncompressed", "deflate", "server --no-deflate"):
    for _name, _fragments in FRAGMENTED.items():
        register_fragment_case(_mode, _name, _fragments)


@suite.case("10 concurrent clients x 50 messages get only their own echoes, in order", timeout=30)
async def concurrent_clients(server):
    async def one(i):
        ws = await ws_connect(server, "/echo", what=f"connect echo client {i}",
                              compression="deflate" if i % 2 else None)
        try:
            async def sender():
                for j in range(50):
                    await ws.send(f"client {i} message {j} " + "x" * (j * 37))
            task = asyncio.ensure_future(sender())
            for j in range(50):
                got = await ws_recv(ws, f"client {i}: echo {j}", 10)
                check_same_payload(got, f"client {i} message {j} " + "x" * (j * 37),
                                   f"client {i}: echo {j} is its own message {j}")
            await within(task, 5, f"client {i}: sender done")
        finally:
            await within(ws.close(), 6, f"close client {i}")
    await asyncio.gather(*(one(i) for i in range(10)))


if __name__ == "__main__":
    suite.main()
