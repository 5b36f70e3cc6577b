#!/usr/bin/python3
"""The abuse limits (docs/herald.example.yaml), each hit and answered as documented while other
clients keep being served: connections per IP (429; raw TCP: disconnect 1013) and their rate;
connections per user (error 110, disconnect 4504); commands per second on one connection and
publishes per second per user (error 113, the command not run); server API requests per second
(429 with code 113). Each refusal is counted in herald_limit_refusals_total{limit=...}. The rates
are set so low (0.01 a second) that no refill can happen during a case: nothing here depends on
timing.

Usage: /usr/bin/python3 test_limits.py --herald build/<dir>/apps/herald/herald [-k SUBSTRING]
"""

import asyncio
import atexit
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import urllib.error
import urllib.request

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import herald_links  # noqa: E402
from herald_checks import check, step  # noqa: E402
from herald_harness import Suite  # noqa: E402
from test_protocol import Client  # noqa: E402
from test_tokens import SECRET, make_token  # noqa: E402

suite = Suite("abuse limits")
CONF_DIR = tempfile.mkdtemp(prefix="herald-limits-")
atexit.register(shutil.rmtree, CONF_DIR, True)


def config(name, text):
    path = os.path.join(CONF_DIR, name + ".yaml")
    with open(path, "w") as f:
        f.write(text)
    return ("--config", path, "--memory")


def refusals(server, limit, source="127.0.0.1"):
    """The refusals counted for limit, scraped from the source address given (so that a case
    limiting 127.0.0.1's new connections can still read its metrics)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10,
                                  source_address=(source, 0)) as s:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    m = re.search(rf'^herald_limit_refusals_total{{limit="{limit}"}} (\d+)$', data.decode(),
                  re.M)
    return int(m.group(1)) if m else None


async def ws_status(server, source="127.0.0.1"):
    try:
        ws = await asyncio.wait_for(
            websockets.connect(f"ws://127.0.0.1:{server.port}/connection/websocket",
                               local_addr=(source, 0)), 5)
    except websockets.InvalidStatusCode as e:
        return e.status_code, None
    return 101, ws


@suite.case("connections per IP: the one over the limit gets 429 (TCP: 1013); a close frees a place",
            args=config("per_ip", "max_connections_per_ip: 3\n") + ("--tcp-listen", "127.0.0.1:0"))
async def per_ip(server):
    open_ = []
    for i in range(3):
        status, ws = await ws_status(server)
        check(status == 101, f"connection {i + 1} of 3 accepted", status)
        open_.append(ws)
    status, _ = await ws_status(server)
    check(status == 429, "the 4th gets 429", status)
    step("a raw TCP client over the limit gets disconnect 1013")
    reader, writer = await asyncio.open_connection("127.0.0.1", server.tcp_port)
    line = json.loads(await asyncio.wait_for(reader.readline(), 5))
    check(line.get("push") == "disconnect" and line.get("code") == 1013, "1013", line)
    writer.close()
    r = await open_[0].send('{"id":1,"method":"connect"}') or json.loads(
        await asyncio.wait_for(open_[0].recv(), 5))
    check("result" in r, "the accepted clients keep working", r)
    await open_[0].close()
    for _ in range(100):
        status, ws = await ws_status(server)
        if status == 101:
            break
        await asyncio.sleep(0.05)  # the server sees the close a moment after the client
    check(status == 101, "a place freed by a close is taken again", status)
    await ws.close()
    for w in open_[1:]:
        await w.close()
    check(refusals(server, "connections_per_ip") >= 2, "refusals counted",
          refusals(server, "connections_per_ip"))


@suite.case("new connections per IP and second: past the burst they get 429",
            args=config("rate_ip", "connection_rate_per_ip: 0.01\n"))
async def rate_ip(server):
    # 0.01 a second: a burst of 1, and no token comes back within the case. The clients come
    # from 127.0.0.2, so that the metrics scrape from 127.0.0.1 has its own allowance.
    status, ws = await ws_status(server, "127.0.0.2")
    check(status == 101, "the first connection", status)
    await ws.close()
    status, _ = await ws_status(server, "127.0.0.2")
    check(status == 429, "the next one is too soon: 429", status)
    check(refusals(server, "connection_rate_per_ip", "127.0.0.3") == 1, "counted", "")


@suite.case("connections per user: the third of u1 gets 110 and disconnect 4504; u2 still connects",
            args=config("per_user", "max_connections_per_user: 2\n") + ("--token-secret", SECRET))
async def per_user(server):
    tok1, tok2 = make_token({"sub": "u1"}), make_token({"sub": "u2"})
    ones = []
    for i in range(2):
        c = Client(await herald_links.connect(server, f"u1 #{i + 1}"))
        r = await c.call("connect", {"token": tok1})
        check("result" in r, f"u1's connection {i + 1} of 2", r)
        ones.append(c)
    third = Client(await herald_links.connect(server, "u1 #3"))
    r = await third.call("connect", {"token": tok1})
    check(r.get("error", {}).get("code") == 110, "error 110", r)
    check(any(p.get("push") == "disconnect" and p.get("code") == 4504 for p in third.pushes),
          "disconnect 4504", third.pushes)
    other = Client(await herald_links.connect(server, "u2"))
    r = await other.call("connect", {"token": tok2})
    check("result" in r, "another user is not affected", r)
    step("u1 closes one connection; a new one of u1 is accepted")
    await ones[0].close()
    for _ in range(100):
        again = Client(await herald_links.connect(server, "u1 again"))
        r = await again.call("connect", {"token": tok1})
        if "result" in r:
            break
        await asyncio.sleep(0.05)
    check("result" in r, "accepted once a place is free", r)
    check(refusals(server, "connections_per_user") >= 1, "counted",
          refusals(server, "connections_per_user"))
    for c in ones[1:] + [other, again]:
        await c.close()


@suite.case("commands per second on a connection: past the burst each gets 113 and is not run",
            args=config("commands", "command_rate: 1\n"))
async def command_rate(server):
    c = Client(await herald_links.connect(server, "client"))
    # One frame: connect, publish, publish, ping. Rate 1 a second, burst 2, one loop turn (one
    # clock reading): the connect and the first publish pass, the rest get 113.
    ids = await c.send_many([("connect", None),
                             ("publish", {"channel": "cr", "data": 1}),
                             ("publish", {"channel": "cr", "data": 2}),
                             ("ping", None)])
    replies = [await c.reply(i) for i in ids]
    check("result" in replies[0] and "result" in replies[1], "the first two run", replies[:2])
    check(all(r.get("error", {}).get("code") == 113 and r["error"]["temporary"]
              for r in replies[2:]), "the rest: 113, temporary", replies[2:])
    other = await Client.open(server, "another connection")  # its own bucket
    h = await other.call("history", {"channel": "cr"})
    check([p["data"] for p in h["result"]["publications"]] == [1], "only the first publish ran", h)
    check(refusals(server, "command_rate") == 2, "2 counted", refusals(server, "command_rate"))
    await c.close()
    await other.close()


@suite.case("publishes per second per user: the second of u1 gets 113 on any of u1's connections",
            args=config("publish", "publish_rate_per_user: 0.01\n") + ("--token-secret", SECRET))
async def publish_rate(server):
    tok = make_token({"sub": "u1"})
    a = Client(await herald_links.connect(server, "u1 a"))
    b = Client(await herald_links.connect(server, "u1 b"))
    for c in (a, b):
        check("result" in await c.call("connect", {"token": tok}), "connected", "")
    r = await a.call("publish", {"channel": "pr", "data": 1})
    check("result" in r, "the first publish", r)
    r = await b.call("publish", {"channel": "pr", "data": 2})
    check(r.get("error", {}).get("code") == 113, "113 on the user's other connection", r)
    anon = await Client.open(server, "anonymous")
    r = await anon.call("publish", {"channel": "pr", "data": 3})
    check("result" in r, "another client has its own rate", r)
    for c in (a, b, anon):
        await c.close()


@suite.case("server API requests per second: past the burst, 429 with code 113",
            args=config("api", "api_rate: 0.01\n"))
async def api_rate(server):
    def post():
        req = urllib.request.Request(f"http://127.0.0.1:{server.port}/api/info", data=b"{}")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())
    status, body = post()
    check(status == 200, "the first request", (status, body))
    status, body = post()
    check(status == 429 and body["error"]["code"] == 113, "429 with code 113", (status, body))
    c = await Client.open(server, "a client")
    check((await c.call("ping")).get("result") == {}, "clients are not affected", "")
    check(refusals(server, "api_rate") == 1, "counted", refusals(server, "api_rate"))
    await c.close()


if __name__ == "__main__":
    suite.main()
