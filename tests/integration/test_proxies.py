#!/usr/bin/python3
"""The proxy configurations of deploy/ (deploy/nginx/herald.conf, deploy/haproxy/herald.cfg), run
by real nginx and HAProxy (Debian's packages) in front of two Herald nodes on one real
redis-server (`--broker redis`), everything on free loopback ports and stopped by pid.

Two nodes without Redis share nothing, so every case crosses nodes: a client reaches one node
through the proxy, and what another node publishes reaches it through Redis. Per proxy:

- the file unchanged in Debian's own main configuration passes `nginx -t` / `haproxy -c`;
- routing: /health and /ready pass, the server API and /metrics are refused (403);
- WebSocket chat: two protocol clients through the proxy land on different nodes (least
  connections) and each gets what the other publishes;
- /chat: three clients of the classic room land on one node (the sticky backend) and each message
  reaches the two others;
- SSE: a stream through the proxy; its commands, POSTed through the proxy, reach the node holding
  it (the sticky backend: otherwise 404); a publish through the other node's API arrives on it;
- long-polling: the same for a poll session;
- timeouts: every idle timeout of the file is above ping_interval + pong_timeout and poll_timeout
  of docs/herald.example.yaml (a live check would take minutes).

Usage: /usr/bin/python3 test_proxies.py --herald build/<dir>/apps/herald/herald [-k SUBSTRING]
"""

import argparse
import asyncio
import json
import os
import re
import shutil
import sys
import time
import traceback
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import websockets  # noqa: E402

import herald_links  # noqa: E402
import herald_proxies  # noqa: E402
import herald_redis  # noqa: E402
from herald_checks import Failure, check, clear_steps, current_step, recent_steps, step  # noqa: E402
from herald_harness import Herald, _kill_all_servers  # noqa: E402
from test_protocol import Client  # noqa: E402

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                       "herald.example.yaml")


class Address:
    """What herald_links.connect needs of a server: its port (here the proxy's)."""

    def __init__(self, port):
        self.port = port
        self.tcp_port = None


def http_get(port, path, timeout=5):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def api_publish(node, channel, data):
    """POST /api/publish to a node directly (loopback: no API key needed)."""
    req = urllib.request.Request(f"http://127.0.0.1:{node.port}/api/publish",
                                 data=json.dumps({"channel": channel, "data": data}).encode(),
                                 method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        body = json.loads(r.read())
    check("result" in body, f"a publish result from node {node.port}", body)


def gauge(node, name):
    status, body = http_get(node.port, "/metrics")
    check(status == 200, f"/metrics of node {node.port}", status)
    m = re.search(rf"^{name} (\d+)$", body.decode(), re.M)
    check(m is not None, f"{name} in /metrics of node {node.port}", body[:200])
    return int(m.group(1))


async def wait_gauges(nodes, name, expected, timeout=5):
    """Waits until the nodes' gauge `name` equals `expected` (a list, one value per node)."""
    step(f"{name} on the nodes becomes {expected}")
    deadline = time.monotonic() + timeout
    while True:
        got = [gauge(n, name) for n in nodes]
        if got == expected:
            return
        if time.monotonic() > deadline:
            raise Failure(current_step(), expected, got)
        await asyncio.sleep(0.05)


async def expect_message(client, channel, data, what, timeout=5):
    """Reads the client's link until a message push of `channel` with `data` arrives."""
    step(what)
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise Failure(what, f"a message push of {channel} with {data}", f"only {seen[-5:]}")
        try:
            frame = await asyncio.wait_for(client.link.recv(), left)
        except asyncio.TimeoutError:
            continue
        for line in frame.split("\n"):
            msg = json.loads(line)
            if msg.get("push") == "message" and msg.get("channel") == channel and \
                    msg.get("data") == data:
                return
            seen.append(msg)


# ---------------------------------------------------------------------------------------------
# Cases: each gets the proxy and the two nodes behind it.


async def routing(proxy, nodes):
    for path, status in (("/health", 200), ("/ready", 200), ("/api/info", 403),
                         ("/metrics", 403)):
        step(f"GET {path} through {proxy.name}")
        got, body = http_get(proxy.port, path)
        check(got == status, f"{path}: {status}", f"{got} {body[:100]!r}")


async def websocket_chat(proxy, nodes):
    before = [gauge(n, "herald_websockets_open") for n in nodes]
    at = Address(proxy.port)
    clients = [Client(await herald_links.connect(at, f"chat client {i} through {proxy.name}",
                                                 transport="websocket")) for i in (1, 2)]
    try:
        for c in clients:
            check("result" in await c.call("connect"), "a connect result", "none")
        # Least connections: the second client goes to the node without one.
        await wait_gauges(nodes, "herald_websockets_open", [b + 1 for b in before])
        for c in clients:
            await c.subscribe("chat:lobby")
        for i, (sender, receiver) in enumerate(((0, 1), (1, 0))):
            text = {"text": f"hello {i} via {proxy.name}"}
            r = await clients[sender].call("publish", {"channel": "chat:lobby", "data": text})
            check("result" in r, "a publish result", r)
            await expect_message(clients[receiver], "chat:lobby", text,
                                 f"client {receiver + 1} (other node) gets client {sender + 1}'s "
                                 "message")
    finally:
        for c in clients:
            await c.close()
    # The proxy closes the upstream connection when the client goes (and the next case starts
    # from the same counts).
    await wait_gauges(nodes, "herald_websockets_open", before)


async def classic_chat(proxy, nodes):
    before = [gauge(n, "herald_websockets_open") for n in nodes]
    step(f"three /chat clients through {proxy.name}")
    room = [await websockets.connect(f"ws://127.0.0.1:{proxy.port}/chat", ping_interval=None,
                                     open_timeout=5) for _ in range(3)]
    try:
        step("the three /chat clients are on one node (the sticky backend)")
        deadline = time.monotonic() + 5
        while True:
            delta = [gauge(n, "herald_websockets_open") - b for n, b in zip(nodes, before)]
            if sorted(delta) == [0, 3]:
                break
            if time.monotonic() > deadline:
                raise Failure(current_step(), "3 more on one node, none on the other", delta)
            await asyncio.sleep(0.05)
        for i, sender in enumerate(room):
            text = f"message {i} from /chat client {i} via {proxy.name}"
            await sender.send(text)
            for j, other in enumerate(room):
                if j != i:
                    got = await asyncio.wait_for(other.recv(), 5)
                    check(got == text, f"/chat client {j} gets client {i}'s message "
                          "(and nothing of its own before it)", got)
    finally:
        for ws in room:
            await ws.close()
    await wait_gauges(nodes, "herald_websockets_open", before)


async def session_across_nodes(proxy, nodes, transport, gauge_name, gone_at_once=True):
    """A session transport through the proxy; a publish through the node that does not hold it
    arrives (through Redis, then the proxy). gone_at_once: the session ends on its node as soon
    as the client leaves."""
    before = [gauge(n, gauge_name) for n in nodes]
    c = Client(await herald_links.connect(Address(proxy.port), f"{transport} client through "
                                          f"{proxy.name}", transport=transport))
    try:
        check("result" in await c.call("connect"), "a connect result", "none")
        # A POST to the session that reached the other node would get 404 (LinkClosed).
        await c.subscribe("news:proxied")
        step(f"find the node holding the {transport} session")
        deadline = time.monotonic() + 5
        while True:
            delta = [gauge(n, gauge_name) - b for n, b in zip(nodes, before)]
            if sorted(delta) == [0, 1]:
                break
            if time.monotonic() > deadline:
                raise Failure(current_step(), "one more session on exactly one node", delta)
            await asyncio.sleep(0.05)
        other = nodes[delta.index(0)]
        for i in range(3):
            data = {"n": i, "via": proxy.name}
            step(f"publish {i} through node {other.port}, the one not holding the session")
            api_publish(other, "news:proxied", data)
            await expect_message(c, "news:proxied", data,
                                 f"the {transport} client gets publication {i}")
    finally:
        await c.close()
    if gone_at_once:
        await wait_gauges(nodes, gauge_name, before)


async def sse(proxy, nodes):
    # HAProxy takes the client's FIN as a half-close and keeps the stream to the node until
    # writing to the client fails (Herald's keepalive comments: about 2 x ping_interval, measured
    # 6.3 s with --ping-interval 3); nginx closes it at once.
    await session_across_nodes(proxy, nodes, "sse", "herald_sse_open",
                               gone_at_once=proxy.name != "haproxy")


async def long_poll(proxy, nodes):
    await session_across_nodes(proxy, nodes, "poll", "herald_poll_sessions")


def example_seconds(key):
    with open(EXAMPLE) as f:
        m = re.search(rf"^{key}: (\d+)$", f.read(), re.M)
    check(m is not None, f"{key} in docs/herald.example.yaml", "absent")
    return int(m.group(1))


async def timeouts(proxy, nodes):
    keepalive = example_seconds("ping_interval") + example_seconds("pong_timeout")
    longest = max(keepalive, example_seconds("poll_timeout"))
    with open(proxy.config) as f:
        text = f.read()
    pattern = (r"^\s*(proxy_read_timeout|proxy_send_timeout) (\d+)s;" if proxy.name == "nginx"
               else r"^\s*timeout (client|server|tunnel) (\d+)s$")
    found = re.findall(pattern, text, re.M)
    check(len(found) >= 2 if proxy.name == "nginx" else len(found) == 3,
          f"the idle timeouts in {proxy.config}", found)
    for name, seconds in found:
        step(f"{proxy.name} {name} {seconds}s")
        check(int(seconds) > longest, f"above ping_interval + pong_timeout and poll_timeout "
              f"({longest}s)", f"{seconds}s")


async def installed_way(proxy, nodes):
    step(f"the deploy file unchanged inside Debian's own {proxy.name} configuration")
    ok, output = proxy.check_installed_way()
    check(ok, "the configuration test passes", output)


CASES = [("installed as docs/DEPLOY.md says", installed_way), ("routing", routing), ("websocket chat", websocket_chat),
         ("classic /chat", classic_chat), ("sse", sse), ("long-poll", long_poll),
         ("timeouts", timeouts)]


def main():
    ap = argparse.ArgumentParser(description="Herald integration tests: nginx and HAProxy")
    ap.add_argument("--herald", required=True)
    ap.add_argument("-k", action="append", default=[])
    opts = ap.parse_args()
    missing = herald_proxies.available()
    if not herald_redis.available():
        missing.append("redis-server")
    if missing:
        print(f"FAIL: {', '.join(missing)} not found (scripts/deps --test installs them)",
              flush=True)
        sys.exit(1)
    failures = []
    total = 0
    redis = herald_redis.RedisServer().start()
    try:
        nodes = [Herald(opts.herald, ["--redis", redis.url, "--redis-prefix", "proxies",
                                      "--threads", "2", "--poll-timeout", "5"]).start()
                 for _ in range(2)]
        for kind in (herald_proxies.Nginx, herald_proxies.Haproxy):
            cases = [c for c in CASES if not opts.k or any(k in f"{kind.name} {c[0]}"
                                                           for k in opts.k)]
            if not cases:
                continue
            clear_steps()
            proxy = kind(nodes)
            try:
                proxy.start()
            except Failure as e:
                failures.append(f"{kind.name}: start")
                print(f"  FAIL start {kind.name}\n    {e}", flush=True)
                proxy.stop()
                continue
            print(f"== {kind.name} in front of two nodes on Redis: {len(cases)} cases",
                  flush=True)
            for name, fn in cases:
                total += 1
                clear_steps()
                t0 = time.monotonic()
                try:
                    asyncio.run(asyncio.wait_for(fn(proxy, nodes), 60))
                    print(f"  ok   {kind.name}: {name}  ({time.monotonic() - t0:.2f}s)",
                          flush=True)
                except BaseException as e:  # noqa: BLE001 - report every failure the same way
                    failures.append(f"{kind.name}: {name}")
                    print(f"  FAIL {kind.name}: {name}  ({time.monotonic() - t0:.2f}s)",
                          flush=True)
                    if isinstance(e, Failure):
                        print(f"    {e}", flush=True)
                    else:
                        print(f"    in step '{current_step()}': {type(e).__name__}: {e}",
                              flush=True)
                        print("    " + "".join(traceback.format_exception(e)[-4:]), flush=True)
                    print(f"    last steps: {' -> '.join(recent_steps())}", flush=True)
                    print(f"    {kind.name} log: {proxy.log_tail()}", flush=True)
            proxy.stop()
    finally:
        _kill_all_servers()
        redis.stop()
        shutil.rmtree(redis.dir, ignore_errors=True)  # stop() keeps it (for a restart)
    if failures:
        print(f"== proxies: {len(failures)} of {total} FAILED:", flush=True)
        for f in failures:
            print(f"   - {f}", flush=True)
        sys.exit(1)
    print(f"== proxies: all {total} passed", flush=True)


if __name__ == "__main__":
    main()
