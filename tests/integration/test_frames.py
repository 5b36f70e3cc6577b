#!/usr/bin/python3
"""RFC 6455 / 7692 framing against the real server, with frames crafted byte by byte: every
protocol violation is answered with the right close code while other clients keep being served;
pings, close handshakes, fragmentation edge cases and the message size limit.

Usage: /usr/bin/python3 test_frames.py --herald build/<dir>/apps/herald/herald [-k SUBSTRING]
"""

import os
import socket
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from herald_checks import check, check_same_payload, make_binary, step  # noqa: E402
from herald_harness import (Suite, serving_others, within, ws_connect,  # noqa: E402
                            ws_expect_closed_with, ws_recv)
from herald_raw import (OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT,  # noqa: E402
                        RSV1, RSV2, RSV3, RawWs, close_payload, encode_frame,
                        expect_connection_closed)

suite = Suite("frames (raw sockets)")

SMALL_LIMIT = ("--max-message-size", "1024")


def bad_input_case(name, expected_codes, path="/echo", args=(), extensions=None):
    """Registers a case: open a raw connection, run `send(ws)`, expect a close code, and check
    that an already-open client and a new client are still served."""
    def register(send):
        @suite.case(f"{name} -> close {'/'.join(map(str, sorted(expected_codes)))}", args=args)
        def run(server):
            with serving_others(server, name):
                ws = RawWs.connect(server.port, path, extensions=extensions,
                                   what=f"handshake on {path} before: {name}")
                try:
                    if extensions:
                        check(ws.response.header("sec-websocket-extensions") is not None,
                              f"the server accepts the offer {extensions!r}", ws.response)
                    step(f"send: {name}")
                    send(ws)
                    ws.expect_close(expected_codes, f"server's close code after: {name}")
                finally:
                    ws.close()
        return send
    return register


# --- frame-level violations (RFC 6455 5.1, 5.2, 5.4, 5.5) ---------------------------------------

@bad_input_case("unmasked client frame", {1002})
def _(ws):
    ws.send_frame(OP_TEXT, b"not masked", mask=False)


for _op in (0x3, 0x7, 0xB, 0xF):
    bad_input_case(f"reserved opcode {_op:#x}", {1002})(
        lambda ws, op=_op: ws.send_frame(op, b"reserved"))

for _bit, _name in ((RSV1, "RSV1"), (RSV2, "RSV2"), (RSV3, "RSV3")):
    bad_input_case(f"{_name} set with no extension negotiated", {1002})(
        lambda ws, bit=_bit: ws.send_frame(OP_TEXT, b"rsv", rsv=bit))


@bad_input_case("ping with a 126-byte payload (control frames are at most 125)", {1002})
def _(ws):
    ws.send_frame(OP_PING, b"p" * 126)


@bad_input_case("fragmented ping (control frame with FIN=0)", {1002})
def _(ws):
    ws.send_frame(OP_PING, b"half", fin=False)
    ws.raw.try_send(encode_frame(OP_CONT, b"ping"))


@bad_input_case("continuation frame with no message started", {1002})
def _(ws):
    ws.send_frame(OP_CONT, b"orphan")


@bad_input_case("new text frame while a fragmented message is open", {1002})
def _(ws):
    ws.send_frame(OP_TEXT, b"first part", fin=False)
    ws.send_frame(OP_TEXT, b"a new message")


@bad_input_case("64-bit length with the most significant bit set", {1002, 1009})
def _(ws):
    ws.send(bytes([0x82, 0xFF]) + struct.pack("!Q", 1 << 63) + b"\x00\x00\x00\x00")


# --- invalid UTF-8 in text (RFC 6455 8.1) -------------------------------------------------------

INVALID_UTF8 = {
    "byte 0xFF": b"abc\xff",
    "overlong '/' (C0 AF)": b"\xc0\xaf",
    "UTF-16 surrogate (ED A0 80)": b"\xed\xa0\x80",
    "code point above U+10FFFF": b"\xf4\x90\x80\x80",
    "truncated 3-byte sequence at the end": b"price: \xe2\x82",
}
for _name, _bytes in INVALID_UTF8.items():
    bad_input_case(f"invalid UTF-8 text: {_name}", {1007})(
        lambda ws, b=_bytes: ws.send_frame(OP_TEXT, b))


@bad_input_case("invalid UTF-8 split over fragments (E2 82 | 28)", {1007})
def _(ws):
    ws.send_frame(OP_TEXT, b"\xe2\x82", fin=False)
    ws.raw.try_send(encode_frame(OP_CONT, b"("))


@bad_input_case("invalid UTF-8 in the first fragment (fail fast allowed)", {1007})
def _(ws):
    ws.send_frame(OP_TEXT, b"ab\xff", fin=False)
    ws.raw.try_send(encode_frame(OP_CONT, b"cd"))


@bad_input_case("invalid UTF-8 text on /chat", {1007}, path="/chat")
def _(ws):
    ws.send_frame(OP_TEXT, b"\xc3\x28")


# --- close frames (RFC 6455 5.5.1, 7.4) ---------------------------------------------------------

for _code in (0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535):
    bad_input_case(f"close frame with invalid code {_code}", {1002})(
        lambda ws, code=_code: ws.send_frame(OP_CLOSE, close_payload(code, b"bad")))


@bad_input_case("close frame with a 1-byte payload", {1002})
def _(ws):
    ws.send_frame(OP_CLOSE, b"\x03")


@bad_input_case("close reason that is not UTF-8", {1002, 1007})
def _(ws):
    ws.send_frame(OP_CLOSE, close_payload(1000, b"bye \xff"))


# --- message size limit (--max-message-size 1024) -----------------------------------------------

@bad_input_case("2048-byte binary message over a 1024 limit", {1009}, args=SMALL_LIMIT)
def _(ws):
    ws.send_frame(OP_BINARY, make_binary(2048))


@bad_input_case("2048-byte text message over a 1024 limit", {1009}, args=SMALL_LIMIT)
def _(ws):
    ws.send_frame(OP_TEXT, b"t" * 2048)


@bad_input_case("600 + 600 byte fragments over a 1024 limit", {1009}, args=SMALL_LIMIT)
def _(ws):
    ws.send_frame(OP_BINARY, make_binary(600), fin=False)
    ws.raw.try_send(encode_frame(OP_CONT, make_binary(600)))


@suite.case("a message of exactly the 1024-byte limit is echoed", args=SMALL_LIMIT)
def exact_limit(server):
    ws = RawWs.connect(server.port, "/echo")
    try:
        payload = make_binary(1024)
        ws.send_frame(OP_BINARY, payload[:500], fin=False)
        ws.send_frame(OP_CONT, payload[500:])
        op, got = ws.recv_message(what="echo of a 1024-byte message (two fragments)")
        check(op == OP_BINARY, "a binary echo", op)
        check_same_payload(got, payload, "echo of the 1024-byte message")
    finally:
        ws.close()


@suite.case("deflated message that inflates past the 1024 limit -> close 1009", args=SMALL_LIMIT)
async def deflate_bomb(server):
    ws = await ws_connect(server, "/echo", compression="deflate")
    check([e.name for e in ws.extensions] == ["permessage-deflate"],
          "permessage-deflate negotiated", ws.extensions)
    # 64 KiB of one byte deflates to a few dozen bytes on the wire.
    await within(ws.send(b"\0" * 65536), 5, "send 64 KiB of zeros, deflated")
    await ws_expect_closed_with(ws, {1009}, "server's close code for an inflated size over 1024")
    await assert_echo_still_works(server)


async def assert_echo_still_works(server):
    ws = await ws_connect(server, "/echo", what="a new client after the deflate bomb")
    await within(ws.send("ok?"), 5, "send on the new client")
    check_same_payload(await ws_recv(ws, "echo on the new client"), "ok?", "echo")
    await within(ws.close(), 6, "close the new client")


# --- permessage-deflate violations (RFC 7692 6) -------------------------------------------------

PMD = "permessage-deflate"


def deflate(data):
    c = zlib.compressobj(wbits=-15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


@bad_input_case("RSV1 on a ping with deflate negotiated", {1002}, extensions=PMD)
def _(ws):
    ws.send_frame(OP_PING, b"x", rsv=RSV1)


@bad_input_case("RSV2 on a text frame with deflate negotiated", {1002}, extensions=PMD)
def _(ws):
    ws.send_frame(OP_TEXT, b"x", rsv=RSV2)


@bad_input_case("RSV1 on a continuation frame", {1002}, extensions=PMD)
def _(ws):
    ws.send_frame(OP_TEXT, deflate(b"first"), fin=False, rsv=RSV1)
    ws.raw.try_send(encode_frame(OP_CONT, b"", rsv=RSV1))


@bad_input_case("deflated payload that is not valid deflate data", {1002, 1007}, extensions=PMD)
def _(ws):
    ws.send_frame(OP_BINARY, b"\xff\xff\xff\xff garbage", rsv=RSV1)


@bad_input_case("deflated text that inflates to invalid UTF-8", {1007}, extensions=PMD)
def _(ws):
    ws.send_frame(OP_TEXT, deflate(b"ok then \xff"), rsv=RSV1)


@suite.case("raw deflated text is echoed and the echo inflates to the same text")
def raw_deflate(server):
    ws = RawWs.connect(server.port, "/echo", extensions=PMD)
    try:
        check(PMD in (ws.response.header("sec-websocket-extensions") or ""),
              "permessage-deflate accepted", ws.response)
        inflater = zlib.decompressobj(wbits=-15)
        for i, text in enumerate([b"hello hello hello", b"", "€uro 😀".encode() * 50]):
            ws.send_frame(OP_TEXT, deflate(text), rsv=RSV1)
            f = ws.recv_frame(what=f"echo frame {i}")
            check(f.opcode == OP_TEXT and f.fin, "one final text frame", f)
            got = inflater.decompress(f.payload + b"\x00\x00\xff\xff") if f.rsv & RSV1 \
                else f.payload
            check_same_payload(got, text, f"echo {i} (inflated if RSV1)")
        # An uncompressed message (RSV1 clear) on a deflate connection is legal too.
        ws.send_frame(OP_TEXT, b"plain on a deflate connection")
        f = ws.recv_frame(what="echo of an uncompressed message")
        got = inflater.decompress(f.payload + b"\x00\x00\xff\xff") if f.rsv & RSV1 else f.payload
        check_same_payload(got, b"plain on a deflate connection", "echo of the plain message")
    finally:
        ws.close()


# --- what must work -----------------------------------------------------------------------------

@suite.case("ping -> pong with the same payload (empty, text, 125 bytes binary)")
def ping_pong(server):
    ws = RawWs.connect(server.port, "/echo")
    try:
        for payload in (b"", b"are you there?", make_binary(125)):
            ws.send_frame(OP_PING, payload)
            f = ws.recv_frame(what=f"pong for a ping of {len(payload)} bytes")
            check(f.opcode == OP_PONG and f.fin, "a final pong frame", f)
            check_same_payload(f.payload, payload, "pong payload equals the ping payload")
    finally:
        ws.close()


@suite.case("python-websockets ping() gets its pong")
async def ws_ping(server):
    ws = await ws_connect(server, "/chat", compression=None)
    try:
        for data in (b"", b"payload 123"):
            waiter = await within(ws.ping(data), 5, f"send ping {data!r}")
            await within(waiter, 5, f"pong for ping {data!r}")
    finally:
        await within(ws.close(), 6, "close")


@suite.case("ping between two fragments: pong first, then the whole message")
def ping_between_fragments(server):
    ws = RawWs.connect(server.port, "/echo")
    try:
        ws.send_frame(OP_TEXT, b"frag-1 ", fin=False)
        ws.send_frame(OP_PING, b"in the middle")
        f = ws.recv_frame(what="pong while a message is half sent")
        check(f.opcode == OP_PONG and f.payload == b"in the middle", "the pong", f)
        ws.send_frame(OP_CONT, b"frag-2 ", fin=False)
        ws.send_frame(OP_CONT, b"frag-3")
        op, got = ws.recv_message(what="echo of the 3-fragment message")
        check(op == OP_TEXT, "text", op)
        check_same_payload(got, b"frag-1 frag-2 frag-3", "reassembled echo")
    finally:
        ws.close()


@suite.case("unsolicited pong is ignored")
def unsolicited_pong(server):
    ws = RawWs.connect(server.port, "/echo")
    try:
        ws.send_frame(OP_PONG, b"nobody asked")
        ws.roundtrip("still here", "echo after an unsolicited pong")
    finally:
        ws.close()


@suite.case("a frame sent in the same packet as the handshake is not lost")
def frame_with_handshake(server):
    ws = RawWs.connect(server.port, "/echo", extra=encode_frame(OP_TEXT, b"early bird"),
                       what="handshake with a text frame right behind it")
    try:
        op, got = ws.recv_message(what="echo of the frame that came with the handshake")
        check(op == OP_TEXT, "text", op)
        check_same_payload(got, b"early bird", "echo")
    finally:
        ws.close()


@suite.case("a UTF-8 character split across fragments is valid")
def utf8_split(server):
    ws = RawWs.connect(server.port, "/echo")
    try:
        text = "10 € and 😀".encode()
        cut1, cut2 = text.index(b"\xe2") + 1, text.index(b"\xf0") + 2
        ws.send_frame(OP_TEXT, text[:cut1], fin=False)
        ws.send_frame(OP_CONT, text[cut1:cut2], fin=False)
        ws.send_frame(OP_CONT, text[cut2:])
        op, got = ws.recv_message(what="echo of text split inside multi-byte characters")
        check(op == OP_TEXT, "text", op)
        check_same_payload(got, text, "echo")
    finally:
        ws.close()


@suite.case("1000 small frames in one write are echoed in order")
def many_frames_one_write(server):
    ws = RawWs.connect(server.port, "/echo")
    try:
        step("send 1000 masked text frames with one sendall()")
        ws.send(b"".join(encode_frame(OP_TEXT, f"burst {i}".encode()) for i in range(1000)))
        for i in range(1000):
            op, got = ws.recv_message(what=f"echo {i} of the burst")
            check(op == OP_TEXT and got == f"burst {i}".encode(), f"text 'burst {i}'",
                  f"{op} {got!r}")
    finally:
        ws.close()


@suite.case("a frame delivered one byte per write is echoed")
def frame_byte_by_byte(server):
    ws = RawWs.connect(server.port, "/echo")
    try:
        payload = make_binary(300)  # 16-bit length: header, length, mask and payload all split
        step("send a 300-byte binary frame one byte per send()")
        for b in encode_frame(OP_BINARY, payload):
            ws.send(bytes([b]))
        op, got = ws.recv_message(what="echo of the trickled frame")
        check(op == OP_BINARY, "binary", op)
        check_same_payload(got, payload, "echo of the trickled frame")
    finally:
        ws.close()


@suite.case("client drops TCP in the middle of a frame; others unaffected")
def drop_mid_frame(server):
    with serving_others(server, "a TCP drop mid-frame"):
        ws = RawWs.connect(server.port, "/echo")
        step("send half of a 64 KiB frame, then close the socket")
        ws.send(encode_frame(OP_BINARY, make_binary(65536))[:32768])
        ws.close()
        ws2 = RawWs.connect(server.port, "/echo")
        step("send a frame header only, then reset the socket (SO_LINGER 0)")
        ws2.send(bytes([0x82, 0xFE, 0x10, 0x00]))
        ws2.raw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        ws2.close()


@suite.case("--ping-interval 1: a silent client is pinged; answering keeps it open",
            args=("--ping-interval", "1"))
def server_pings(server):
    ws = RawWs.connect(server.port, "/echo")
    try:
        for i in range(2):
            f = ws.recv_frame(4, what=f"ping {i + 1} from the server within 4s of silence")
            check(f.opcode == OP_PING, "a ping frame", f)
            ws.send_frame(OP_PONG, f.payload)
        ws.roundtrip("still open", "echo after answering two pings")
    finally:
        ws.close()


@suite.case("--ping-interval 1 --pong-timeout 1: a client that never answers is dropped",
            args=("--ping-interval", "1", "--pong-timeout", "1"))
def unanswered_pings(server):
    # No bystander here: an idle bystander would rightly be dropped by the same rule.
    ws = RawWs.connect(server.port, "/echo")
    try:
        f = ws.recv_frame(4, what="a ping after 1s of silence")
        check(f.opcode == OP_PING, "a ping frame", f)
        # No pong: the server must cut the connection about a second later.
        expect_connection_closed(ws.raw, 6, "TCP closed after the unanswered ping")
    finally:
        ws.close()
    fresh = RawWs.connect(server.port, "/echo", what="a new client after the drop")
    try:
        fresh.roundtrip("still serving", "echo on a new connection")
    finally:
        fresh.close()


@suite.case("a 16 MiB + 1 byte message is over the default limit -> close 1009", timeout=30)
def default_limit(server):
    with serving_others(server, "a 16 MiB + 1 message"):
        ws = RawWs.connect(server.port, "/echo")
        try:
            # Header only: a server enforcing the limit must not wait for 16 MiB of payload.
            ws.send(bytes([0x82, 0xFF]) + struct.pack("!Q", 16 * 1024 * 1024 + 1) + b"\0" * 4)
            ws.expect_close({1009}, "close code for a declared length of 16 MiB + 1")
        finally:
            ws.close()


@suite.case("close 1000 -> server answers close 1000 and closes TCP")
def close_1000(server):
    ws = RawWs.connect(server.port, "/echo")
    try:
        ws.send_frame(OP_CLOSE, close_payload(1000, b"bye"))
        ws.expect_close({1000}, "the server's answer to close 1000")
    finally:
        ws.close()


@suite.case("empty close frame -> server answers with a close frame")
def close_empty(server):
    ws = RawWs.connect(server.port, "/echo")
    try:
        ws.send_frame(OP_CLOSE, b"")
        ws.expect_close({1005, 1000}, "the server's answer to an empty close (empty or 1000)")
    finally:
        ws.close()


for _code in (1001, 1003, 1007, 1011, 3000, 4999):
    @suite.case(f"valid close code {_code} -> server answers with a close (not 1002)")
    def close_valid(server, code=_code):
        ws = RawWs.connect(server.port, "/echo")
        try:
            ws.send_frame(OP_CLOSE, close_payload(code, b"fine"))
            ws.expect_close({code, 1000}, f"the server's answer to close {code}")
        finally:
            ws.close()


@suite.case("data after the client's close frame is ignored")
def data_after_close(server):
    ws = RawWs.connect(server.port, "/echo")
    try:
        ws.send(encode_frame(OP_CLOSE, close_payload(1000)) + encode_frame(OP_TEXT, b"too late"))
        ws.expect_close({1000}, "a close 1000 and no echo of data sent after the close")
    finally:
        ws.close()


@suite.case("python-websockets close() completes with 1000")
async def ws_close(server):
    for path in ("/echo", "/chat"):
        ws = await ws_connect(server, path)
        await within(ws.close(1000, "done"), 6, f"close handshake on {path}")
        check(ws.close_code == 1000, f"close code 1000 from the server on {path}",
              f"{ws.close_code} {ws.close_reason!r}")


if __name__ == "__main__":
    suite.main()
