#!/usr/bin/python3
"""HTTP side of the real server over raw sockets: /health, /metrics, 404s, every kind of bad
WebSocket handshake (with the status RFC 6455 4.2.2 asks for), oversized and never-ending heads;
after each bad input an already-open client and a new client must still be served.

Usage: /usr/bin/python3 test_http.py --herald build/<dir>/apps/herald/herald [-k SUBSTRING]
"""

import base64
import hashlib
import os
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from herald_checks import check, describe, step  # noqa: E402
from herald_harness import Suite, serving_others  # noqa: E402
from herald_raw import (WS_GUID, Closed, RawSocket, RawWs, expect_connection_closed,  # noqa: E402
                        http_exchange, http_get, json_body, read_response)

suite = Suite("http (raw sockets)")

KEY = base64.b64encode(b"0123456789abcdef").decode()


def upgrade(port, path="/echo", method="GET", key=KEY, version="13", extra=""):
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket",
             "Connection: Upgrade"]
    if key is not None:
        lines.append(f"Sec-WebSocket-Key: {key}")
    if version is not None:
        lines.append(f"Sec-WebSocket-Version: {version}")
    if method != "GET":
        lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()


def expect_status(resp, statuses, what):
    check(resp.status in statuses, f"{what}: HTTP {' or '.join(map(str, statuses))}", resp)


# --- what must work -----------------------------------------------------------------------------

@suite.case("GET /health -> 200 JSON {\"status\":\"ok\"}")
def health(server):
    resp = http_get(server.port, "/health", "GET /health")
    expect_status(resp, {200}, "GET /health")
    body = json_body(resp, "GET /health body")
    check(isinstance(body, dict) and body.get("status") == "ok", 'a JSON body {"status":"ok"}',
          describe(resp.body))


@suite.case("GET /ready -> 200 {\"status\":\"ready\"} on a serving server; POST -> 405")
def ready(server):
    resp = http_get(server.port, "/ready", "GET /ready")
    expect_status(resp, {200}, "GET /ready")
    body = json_body(resp, "GET /ready body")
    check(body == {"status": "ready"}, '{"status":"ready"}', body)
    resp = http_exchange(server.port,
                         b"POST /ready HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
                         "POST /ready")
    expect_status(resp, {405}, "POST /ready")


@suite.case("GET /metrics -> 200 Prometheus text with herald_ metrics")
def metrics(server):
    resp = http_get(server.port, "/metrics", "GET /metrics")
    expect_status(resp, {200}, "GET /metrics")
    ctype = resp.header("content-type") or ""
    check(ctype.startswith("text/plain"), "Content-Type text/plain (Prometheus text format)",
          ctype or "no Content-Type")
    text = resp.body.decode("utf-8", "replace")
    sample = re.compile(r"^herald_[A-Za-z0-9_:]*(\{[^}]*\})? [-+0-9.eEaInNf]+( [0-9]+)?$")
    samples = [line for line in text.splitlines() if sample.match(line)]
    check(samples, "at least one sample line 'herald_<name>[{labels}] <value>'",
          describe(resp.body, 400))


@suite.case("a request body split over two writes is read whole; the next request follows")
def body_then_pipelined(server):
    step("POST with a Content-Length body in two pieces, then a GET on the same connection")
    raw = RawSocket(server.port)
    try:
        raw.send(b"POST /no-such-path HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab")
        time.sleep(0.2)  # the rest of the body comes in a second segment
        raw.send(b"cdeGET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        deadline = time.monotonic() + 5
        first = read_response(raw, deadline)
        expect_status(first, {404}, "the POST (its 5 body bytes must not be taken as a request)")
        second = read_response(raw, deadline)
        expect_status(second, {200}, "the GET /health behind it")
    finally:
        raw.close()


@suite.case("a chunked request body -> 411 (send Content-Length)")
def chunked_body(server):
    resp = http_exchange(server.port, b"POST /api/publish HTTP/1.1\r\nHost: x\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                         "POST with a chunked body")
    expect_status(resp, {411}, "a chunked request body")
    json_body(resp, "the 411 body")


@suite.case("GET /no-such-path -> 404 with a JSON body")
def not_found(server):
    resp = http_get(server.port, "/no-such-path", "GET /no-such-path")
    expect_status(resp, {404}, "GET /no-such-path")
    json_body(resp, "GET /no-such-path body")


@suite.case("WebSocket upgrade on an unknown path -> 404")
def upgrade_not_found(server):
    with serving_others(server, "an upgrade to /nowhere"):
        resp = http_exchange(server.port, upgrade(server.port, "/nowhere"), "upgrade /nowhere")
        expect_status(resp, {404}, "upgrade to /nowhere")


@suite.case("/echo without --echo -> 404", echo=False)
def echo_disabled(server):
    resp = http_exchange(server.port, upgrade(server.port, "/echo"), "upgrade /echo (no --echo)")
    expect_status(resp, {404}, "upgrade to /echo on a server started without --echo")
    RawWs.connect(server.port, "/chat", what="/chat still works without --echo").close()


@suite.case("handshake sent one byte at a time -> 101 and a working echo")
def byte_by_byte(server):
    raw = RawSocket(server.port)
    try:
        step("send the handshake one byte per send()")
        for b in upgrade(server.port):
            raw.send(bytes([b]))
        resp = read_response(raw, time.monotonic() + 5, head_only=True)
        expect_status(resp, {101}, "byte-by-byte handshake")
        ws = RawWs(raw, resp)
        ws.roundtrip("slowly but surely", "echo after a byte-by-byte handshake")
    finally:
        raw.close()


@suite.case("header names/values in any case, 'Connection: keep-alive, Upgrade' -> 101")
def header_case(server):
    req = (f"GET /echo HTTP/1.1\r\nhost: 127.0.0.1:{server.port}\r\nUPGRADE: WebSocket\r\n"
           f"connection: keep-alive, Upgrade\r\nsec-websocket-key: {KEY}\r\n"
           "SEC-WEBSOCKET-VERSION: 13\r\nUser-Agent: Mozilla/5.0\r\n\r\n").encode()
    raw = RawSocket(server.port)
    try:
        raw.send(req)
        resp = read_response(raw, time.monotonic() + 5, head_only=True)
        expect_status(resp, {101}, "handshake with unusual header case")
        accept = base64.b64encode(hashlib.sha1(KEY.encode() + WS_GUID).digest()).decode()
        check(resp.header("sec-websocket-accept") == accept, f"Sec-WebSocket-Accept: {accept}",
              resp)
        RawWs(raw, resp).roundtrip("any case", "echo after the handshake")
    finally:
        raw.close()


@suite.case("two pipelined GET /health in one packet: both answered in order (or close)")
def pipelined(server):
    raw = RawSocket(server.port)
    try:
        one = f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n"
        raw.send((one + one).encode())
        first = read_response(raw, time.monotonic() + 5)
        expect_status(first, {200}, "first pipelined GET /health")
        if "close" in (first.header("connection") or "").lower():
            return  # the server announced it closes after the first: also correct
        second = read_response(raw, time.monotonic() + 5)
        expect_status(second, {200}, "second pipelined GET /health")
    finally:
        raw.close()


def extension_offer_case(name, offer, accept_re):
    """RFC 7692 5: an offer with an unknown or invalid parameter must be declined (not fail the
    handshake); accept_re says which response header values are allowed (None: no header)."""
    @suite.case(f"extension offer {name}")
    def run(server):
        ws = RawWs.connect(server.port, "/echo", extensions=offer,
                           what=f"handshake offering {offer!r}")
        try:
            got = ws.response.header("sec-websocket-extensions")
            if accept_re is None:
                check(got is None, f"no Sec-WebSocket-Extensions in the 101 for {offer!r}",
                      ws.response)
            else:
                check(got is None or re.fullmatch(accept_re, got),
                      f"no extension or one matching {accept_re!r}", ws.response)
            if got is None:
                ws.roundtrip("uncompressed", "echo without an extension")
        finally:
            ws.close()


extension_offer_case("with an unknown parameter -> declined",
                     "permessage-deflate; no_such_param", None)
extension_offer_case("with server_max_window_bits=20 -> declined",
                     "permessage-deflate; server_max_window_bits=20", None)
extension_offer_case("with a duplicated parameter -> declined",
                     "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
                     None)
extension_offer_case("of an unknown extension -> declined", "x-webkit-deflate-frame", None)
extension_offer_case("invalid first, valid second -> the second or nothing",
                     "permessage-deflate; server_max_window_bits=20, permessage-deflate",
                     r"permessage-deflate(; ?(server|client)_no_context_takeover"
                     r"|; ?(server|client)_max_window_bits=(9|1[0-5]))*")


# --- bad handshakes -----------------------------------------------------------------------------

def bad_request_case(name, statuses, make_request, args=(), check_response=None):
    @suite.case(f"{name} -> {' or '.join(map(str, statuses))}", args=args)
    def run(server):
        with serving_others(server, name):
            resp = http_exchange(server.port, make_request(server.port), name)
            expect_status(resp, statuses, name)
            if check_response:
                check_response(resp)


bad_request_case("upgrade without Sec-WebSocket-Key", {400},
                 lambda port: upgrade(port, key=None))
bad_request_case("upgrade with a Sec-WebSocket-Key that is not 16 bytes of base64", {400},
                 lambda port: upgrade(port, key="c2hvcnQ="))
bad_request_case("upgrade without Sec-WebSocket-Version", {400, 426},
                 lambda port: upgrade(port, version=None))


def version_13_advertised(resp):
    step("426 response advertises Sec-WebSocket-Version: 13")
    values = ",".join(resp.headers.get("sec-websocket-version", []))
    check("13" in [v.strip() for v in values.split(",")], "header Sec-WebSocket-Version: 13",
          resp)


bad_request_case("upgrade with Sec-WebSocket-Version: 8", {426},
                 lambda port: upgrade(port, version="8"), check_response=version_13_advertised)
bad_request_case("upgrade with Sec-WebSocket-Version: 14", {426},
                 lambda port: upgrade(port, version="14"), check_response=version_13_advertised)
bad_request_case("POST with WebSocket upgrade headers", {400, 405},
                 lambda port: upgrade(port, method="POST"))
bad_request_case("garbage request line 'THIS IS NOT HTTP'", {400},
                 lambda port: b"THIS IS NOT HTTP\r\n\r\n")
bad_request_case("binary garbage request line", {400},
                 lambda port: b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n")
bad_request_case("header line without a colon", {400},
                 lambda port: b"GET /health HTTP/1.1\r\nHost: x\r\nthis is no header\r\n\r\n")


def huge_head_case(name, make_head):
    @suite.case(f"{name} -> 431")
    def run(server):
        with serving_others(server, name):
            step(f"send {name}")
            raw = RawSocket(server.port)
            head = make_head(server.port)
            # The server may answer and close before reading everything: send from a thread so
            # that a full socket buffer cannot block the test, and read the answer meanwhile.
            threading.Thread(target=raw.try_send, args=(head,), daemon=True).start()
            try:
                resp = read_response(raw, time.monotonic() + 5)
                expect_status(resp, {431}, f"answer to {name} ({len(head)} bytes)")
            finally:
                raw.close()


huge_head_case("one 128 KiB header line", lambda port: (
    f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Big: {'a' * 131072}\r\n\r\n").encode())
huge_head_case("3000 headers (96 KiB head)", lambda port: (
    f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    + "".join(f"X-Header-{i:05}: {'v' * 16}\r\n" for i in range(3000)) + "\r\n").encode())


@suite.case("--idle-timeout 1: an idle keep-alive HTTP connection is closed",
            args=("--idle-timeout", "1"))
def idle_keep_alive(server):
    raw = RawSocket(server.port)
    try:
        step("GET /health on a keep-alive connection")
        raw.send(f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode())
        resp = read_response(raw, time.monotonic() + 5)
        expect_status(resp, {200}, "GET /health (keep-alive)")
        rest = expect_connection_closed(raw, 5, "the idle connection is closed within 5s")
        check(rest == b"", "no further bytes on the idle connection", describe(rest))
    finally:
        raw.close()


HEAD_TIMEOUT = ("--head-timeout", "1")


@suite.case("a head that never ends is closed after --head-timeout 1", args=HEAD_TIMEOUT)
def head_never_ends(server):
    with serving_others(server, "an unfinished head"):
        raw = RawSocket(server.port)
        try:
            t0 = time.monotonic()
            raw.send(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n".encode())
            got = expect_connection_closed(raw, 6, "the server closes a head unfinished for 1s")
            elapsed = time.monotonic() - t0
            check(elapsed >= 0.5, "closed by the head timeout (about 1s), not at once",
                  f"closed after {elapsed:.2f}s with {describe(got)}")
            check(not got or got.startswith(b"HTTP/1.1 4"), "nothing or a 4xx response",
                  describe(got))
        finally:
            raw.close()


@suite.case("a head trickled one byte per 200 ms is still cut at --head-timeout 1",
            args=HEAD_TIMEOUT)
def head_trickle(server):
    with serving_others(server, "a trickled head"):
        raw = RawSocket(server.port)
        try:
            step("trickle a head byte every 200 ms until the server closes (at most 6s)")
            t0 = time.monotonic()
            trickle = (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"s" * 200)
            closed = False
            for b in trickle:  # bounded: about 230 bytes, at most 6 s
                if time.monotonic() - t0 > 6:
                    break
                if not raw.try_send(bytes([b])):
                    closed = True
                    break
                try:
                    raw._fill(time.monotonic() + 0.2)  # wait for a close, at most 200 ms
                except TimeoutError:
                    continue
                except Closed:
                    closed = True
                    break
            elapsed = time.monotonic() - t0
            check(closed, "the server closes the trickling connection within 6s",
                  f"still open after {elapsed:.1f}s")
        finally:
            raw.close()


# ---------------------------------------------------------------------------------------------
# A second server on a port in use (SO_REUSEPORT would let it share the port silently)


def second_server(binary, listen, what):
    """Runs `herald serve --listen LISTEN` that must refuse at once; returns (rc, stdout, stderr)."""
    step(what)
    try:
        p = subprocess.run([binary, "serve", "--listen", listen, "--memory"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
    except subprocess.TimeoutExpired:
        check(False, "the second server exits at once", "still running after 10s")
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def expect_refused(binary, listen, in_use):
    rc, out, err = second_server(binary, listen, f"start a second server on {listen}")
    check(rc != 0, "a non-zero exit", rc)
    check(f"{in_use} is already in use" in err and len(err.strip().splitlines()) == 1,
          f"one line saying '{in_use} is already in use'", err)
    check("listening" not in out, "never says it is listening", out)


@suite.case("a second server on the address of a running one refuses to start; the first goes on")
def second_server_ipv4(server):
    binary = server.argv[0]
    port = server.port
    expect_refused(binary, f"127.0.0.1:{port}", f"127.0.0.1:{port}")
    expect_refused(binary, f"0.0.0.0:{port}", f"0.0.0.0:{port}")
    resp = http_get(port, "/health", "the first server still answers")
    check(resp.status == 200, "200 from the first server", resp.status)


@suite.case("a second server on an IPv6 address ([::1]) refuses too")
def second_server_ipv6(server):
    binary = server.argv[0]
    step("start a first server on [::1]:0")
    first = subprocess.Popen([binary, "serve", "--listen", "[::1]:0", "--memory"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        line = first.stdout.readline().decode()
        m = re.match(r"^herald listening on http://\[::1\]:(\d+)$", line.strip())
        check(m is not None, "'herald listening on http://[::1]:PORT'", line)
        port = int(m.group(1))
        expect_refused(binary, f"[::1]:{port}", f"[::1]:{port}")
        step("the first server still answers on [::1]")
        with socket.create_connection(("::1", port), timeout=5) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            got = b""
            while chunk := s.recv(4096):
                got += chunk
        check(got.startswith(b"HTTP/1.1 200"), "200 from the first server", describe(got))
        check(first.poll() is None, "the first server is still running", first.poll())
    finally:
        first.kill()
        first.wait(timeout=10)


if __name__ == "__main__":
    suite.main()
