"""A hand-rolled HTTP/1.1 and WebSocket client over blocking loopback sockets, for the bytes that
real clients never send: bad handshakes, unmasked or reserved frames, bad close codes, heads
that never end. Every read has a deadline; failures name the step."""

import base64
import hashlib
import json
import os
import socket
import struct
import time

from herald_checks import Failure, check, current_step, describe, step

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
RSV1, RSV2, RSV3 = 0x40, 0x20, 0x10
OP_NAMES = {0: "continuation", 1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong"}


class Closed(Exception):
    """The peer closed the TCP connection (FIN or RST) while we were reading."""


class RawSocket:
    """A blocking loopback TCP socket with a read buffer and deadline-bounded reads."""

    def __init__(self, port, timeout=5):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def send(self, data):
        self.sock.sendall(data)

    def try_send(self, data):
        """Sends, ignoring a peer that already closed (used after the server failed us)."""
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError()
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(1 << 20)
        except socket.timeout:
            raise TimeoutError() from None
        except (ConnectionResetError, BrokenPipeError):
            raise Closed("reset") from None
        if not chunk:
            raise Closed("eof")
        self.buf += chunk

    def read_exact(self, n, deadline):
        while len(self.buf) < n:
            self._fill(deadline)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_until(self, marker, deadline, limit=1 << 20):
        while True:
            i = self.buf.find(marker)
            if i >= 0:
                out = bytes(self.buf[:i + len(marker)])
                del self.buf[:i + len(marker)]
                return out
            if len(self.buf) > limit:
                raise Failure(current_step(), f"{marker!r} within {limit} bytes",
                              f"{describe(bytes(self.buf))}")
            self._fill(deadline)

    def read_to_eof(self, deadline):
        """Reads until the peer closes. Returns everything read (buffered bytes included)."""
        while True:
            try:
                self._fill(deadline)
            except Closed:
                out = bytes(self.buf)
                self.buf.clear()
                return out

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class HttpResponse:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # lower-case name -> list of values
        self.body = body

    def header(self, name):
        values = self.headers.get(name.lower())
        return values[0] if values else None

    def __repr__(self):
        hdrs = "; ".join(f"{k}: {', '.join(v)}" for k, v in self.headers.items())
        return f"HTTP {self.status} {self.reason!r} [{hdrs}] body={describe(self.body)}"


def parse_head(head):
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise Failure(current_step(), "an HTTP/1.x status line", repr(lines[0]))
    headers = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise Failure(current_step(), "response header lines 'Name: value'", repr(line))
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return int(parts[1]), (parts[2] if len(parts) > 2 else ""), headers


def read_response(raw, deadline, head_only=False):
    """Reads one HTTP response from a RawSocket: head, then a Content-Length, chunked or
    read-to-close body."""
    try:
        head = raw.read_until(b"\r\n\r\n", deadline)
    except Closed:
        raise Failure(current_step(), "an HTTP response",
                      f"connection closed after {describe(bytes(raw.buf))}") from None
    except TimeoutError:
        raise Failure(current_step(), "an HTTP response in time",
                      f"nothing complete after {describe(bytes(raw.buf))}") from None
    status, reason, headers = parse_head(head[:-4])
    body = b""
    if head_only or status in (101, 204, 304) or 100 <= status < 200:
        return HttpResponse(status, reason, headers, body)
    try:
        if "content-length" in headers:
            body = raw.read_exact(int(headers["content-length"][0]), deadline)
        elif "chunked" in ",".join(headers.get("transfer-encoding", [])).lower():
            while True:
                size = int(raw.read_until(b"\r\n", deadline)[:-2].split(b";")[0], 16)
                if size == 0:
                    raw.read_until(b"\r\n", deadline)
                    break
                body += raw.read_exact(size, deadline)
                raw.read_exact(2, deadline)
        else:
            body = raw.read_to_eof(deadline)
    except (Closed, TimeoutError):
        raise Failure(current_step(), "a complete response body",
                      f"head {status} {reason}, then connection closed/timed out") from None
    return HttpResponse(status, reason, headers, body)


def http_exchange(port, request, what, timeout=5):
    """Sends raw request bytes on a fresh connection and reads one response."""
    step(what)
    raw = RawSocket(port, timeout)
    try:
        raw.send(request)
        return read_response(raw, time.monotonic() + timeout)
    finally:
        raw.close()


def http_get(port, path, what, timeout=5):
    req = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()
    return http_exchange(port, req, what, timeout)


def expect_connection_closed(raw, timeout, what):
    """Waits until the server closes the connection. Returns the bytes it sent before."""
    step(what)
    try:
        return raw.read_to_eof(time.monotonic() + timeout)
    except TimeoutError:
        raise Failure(what, f"the server closes the connection within {timeout}s",
                      f"still open; received so far {describe(bytes(raw.buf))}") from None


def apply_mask(data, key):
    n = len(data)
    if n == 0:
        return b""
    mask = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(mask, "little")).to_bytes(n, "little")


def encode_frame(opcode, payload=b"", fin=True, rsv=0, mask=True, length=None):
    """One client frame. rsv: RSV1|RSV2|RSV3 bits. length overrides the encoded length."""
    if isinstance(payload, str):
        payload = payload.encode()
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | rsv | opcode
    m = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", b0, m | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, m | 126, n)
    else:
        head = struct.pack("!BBQ", b0, m | 127, n)
    if mask:
        key = os.urandom(4)
        return head + key + apply_mask(payload, key)
    return head + payload


def close_payload(code, reason=b""):
    return struct.pack("!H", code) + reason


class Frame:
    def __init__(self, fin, rsv, opcode, payload):
        self.fin, self.rsv, self.opcode, self.payload = fin, rsv, opcode, payload

    def __repr__(self):
        name = OP_NAMES.get(self.opcode, hex(self.opcode))
        return f"<{name} fin={int(self.fin)} rsv={self.rsv:#x} {describe(self.payload)}>"


class RawWs:
    """A hand-rolled WebSocket client over a blocking socket, to send what real clients never
    would. Owned by one test; not thread-safe."""

    def __init__(self, raw, response):
        self.raw = raw
        self.response = response

    @classmethod
    def connect(cls, port, path="/echo", extensions=None, what=None, timeout=5, extra=b""):
        step(what or f"raw WebSocket handshake on {path}")
        raw = RawSocket(port, timeout)
        key = base64.b64encode(os.urandom(16))
        req = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key.decode()}\r\n"
               f"Sec-WebSocket-Version: 13\r\n").encode()
        if extensions:
            req += f"Sec-WebSocket-Extensions: {extensions}\r\n".encode()
        raw.send(req + b"\r\n" + extra)
        resp = read_response(raw, time.monotonic() + timeout, head_only=True)
        check(resp.status == 101, f"101 Switching Protocols for {path}", resp)
        accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest()).decode()
        check(resp.header("sec-websocket-accept") == accept,
              f"Sec-WebSocket-Accept: {accept}", resp)
        return cls(raw, resp)

    def send(self, data):
        self.raw.send(data)

    def send_frame(self, opcode, payload=b"", **kw):
        self.raw.send(encode_frame(opcode, payload, **kw))

    def recv_frame(self, timeout=5, what=None):
        """Next server frame. Fails on a masked server frame, a timeout or a closed socket."""
        if what:
            step(what)
        deadline = time.monotonic() + timeout
        try:
            b0, b1 = self.raw.read_exact(2, deadline)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self.raw.read_exact(2, deadline))[0]
            elif n == 127:
                n = struct.unpack("!Q", self.raw.read_exact(8, deadline))[0]
            check(not b1 & 0x80, "unmasked server frames (RFC 6455 5.1)", "a masked frame")
            payload = self.raw.read_exact(n, deadline)
        except TimeoutError:
            raise Failure(current_step(), f"a frame from the server within {timeout}s",
                          f"nothing (buffered: {describe(bytes(self.raw.buf))})") from None
        except Closed as e:
            raise Failure(current_step(), "a frame from the server",
                          f"TCP connection closed ({e}) with {describe(bytes(self.raw.buf))} "
                          "buffered") from None
        return Frame(bool(b0 & 0x80), b0 & 0x70, b0 & 0x0F, payload)

    def recv_message(self, timeout=5, what=None):
        """Next data message (reassembled), skipping pings/pongs. Returns (opcode, payload)."""
        if what:
            step(what)
        deadline = time.monotonic() + timeout
        opcode, parts = None, []
        while True:
            f = self.recv_frame(max(0.01, deadline - time.monotonic()))
            if f.opcode in (OP_PING, OP_PONG):
                continue
            if f.opcode == OP_CLOSE:
                raise Failure(current_step(), "a data message", f"a close frame {close_info(f)}")
            if opcode is None:
                check(f.opcode in (OP_TEXT, OP_BINARY), "a text or binary frame", f)
                opcode = f.opcode
            else:
                check(f.opcode == OP_CONT, "a continuation frame", f)
            parts.append(f.payload)
            if f.fin:
                return opcode, b"".join(parts)

    def roundtrip(self, text, what):
        """Sends a masked text message and expects the same text back (on /echo)."""
        step(what)
        self.send_frame(OP_TEXT, text.encode())
        opcode, payload = self.recv_message(what=what)
        check(opcode == OP_TEXT and payload == text.encode(), f"text echo {text!r}",
              f"{OP_NAMES.get(opcode)} {describe(payload)}")

    def expect_close(self, codes, what, timeout=5):
        """Expects the server's close frame with one of `codes` (1005 = empty payload) before any
        data frame, answers it, and expects the server to close TCP. Returns (code, reason)."""
        step(what)
        codes = set(codes)
        want = f"close frame with code {' or '.join(map(str, sorted(codes)))}"
        deadline = time.monotonic() + timeout
        while True:
            try:
                f = self.recv_frame(max(0.01, deadline - time.monotonic()))
            except Failure as e:
                raise Failure(what, want, str(e).split("got:", 1)[-1].strip()) from None
            if f.opcode == OP_CLOSE:
                break
            if f.opcode in (OP_PING, OP_PONG):
                continue
            raise Failure(what, want, f"a data frame first: {f}")
        code, reason = close_info(f)
        check(code in codes, want, f"close code {code} reason {reason!r}")
        self.raw.try_send(encode_frame(OP_CLOSE, f.payload[:2]))
        try:
            self.raw.read_to_eof(time.monotonic() + timeout)
        except TimeoutError:
            raise Failure(what, "the server closes TCP after the close handshake",
                          f"connection still open after {timeout}s") from None
        return code, reason

    def close(self):
        self.raw.close()


def close_info(frame):
    if len(frame.payload) < 2:
        return 1005, b""
    return struct.unpack("!H", frame.payload[:2])[0], frame.payload[2:]


def json_body(resp, what):
    try:
        return json.loads(resp.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Failure(what, "a JSON body", describe(resp.body)) from None
