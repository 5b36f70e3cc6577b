#!/usr/bin/python3
"""The web pages the binary serves, over raw sockets and python-websockets: / and /dashboard and
every asset they load, the SDK under /sdk/ byte for byte as in clients/js/src, ETag and 304,
HEAD, 405, no way out of the embedded table, a WebSocket upgrade on / joining the /chat room,
/stats.json, and --no-web-pages. (What the pages do in a browser: tests/e2e.)

Usage: /usr/bin/python3 test_web.py --herald build/<dir>/apps/herald/herald [-k SUBSTRING]
"""

import asyncio
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from herald_checks import check, check_eq, describe, step  # noqa: E402
from herald_harness import Suite, within, ws_connect, ws_recv  # noqa: E402
from herald_raw import RawSocket, http_exchange, http_get, json_body, read_response  # noqa: E402

suite = Suite("web pages and /stats.json")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SDK_DIR = os.path.join(ROOT, "clients", "js", "src")


def request(port, method, path, headers=(), what=None):
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close",
             *headers]
    if method == "POST":
        lines.append("Content-Length: 0")
    resp = http_exchange(port, ("\r\n".join(lines) + "\r\n\r\n").encode(),
                         what or f"{method} {path}")
    return resp


def expect(resp, status, what):
    check(resp.status == status, f"{what}: HTTP {status}", resp)


def page_assets(html):
    """The same-origin URLs a page loads (scripts, styles, icons)."""
    return sorted(set(re.findall(r'(?:src|href)="(/(?:assets|sdk)/[^"]+)"', html)))


def imports(js):
    """The relative and absolute module specifiers a script imports."""
    return re.findall(r"""(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]""", js)


# --- the pages -------------------------------------------------------------------------------


@suite.case("GET / and /dashboard: HTML with ETag, no-cache and a same-origin CSP")
def pages(server):
    for path, title in (("/", "Herald chat"), ("/dashboard", "Herald dashboard")):
        resp = http_get(server.port, path, f"GET {path}")
        expect(resp, 200, f"GET {path}")
        check_eq(resp.header("content-type"), "text/html; charset=utf-8", f"{path} Content-Type")
        check(re.fullmatch(r'"[0-9a-f]{20}"', resp.header("etag") or ""),
              f"{path}: a strong ETag of 20 hex digits", resp.header("etag"))
        check_eq(resp.header("cache-control"), "no-cache", f"{path} Cache-Control")
        check_eq(resp.header("x-content-type-options"), "nosniff", f"{path} nosniff")
        csp = resp.header("content-security-policy") or ""
        check("default-src 'self'" in csp and "frame-ancestors 'none'" in csp,
              f"{path}: a CSP allowing this origin only", csp)
        html = resp.body.decode("utf-8")
        check(f"<title>{title}</title>" in html, f"{path}: the page titled {title!r}",
              describe(resp.body, 200))
        check("http://" not in html and "https://" not in html,
              f"{path}: no external resource (CDN, fonts)", describe(resp.body, 200))


@suite.case("every asset the pages load is served, and every SDK module they import")
def assets(server):
    seen = set()
    todo = []
    for path in ("/", "/dashboard"):
        todo += page_assets(http_get(server.port, path, f"GET {path}").body.decode("utf-8"))
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        resp = http_get(server.port, path, f"GET {path}")
        expect(resp, 200, f"GET {path}")
        ctype = resp.header("content-type") or ""
        if path.endswith(".js"):
            check_eq(ctype, "text/javascript; charset=utf-8", f"{path} Content-Type")
            base = path.rsplit("/", 1)[0]
            for spec in imports(resp.body.decode("utf-8")):
                todo.append(spec if spec.startswith("/") else f"{base}/{spec.removeprefix('./')}")
        elif path.endswith(".css"):
            check_eq(ctype, "text/css; charset=utf-8", f"{path} Content-Type")
        elif path.endswith(".svg"):
            check_eq(ctype, "image/svg+xml", f"{path} Content-Type")
        check(resp.header("content-security-policy") is None,
              f"{path}: no CSP on a non-HTML asset", resp.header("content-security-policy"))
    check("/sdk/herald.js" in seen and "/sdk/client.js" in seen,
          "the chat page loads the SDK through /sdk/herald.js and its modules", sorted(seen))


@suite.case("/sdk/: the SDK modules byte for byte as in clients/js/src (index.js as herald.js)")
def sdk_bytes(server):
    for name in sorted(os.listdir(SDK_DIR)):
        if not name.endswith(".js"):
            continue
        url = "/sdk/herald.js" if name == "index.js" else f"/sdk/{name}"
        resp = http_get(server.port, url, f"GET {url}")
        expect(resp, 200, f"GET {url}")
        with open(os.path.join(SDK_DIR, name), "rb") as f:
            want = f.read()
        check(resp.body == want, f"{url}: the {len(want)} bytes of clients/js/src/{name}",
              f"{len(resp.body)} bytes: {describe(resp.body)}")


@suite.case("If-None-Match: 304 without a body for the ETag, W/ and *; 200 for another tag")
def etags(server):
    first = http_get(server.port, "/assets/chat.js", "GET /assets/chat.js")
    tag = first.header("etag")
    for inm in (tag, f'"nope", W/{tag}', "*"):
        resp = request(server.port, "GET", "/assets/chat.js", [f"If-None-Match: {inm}"],
                       f"If-None-Match: {inm}")
        expect(resp, 304, f"If-None-Match: {inm}")
        check_eq(resp.header("etag"), tag, "the 304's ETag")
        check_eq(resp.header("content-length"), None, "no Content-Length on the 304")
        check_eq(resp.body, b"", "no body")
    resp = request(server.port, "GET", "/assets/chat.js", ['If-None-Match: "0000"'],
                   "If-None-Match: another tag")
    expect(resp, 200, "If-None-Match: another tag")
    check(resp.body == first.body, "the whole file again", describe(resp.body))
    other = http_get(server.port, "/assets/style.css", "GET /assets/style.css")
    check(other.header("etag") != tag, "different files, different ETags", other.header("etag"))


@suite.case("HEAD: the GET's head with its Content-Length and no body; keep-alive goes on")
def head(server):
    raw = RawSocket(server.port, 5)
    try:
        for path in ("/", "/assets/style.css", "/health", "/metrics"):
            get = http_get(server.port, path, f"GET {path}")
            step(f"HEAD {path} then GET /health on the same connection")
            raw.send(f"HEAD {path} HTTP/1.1\r\nHost: x\r\n\r\n"
                     "GET /health HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            deadline = time.monotonic() + 5
            resp = read_response(raw, deadline, head_only=True)
            expect(resp, 200, f"HEAD {path}")
            if path != "/metrics":  # the metrics text changes between two requests
                check_eq(resp.header("content-length"), str(len(get.body)),
                         f"HEAD {path}: the GET's Content-Length")
            after = read_response(raw, deadline)
            expect(after, 200, f"GET /health after HEAD {path} (no body was sent in between)")
            check_eq(json_body(after, "the /health body"), {"status": "ok"}, "/health body")
    finally:
        raw.close()


@suite.case("POST / -> 405 Allow: GET, HEAD; unknown assets and escapes -> 404")
def not_found(server):
    resp = request(server.port, "POST", "/")
    expect(resp, 405, "POST /")
    check_eq(resp.header("allow"), "GET, HEAD", "Allow")
    for path in ("/index.html", "/assets/", "/assets/nope.js", "/sdk/", "/sdk/index.js",
                 "/assets/../CMakeLists.txt", "/assets/..%2f..%2fCMakeLists.txt",
                 "/sdk/%2e%2e/%2e%2e/etc/passwd", "//etc/passwd", "/dashboard/", "/Dashboard",
                 "/assets/chat.js/"):
        resp = http_get(server.port, path, f"GET {path}")
        expect(resp, 404, f"GET {path}")
        check_eq(json_body(resp, f"{path} body"), {"error": "not found", "status": 404},
                 f"{path} body")


@suite.case("a WebSocket upgrade on / joins the classic /chat room (both ways)")
async def upgrade_on_root(server):
    on_root = await ws_connect(server, "/", what="WebSocket to ws://127.0.0.1:PORT (no path)")
    on_chat = await ws_connect(server, "/chat", what="WebSocket to /chat")
    try:
        # The room needs both subscribed before a message can reach the other: retry until then.
        got = None
        for i in range(50):
            await within(on_root.send(f"hello from / #{i}"), 5, "send on /")
            try:
                got = await asyncio.wait_for(on_chat.recv(), 0.2)
                break
            except asyncio.TimeoutError:
                continue
        check(got is not None and got.startswith("hello from / #"),
              "the /chat client receives what the / client sent", got)
        await within(on_chat.send("hello from /chat"), 5, "send on /chat")
        while True:
            msg = await ws_recv(on_root, "the / client receives what /chat sent")
            if msg == "hello from /chat":
                break
    finally:
        await within(on_root.close(), 6, "close /")
        await within(on_chat.close(), 6, "close /chat")


def stats(server, what):
    resp = http_get(server.port, "/stats.json", what)
    expect(resp, 200, what)
    check_eq(resp.header("content-type"), "application/json", "/stats.json Content-Type")
    check_eq(resp.header("cache-control"), "no-store", "/stats.json Cache-Control")
    return json_body(resp, what)


@suite.case("/stats.json: totals and two loops; connections and messages move",
            args=("--threads", "2"))
async def stats_json(server):
    before = stats(server, "GET /stats.json")
    check_eq(len(before["loops"]), 2, "loops (--threads 2)")
    keys = {"connections", "websocket", "sse", "poll", "tcp", "clients", "channels", "messages_in",
            "messages_out", "publications", "topic_publications", "http_requests", "api_requests",
            "lag_us", "stalled"}
    check_eq(set(before["total"]), keys, "the total's fields")
    check_eq(before["total"]["stalled"], 0, "no loop stalled")
    for loop in before["loops"]:
        check_eq(set(loop), keys, "each loop's fields")
    # heap_bytes comes from mallinfo2(), which reads 0 under AddressSanitizer's allocator.
    check(before["uptime_ms"] >= 0 and before["time"] > 1.7e12 and
          isinstance(before["heap_bytes"], int), "uptime_ms, time (Unix ms) and heap_bytes",
          before)
    clients = [await ws_connect(server, "/chat", what=f"/chat client {i}") for i in range(3)]
    try:
        for i in range(10):
            await within(clients[0].send(f"m{i}"), 5, f"send m{i}")
        for c in clients[1:]:
            for i in range(10):
                await ws_recv(c, f"m{i} delivered")
        after = stats(server, "GET /stats.json with three /chat clients")
        check(after["total"]["websocket"] == before["total"]["websocket"] + 3,
              "three more WebSockets", after["total"])
        check_eq(after["total"]["websocket"], sum(l["websocket"] for l in after["loops"]),
                 "the total is the sum of the loops")
        check(after["total"]["messages_in"] >= before["total"]["messages_in"] + 10,
              "10 more messages in", after["total"])
        check(after["total"]["messages_out"] >= before["total"]["messages_out"] + 20,
              "20 more messages out", after["total"])
        check(after["uptime_ms"] >= before["uptime_ms"], "uptime does not go back", after)
    finally:
        for c in clients:
            await within(c.close(), 6, "close a /chat client")
    resp = request(server.port, "POST", "/stats.json")
    expect(resp, 405, "POST /stats.json")


@suite.case("/stats.json counts Herald channels once however many loops have subscribers",
            args=("--threads", "2"))
async def stats_channels(server):
    conns = []
    try:
        for i in range(6):  # spread over both loops by the kernel
            ws = await ws_connect(server, "/connection/websocket", what=f"protocol client {i}")
            conns.append(ws)
            await within(ws.send('{"id":1,"method":"connect"}'), 5, "connect")
            await ws_recv(ws, "connect reply")
            await within(ws.send('{"id":2,"method":"subscribe","params":{"channel":"s:one"}}\n'
                                 f'{{"id":3,"method":"subscribe","params":{{"channel":"s:{i}"}}}}'),
                         5, "subscribe")
            replies = 0
            while replies < 2:
                replies += (await ws_recv(ws, "subscribe replies")).count('"id":')
        got = stats(server, "GET /stats.json with 6 clients in 7 channels")
        check_eq(got["total"]["channels"], 7, "channels (s:one, s:0..s:5)")
        check_eq(got["total"]["clients"], 6, "protocol clients")
        check_eq(sum(l["clients"] for l in got["loops"]), 6, "clients over the loops")
    finally:
        for ws in conns:
            await within(ws.close(), 6, "close a protocol client")


@suite.case("--no-web-pages: / and /dashboard are 404, /stats.json stays, no upgrade on /",
            args=("--no-web-pages",))
def no_web_pages(server):
    for path in ("/", "/dashboard", "/sdk/herald.js", "/assets/style.css"):
        expect(http_get(server.port, path, f"GET {path}"), 404, f"GET {path} with --no-web-pages")
    stats(server, "GET /stats.json with --no-web-pages")
    up = http_exchange(server.port, (
        "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: MDEyMzQ1Njc4OWFiY2RlZg==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode(), "upgrade on /")
    expect(up, 404, "upgrade on / with --no-web-pages")


if __name__ == "__main__":
    suite.main()
