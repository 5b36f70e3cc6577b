#!/usr/bin/python3
"""The Origin allow-list of the browser transports (and the WebSocket subprotocol) (--allow-origin / allowed_origins): a page
of another site is refused with 403 before any WebSocket upgrade, SSE stream or long-poll
session; allowed pages (exact, wildcard subdomain, any port), the server's own pages and
non-browser clients (no Origin) get through; the HTTP transports answer CORS (preflight,
Access-Control-Allow-Origin, the Herald-Session header exposed) for allowed origins only; the
refusals are counted. The server API is not a browser transport and is not subject to it.

Usage: /usr/bin/python3 test_origin.py --herald build/<dir>/apps/herald/herald [-k SUBSTRING]
"""

import asyncio
import os
import re
import sys
import urllib.request

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from herald_checks import check, step  # noqa: E402
from herald_harness import Suite  # noqa: E402
from herald_links import http_request  # noqa: E402

suite = Suite("Origin allow-list and CORS")
ARGS = ("--memory", "--allow-origin", "https://app.example.com",
        "--allow-origin", "https://*.example.org", "--allow-origin", "http://localhost:*")
ALLOWED = ["https://app.example.com", "https://x.example.org", "http://localhost:5173"]
REFUSED = ["https://evil.example", "https://example.org", "http://app.example.com", "null"]
CONNECT = b'{"id":1,"method":"connect"}'


def metric(server, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=10) as r:
        m = re.search(rf"^{name} (\d+)$", r.read().decode(), re.M)
    return int(m.group(1)) if m else None


async def ws_status(server, path, origin):
    """101 when the upgrade went through, else the HTTP status the server answered."""
    headers = {"Origin": origin} if origin else {}
    try:
        ws = await asyncio.wait_for(websockets.connect(
            f"ws://127.0.0.1:{server.port}{path}", origin=origin or None,
            extra_headers=headers if not origin else None), 5)
    except websockets.InvalidStatusCode as e:
        return e.status_code
    await ws.close()
    return 101


@suite.case("WebSocket upgrades: allowed origins and no Origin pass, others get 403", args=ARGS)
async def websocket_upgrades(server):
    for path in ["/connection/websocket", "/chat"]:
        for origin in ALLOWED + [None, f"http://127.0.0.1:{server.port}"]:
            step(f"{path} from {origin}")
            check(await ws_status(server, path, origin) == 101, f"upgraded for {origin}", "")
        for origin in REFUSED:
            step(f"{path} from {origin}")
            status = await ws_status(server, path, origin)
            check(status == 403, f"403 for {origin}", status)
    check(metric(server, "herald_origin_refusals_total") == 2 * len(REFUSED),
          "every refusal counted", metric(server, "herald_origin_refusals_total"))


@suite.case("SSE and long-polling: 403 for other sites; CORS headers and preflight for allowed",
            args=ARGS)
async def http_transports(server):
    for origin in REFUSED:
        for method, target, body in [("GET", "/connection/sse?channel=a", b""),
                                     ("POST", "/connection/poll", CONNECT),
                                     ("OPTIONS", "/connection/poll", b"")]:
            step(f"{method} {target} from {origin}")
            status, hdrs, _ = await http_request(server.port, method, target, body,
                                                 {"Origin": origin})
            check(status == 403, "403", status)
            check("access-control-allow-origin" not in hdrs, "no CORS header", hdrs)
    for origin in ALLOWED:
        step(f"preflight from {origin}")
        status, hdrs, _ = await http_request(
            server.port, "OPTIONS", "/connection/poll", b"",
            {"Origin": origin, "Access-Control-Request-Method": "POST"})
        check(status == 204 and hdrs.get("access-control-allow-origin") == origin,
              "204 with the origin allowed", (status, hdrs))
        check("POST" in hdrs.get("access-control-allow-methods", ""), "POST allowed", hdrs)
        step(f"a poll session from {origin}")
        status, hdrs, body = await http_request(server.port, "POST", "/connection/poll", CONNECT,
                                                {"Origin": origin})
        check(status == 200 and hdrs.get("access-control-allow-origin") == origin,
              "200 with CORS", (status, hdrs))
        check(hdrs.get("access-control-allow-credentials") == "true" and
              "Herald-Session" in hdrs.get("access-control-expose-headers", ""),
              "credentials allowed and the session header exposed", hdrs)
        sid = hdrs["herald-session"]
        status, hdrs, _ = await http_request(
            server.port, "GET", f"/connection/poll?session={sid}&cursor=0",
            headers={"Origin": origin})
        check(status == 200 and hdrs.get("access-control-allow-origin") == origin,
              "the poll answer has CORS too", (status, hdrs))


@suite.case("Sec-WebSocket-Protocol: herald.v1 is selected on the protocol path, none on /chat",
            args=ARGS)
async def subprotocol(server):
    url = f"ws://127.0.0.1:{server.port}"
    async with websockets.connect(url + "/connection/websocket",
                                  subprotocols=["herald.v2", "herald.v1"]) as ws:
        check(ws.subprotocol == "herald.v1", "herald.v1 selected", ws.subprotocol)
    async with websockets.connect(url + "/connection/websocket") as ws:
        check(ws.subprotocol is None, "none offered, none answered", ws.subprotocol)
    step("/chat speaks no subprotocol: none is answered (a browser that insisted would fail)")
    async with websockets.connect(url + "/chat", subprotocols=["herald.v1"]) as ws:
        check(ws.subprotocol is None, "no subprotocol on /chat", ws.subprotocol)


@suite.case("the server API is not a browser transport: no Origin check there", args=ARGS)
async def api_unaffected(server):
    status, _, body = await http_request(server.port, "POST", "/api/info", b"{}",
                                         {"Origin": "https://evil.example"})
    check(status == 200, "200 from the API (it has its own key check)", (status, body))


@suite.case("a bad pattern stops the start with one line", args=("--memory",))
async def bad_pattern(server):
    import subprocess
    p = subprocess.run([server.argv[0], "serve", "--listen", "127.0.0.1:0", "--memory",
                        "--allow-origin", "https://a*.example.com"],
                       capture_output=True, text=True, timeout=10)
    check(p.returncode == 2 and "allowed_origins" in p.stderr and p.stderr.count("\n") == 1,
          "exit 2 with one line naming allowed_origins", (p.returncode, p.stderr))


if __name__ == "__main__":
    suite.main()
