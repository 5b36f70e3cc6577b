#!/usr/bin/python3
"""Namespaces from the configuration file, and the server API's questions about the whole server:
each namespace option (history size, no history, presence off, join/leave off, client publish
off, max subscribers) changes what clients and the API get, as docs/PROTOCOL.md says; a namespace
that is not configured gets 118; `channels`, `info` and `batch` answer over every event loop.

Usage: /usr/bin/python3 test_namespaces.py --herald build/<dir>/apps/herald/herald [-k SUBSTRING]
"""

import asyncio
import atexit
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from herald_checks import check, step  # noqa: E402
from herald_harness import Herald, Suite  # noqa: E402
from herald_raw import http_exchange  # noqa: E402
from test_api import json_of, post  # noqa: E402
from test_protocol import Client  # noqa: E402

suite = Suite("namespaces and server-wide API methods")

CONFIG = """\
default_namespace:
  history_size: 100
namespaces:
  chat:
    max_subscribers: 3
    join_leave: true
  short:
    history_size: 5
  quiet:
    presence: false
    join_leave: false
  news:
    client_publish: false
  typing:
    history_size: 0
  volatile:
    durable: false
  brief:
    history_ttl: 1
"""

_config_dir = tempfile.mkdtemp(prefix="herald-ns-test-")
atexit.register(shutil.rmtree, _config_dir, True)
CONFIG_PATH = os.path.join(_config_dir, "herald.yaml")
with open(CONFIG_PATH, "w") as f:
    f.write(CONFIG)

# Two event loops, so that the API's answers gather from more than one.
ARGS = ("--config", CONFIG_PATH, "--threads", "2")


def metric(port, name):
    """The value of one metric line (name with its labels, as printed) in /metrics."""
    resp = http_exchange(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", "GET /metrics")
    for line in resp.body.decode().splitlines():
        if line.startswith(name + " "):
            return int(line.split()[-1])
    check(False, f"/metrics has {name}", resp.body[-500:])


async def error_of(client, method, params):
    r = await client.call(method, params)
    check("error" in r, f"{method} {params} fails", r)
    return r["error"]["code"]


@suite.case("a namespace that is not configured gets 118 from clients and the API", args=ARGS)
async def unknown_namespace(server):
    c = await Client.open(server)
    for method, params in [("subscribe", {"channel": "nope:1"}),
                           ("publish", {"channel": "nope:1", "data": 1}),
                           ("history", {"channel": "nope:1"}),
                           ("presence", {"channel": "nope:1"}),
                           ("presence_stats", {"channel": "nope:1"})]:
        code = await error_of(c, method, params)
        check(code == 118, f"{method}: 118 unknown_namespace", code)
    pong = await c.call("ping")
    check(pong.get("result") == {}, "the connection keeps working", pong)
    r = await c.call("subscribe", {"channel": "plain"})
    check("result" in r, "a channel without ':' is in the default namespace", r)
    resp = post(server.port, "publish", {"channel": "nope:1", "data": 1})
    check(resp.status == 400, "API publish: 400", resp.status)
    check(json_of(resp, "publish")["error"]["code"] == 118, "API: code 118", resp.body)
    bc = json_of(post(server.port, "broadcast", {"channels": ["plain", "nope:2"], "data": 1}),
                 "broadcast")["result"]["results"]
    check("offset" in bc[0] and bc[1]["error"]["code"] == 118,
          "broadcast: the known channel published, the unknown one 118", bc)
    n = metric(server.port, 'herald_protocol_errors_total{code="118",name="unknown_namespace"}')
    check(n >= 5, "/metrics counts the client's five 118 errors", n)
    check(metric(server.port, "herald_api_errors_total") >= 1, "and the API's error", "")
    check(metric(server.port, "herald_protocol_clients") >= 1, "a connected client", "")
    await c.close()


@suite.case("history size per namespace; history 0 means no history and no recovery", args=ARGS)
async def history_per_namespace(server):
    for i in range(8):
        post(server.port, "publish", {"channel": "short:a", "data": i})
    h = json_of(post(server.port, "history", {"channel": "short:a"}), "history")["result"]
    check([p["offset"] for p in h["publications"]] == [4, 5, 6, 7, 8], "short keeps 5", h)
    c = await Client.open(server)
    code = await error_of(c, "history", {"channel": "typing:a"})
    check(code == 119, "history in a namespace without history: 119", code)
    resp = post(server.port, "history", {"channel": "typing:a"})
    check(resp.status == 400 and json_of(resp, "h")["error"]["code"] == 119, "API: 119",
          resp.body)
    r = await c.call("subscribe", {"channel": "typing:a", "recover": True,
                                   "since": {"offset": 0, "epoch": "x"}})
    check(r["result"]["recoverable"] is False, "subscribe says not recoverable", r)
    check(r["result"].get("recovered") is not True, "and nothing recovered", r)
    post(server.port, "publish", {"channel": "typing:a", "data": "live"})
    await c.wait_offsets("typing:a", 1)
    await c.close()


@suite.case("presence off: presence answers 119 and no join/leave is pushed", args=ARGS)
async def presence_off(server):
    a = await Client.open(server, "a")
    b = await Client.open(server, "b")
    await a.subscribe("quiet:room")
    await b.subscribe("quiet:room")
    for method in ("presence", "presence_stats"):
        code = await error_of(a, method, {"channel": "quiet:room"})
        check(code == 119, f"{method}: 119 not_available", code)
        resp = post(server.port, method, {"channel": "quiet:room"})
        check(json_of(resp, method)["error"]["code"] == 119, f"API {method}: 119", resp.body)
    await b.close()
    # A ping round trip after b left: any leave push would have come before its reply.
    await a.call("ping")
    joins = [p for p in a.pushes if p.get("push") in ("join", "leave")]
    check(joins == [], "no join/leave pushes in a namespace without them", joins)
    await a.close()


@suite.case("join/leave pushes where the namespace turns them on", args=ARGS)
async def join_leave_on(server):
    a = await Client.open(server, "a")
    await a.subscribe("chat:jl")
    b = await Client.open(server, "b", data={"name": "Bo"})
    await b.subscribe("chat:jl")
    await b.close()
    step("a waits for b's join and leave")
    for _ in range(50):
        kinds = [p["push"] for p in a.pushes if p.get("channel") == "chat:jl"]
        if kinds.count("leave") >= 1:
            break
        await a.pump()
    check(kinds == ["join", "leave"], "a join then a leave", a.pushes)
    step("the default namespace has them off")
    await a.subscribe("plain-jl")
    c = await Client.open(server, "c")
    await c.subscribe("plain-jl")
    await c.close()
    await a.call("ping")  # a leave, if any, would come before this reply
    pushes = [p for p in a.pushes if p.get("channel") == "plain-jl"]
    check(pushes == [], "no join/leave in the default namespace", pushes)
    await a.close()


@suite.case("client publish off: 111 for clients, the API still publishes", args=ARGS)
async def client_publish_off(server):
    c = await Client.open(server)
    await c.subscribe("news:today")
    code = await error_of(c, "publish", {"channel": "news:today", "data": 1})
    check(code == 111, "111 permission_denied", code)
    resp = post(server.port, "publish", {"channel": "news:today", "data": "from backend"})
    check(resp.status == 200, "the API publishes", resp.body)
    await c.wait_offsets("news:today", 1)
    await c.close()


@suite.case("max subscribers holds over two loops, and frees a place on leave", args=ARGS)
async def max_subscribers(server):
    clients = [await Client.open(server, f"c{i}") for i in range(5)]
    ids = await asyncio.gather(*[c.send_many([("subscribe", {"channel": "chat:full"})])
                                 for c in clients])
    replies = await asyncio.gather(*[c.reply(i[0]) for c, i in zip(clients, ids)])
    ok = [r for r in replies if "result" in r]
    full = [r for r in replies if "error" in r]
    check(len(ok) == 3, "exactly 3 of 5 concurrent subscribes succeed", replies)
    check(all(r["error"]["code"] == 110 for r in full), "the others get 110", full)
    stats = json_of(post(server.port, "presence_stats", {"channel": "chat:full"}), "s")["result"]
    check(stats["num_clients"] == 3, "3 present", stats)
    winner = clients[[i for i, r in enumerate(replies) if "result" in r][0]]
    loser = clients[[i for i, r in enumerate(replies) if "error" in r][0]]
    await winner.close()
    for _ in range(100):
        r = await loser.call("subscribe", {"channel": "chat:full"})
        if "result" in r:
            break
        await asyncio.sleep(0.02)  # the leave reaches the channel's owner loop asynchronously
    check("result" in r, "a place is free again after one left", r)
    for c in clients:
        if c is not winner:
            await c.close()


@suite.case("API channels and info count over every loop; batch runs in order", args=ARGS)
async def channels_info_batch(server):
    clients = [await Client.open(server, f"c{i}") for i in range(6)]
    for i, c in enumerate(clients):
        await c.subscribe("chat:lobby" if i < 2 else f"room{i}")
    step("channels with a pattern, then all")
    ch = json_of(post(server.port, "channels", {"pattern": "chat:*"}), "channels")["result"]
    check(ch == {"channels": {"chat:lobby": {"num_clients": 2}}}, "chat:lobby with 2", ch)
    every = json_of(post(server.port, "channels", {}), "channels")["result"]["channels"]
    check(set(every) >= {"chat:lobby", "room2", "room3", "room4", "room5"}, "all listed", every)
    info = json_of(post(server.port, "info", {}), "info")["result"]
    check(info["num_clients"] >= 6 and info["num_channels"] >= 5 and info["protocol"] == 1,
          "info counts clients and channels of both loops", info)
    check(info["version"] and info["uptime"] >= 0, "version and uptime", info)
    step("a batch: publish, a bad command, history that sees the publish")
    resp = post(server.port, "batch", {"commands": [
        {"method": "publish", "params": {"channel": "short:batch", "data": "a"}},
        {"method": "publish", "params": {"channel": "short:batch"}},
        {"method": "fly", "params": {}},
        {"method": "history", "params": {"channel": "short:batch"}},
    ]})
    check(resp.status == 200, "200 for a batch with bad commands in it", resp.body)
    replies = json_of(resp, "batch")["replies"]
    check(len(replies) == 4, "one reply per command", replies)
    check(replies[0].get("result", {}).get("offset") == 1, "publish", replies[0])
    check(replies[1]["error"]["code"] == 102, "missing data: 102", replies[1])
    check(replies[2]["error"]["code"] == 101, "unknown method: 101", replies[2])
    check([p["data"] for p in replies[3]["result"]["publications"]] == ["a"],
          "history after the publish sees it", replies[3])
    bad = post(server.port, "batch", {"commands": {"method": "info"}})
    check(bad.status == 400 and json_of(bad, "b")["error"]["code"] == 103, "not an array: 400",
          bad.body)
    step("a batch of 1000 publishes answers in order")
    resp = post(server.port, "batch", {"commands": [
        {"method": "publish", "params": {"channel": "batchmany", "data": i}} for i in range(1000)
    ]})
    offsets = [r["result"]["offset"] for r in json_of(resp, "batch")["replies"]]
    check(offsets == list(range(1, 1001)), "offsets 1..1000 in order", offsets[:5])
    for c in clients:
        await c.close()


@suite.case("history TTL per namespace: a publication leaves history after its TTL", args=ARGS)
async def ttl_per_namespace(server):
    post(server.port, "publish", {"channel": "brief:x", "data": 1})
    post(server.port, "publish", {"channel": "short:x", "data": 1})
    first = json_of(post(server.port, "history", {"channel": "brief:x"}), "h")["result"]
    check(len(first["publications"]) == 1, "in history at first", first)
    step("polling history of brief:x until the 1 s TTL has removed it (at most 6 s)")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 6
    while loop.time() < deadline:
        h = json_of(post(server.port, "history", {"channel": "brief:x"}), "h")["result"]
        if not h["publications"]:
            break
        await asyncio.sleep(0.1)
    check(h["publications"] == [] and h["offset"] == 1, "gone from history, offset kept", h)
    other = json_of(post(server.port, "history", {"channel": "short:x"}), "h")["result"]
    check(len(other["publications"]) == 1, "a namespace without TTL keeps it", other)


@suite.case("durable: false keeps a namespace's history in memory; a restart loses only it",
            args=ARGS, own_server=True, timeout=60)
async def durability_per_namespace(server):
    kept = post(server.port, "publish", {"channel": "plain", "data": "kept"})
    lost = post(server.port, "publish", {"channel": "volatile:x", "data": "lost"})
    kept_epoch = json_of(kept, "p")["result"]["epoch"]
    lost_epoch = json_of(lost, "p")["result"]["epoch"]
    step("SIGTERM and start again on the same data directory")
    check(server.stop() == 0, "exit status 0 after SIGTERM", "another status")
    again = Herald(server.argv[0], list(ARGS) + ["--data-dir", server.data_dir]).start()
    try:
        h = json_of(post(again.port, "history", {"channel": "plain"}), "h")["result"]
        check(h["epoch"] == kept_epoch and [p["data"] for p in h["publications"]] == ["kept"],
              "the durable namespace kept its history and epoch", h)
        v = json_of(post(again.port, "history", {"channel": "volatile:x"}), "h")["result"]
        check(v["publications"] == [] and v["offset"] == 0 and v["epoch"] != lost_epoch,
              "the volatile one starts over, not in the old epoch (clients then reload)", v)
    finally:
        again.stop()


if __name__ == "__main__":
    suite.main()
