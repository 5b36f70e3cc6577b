"""One protocol connection, whatever the transport: the Herald protocol suites run the same
cases over every transport by opening their clients through `connect()`.

A link sends a text unit (a WebSocket text frame, lines over raw TCP, a POST to an SSE or
long-poll session) and receives one (a frame, one line, one SSE event, one poll answer; the blank
keepalive lines of TCP are skipped). Clients split what they
receive on '\\n' either way, as docs/PROTOCOL.md asks.

TRANSPORT is set by Suite.main from --transport; server_args() is what a server needs for it.
"""

import asyncio
import json
import urllib.parse

import websockets

from herald_checks import step

TRANSPORT = "websocket"
WS_PATH = "/connection/websocket"


def server_args():
    if TRANSPORT == "tcp":
        return ("--tcp-listen", "127.0.0.1:0")
    if TRANSPORT == "poll":
        # A client that vanishes is collected after session_timeout: short, so that the presence
        # cases see it go within their wait, yet not so short that a test client starved of CPU
        # (between one poll's answer and its next poll) is collected: that flaked at 2 s on a
        # loaded machine. Polls are held 2 s.
        return ("--poll-timeout", "2", "--session-timeout", "5")
    return ()


class LinkClosed(Exception):
    pass


class WsLink:
    def __init__(self, ws):
        self.ws = ws

    async def send(self, text):
        await self.ws.send(text)

    async def recv(self):
        try:
            return await self.ws.recv()
        except websockets.ConnectionClosed as e:
            raise LinkClosed(str(e)) from e

    def abort(self):
        """Drops the TCP connection with no close handshake: the server sees a dead peer."""
        self.ws.transport.abort()

    async def close(self):
        await self.ws.close()


class TcpLink:
    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer

    async def send(self, text):
        self.writer.write(text.encode() + b"\n")
        await self.writer.drain()

    async def recv(self):
        while True:
            line = await self.reader.readline()
            if not line:
                raise LinkClosed("EOF")
            line = line.rstrip(b"\n")
            if line:
                return line.decode()

    def abort(self):
        self.writer.transport.abort()

    async def close(self):
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, OSError):
            pass


async def connect(server, what="client", transport=None, timeout=5):
    """Opens a protocol link to server over `transport` (default: the suite's)."""
    transport = transport or TRANSPORT
    if transport == "sse":
        step(f"{what} opens an SSE stream")
        return SseLink(server.port)
    if transport == "poll":
        step(f"{what} starts a long-poll session")
        return PollLink(server.port)
    if transport == "tcp":
        step(f"{what} connects over raw TCP to port {server.tcp_port}")
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", server.tcp_port, limit=64 << 20), timeout)
        return TcpLink(reader, writer)
    step(f"{what} connects to {WS_PATH}")
    ws = await asyncio.wait_for(
        websockets.connect(f"ws://127.0.0.1:{server.port}{WS_PATH}", max_size=None), timeout)
    return WsLink(ws)


# ---------------------------------------------------------------------------------------------
# HTTP transports: Server-Sent Events and long-polling, over a small asyncio HTTP/1.1 client
# (the server always sends Content-Length, except on an event stream, which ends at close).


async def http_request(port, method, target, body=b"", headers=None, timeout=10):
    """One request on a fresh connection; returns (status, headers dict lower-cased, body)."""
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", port, limit=64 << 20), timeout)
    try:
        head = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for k, v in (headers or {}).items():
            head += f"{k}: {v}\r\n"
        head += f"Content-Length: {len(body)}\r\n\r\n"
        writer.write(head.encode() + body)
        await writer.drain()
        status, hdrs = await _read_head(reader, timeout)
        length = int(hdrs.get("content-length", "0"))
        data = await asyncio.wait_for(reader.readexactly(length), timeout) if length else b""
        return status, hdrs, data
    finally:
        writer.close()


async def _read_head(reader, timeout):
    raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    lines = raw.decode().split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
    return status, hdrs


class SseLink:
    """Bidirectional SSE: the first send opens the stream with its first line as the connect
    command; the rest of that send and every later one is POSTed to the session. recv() gives
    one event's data (its data lines joined by '\\n', like a WebSocket frame)."""

    def __init__(self, port):
        self.port = port
        self.reader = None
        self.writer = None
        self.session = None

    async def send(self, text):
        if self.reader is None:
            first, _, rest = text.partition("\n")
            self.reader, self.writer = await asyncio.open_connection(
                "127.0.0.1", self.port, limit=64 << 20)
            target = "/connection/sse?connect=" + urllib.parse.quote(first, safe="")
            self.writer.write(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "Accept: text/event-stream\r\n\r\n".encode())
            await self.writer.drain()
            status, hdrs = await _read_head(self.reader, 5)
            if status != 200 or "herald-session" not in hdrs:
                raise LinkClosed(f"stream refused: {status} {hdrs}")
            self.session = hdrs["herald-session"]
            if not rest:
                return
            text = rest
        status, _, body = await http_request(
            self.port, "POST", f"/connection/sse?session={self.session}", text.encode())
        if status != 204:
            raise LinkClosed(f"POST to the session: {status} {body!r}")

    async def recv(self):
        data = []
        while True:
            line = await self.reader.readline()
            if not line:
                raise LinkClosed("EOF")
            line = line.decode().rstrip("\n")
            if line == "":
                if data:
                    return "\n".join(data)
                continue
            if line.startswith("data: "):
                data.append(line[6:])

    def abort(self):
        self.writer.transport.abort()

    async def close(self):
        self.writer.close()


class PollLink:
    """Long-polling: the first send creates the session (its answer is the first poll's), then
    a background task polls with the cursor of the last answer; recv() gives one answer's lines
    (joined by '\\n'). abort() stops polling without a word (the server collects the session);
    close() leaves with DELETE."""

    def __init__(self, port):
        self.port = port
        self.session = None
        self.queue = asyncio.Queue()
        self.poller = None
        self.cursor = 0

    def _take(self, body):
        lines = body.decode().split("\n")
        self.cursor = json.loads(lines[0])["cursor"]
        if len(lines) > 1:
            self.queue.put_nowait("\n".join(lines[1:]))

    async def _poll_forever(self):
        while True:
            status, _, body = await http_request(
                self.port, "GET", f"/connection/poll?session={self.session}&cursor={self.cursor}",
                timeout=60)
            if status != 200:
                self.queue.put_nowait(LinkClosed(f"poll answered {status} {body!r}"))
                return
            self._take(body)

    async def send(self, text):
        if self.session is None:
            status, hdrs, body = await http_request(self.port, "POST", "/connection/poll",
                                                    text.encode())
            if status != 200:
                raise LinkClosed(f"session refused: {status} {body!r}")
            self.session = hdrs["herald-session"]
            self._take(body)
            self.poller = asyncio.create_task(self._poll_forever())
            return
        status, _, body = await http_request(
            self.port, "POST", f"/connection/poll?session={self.session}", text.encode())
        if status != 204:
            raise LinkClosed(f"POST to the session: {status} {body!r}")

    async def recv(self):
        item = await self.queue.get()
        if isinstance(item, Exception):
            raise item
        return item

    def abort(self):
        if self.poller:
            self.poller.cancel()

    async def close(self):
        self.abort()
        if self.session:
            await http_request(self.port, "DELETE", f"/connection/poll?session={self.session}")
