"""One protocol connection, whatever the transport: the Herald protocol suites run the same
cases over every transport by opening their clients through `connect()`.

A link sends a text unit (a WebSocket text frame, or lines over raw TCP) and receives one (a
frame, or one line; the blank keepalive lines of TCP are skipped). Clients split what they
receive on '\\n' either way, as docs/PROTOCOL.md asks.

TRANSPORT is set by Suite.main from --transport; server_args() is what a server needs for it.
"""

import asyncio

import websockets

from herald_checks import step

TRANSPORT = "websocket"
WS_PATH = "/connection/websocket"


def server_args():
    return ("--tcp-listen", "127.0.0.1:0") if TRANSPORT == "tcp" else ()


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
    if transport == "tcp":
        step(f"{what} connects over raw TCP to port {server.tcp_port}")
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", server.tcp_port, limit=64 << 20), timeout)
        return TcpLink(reader, writer)
    step(f"{what} connects to {WS_PATH}")
    ws = await asyncio.wait_for(
        websockets.connect(f"ws://127.0.0.1:{server.port}{WS_PATH}", max_size=None), timeout)
    return WsLink(ws)
