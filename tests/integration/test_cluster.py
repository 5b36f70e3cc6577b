#!/usr/bin/python3
"""Three Herald nodes on Redis (issue 13), against a real redis-server started by this test on a
free loopback port and stopped by its pid:

- a publish through the server API of any node reaches the subscribers of every node, every
  offset once and in the same order everywhere;
- one node SIGKILLed while messages flow: its clients reconnect to the other nodes and recover,
  with no publication lost and none twice (the publisher retries a failed publish on another
  node with the same idempotency key);
- Redis paused (SIGSTOP) for 5 s while messages flow, then SIGCONT: publishes fail fast with
  the temporary error while it is away, clients stay connected, /ready says not ready, and the
  cluster recovers by itself with every stream exact;
- Redis killed and started again without persistence: every subscriber is told 2000 and gets
  `recovered: false` with a new epoch, never a silent gap; publishing works again by itself;
- the presence of a killed node's clients expires within the lease (+ a third of it) and their
  leaves are pushed to the subscribers on the surviving nodes;
- `disconnect` of a user through one node closes the user's connections on all three;
- SSE and long-poll sessions whose requests go to every node in turn (no sticky sessions);
- `info` (num_nodes 3) and `channels` count every node; max_connections_per_user holds over
  every node;
- `herald sub` given every node's URL: its node SIGKILLed, it resumes on the next one from the
  offset it printed up to, nothing missed or printed twice.

With --redis sharded, the same cases run over three independent redis-servers that share the
channels (consistent hashing), plus a check that the channels are spread over them.

Usage: /usr/bin/python3 test_cluster.py --herald build/<dir>/apps/herald/herald
       [--redis single|sharded] [-k SUBSTRING]
"""

import asyncio
import os
import re
import signal
import sys
import time

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import herald_cluster  # noqa: E402
import herald_links  # noqa: E402
import herald_redis  # noqa: E402
from herald_checks import Failure, check, step  # noqa: E402
from herald_cluster import (LEASE_S, Follower, Publisher, api, expect_exact,  # noqa: E402
                            followers_on, get, start_nodes, wait_until)
from herald_harness import _kill_all_servers, run_cases  # noqa: E402
from test_cli_sub import Sub, offsets_of  # noqa: E402
from test_protocol import Client  # noqa: E402


async def pump_all(followers, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        await asyncio.gather(*(f.pump(0.05) for f in followers))


async def follow_until(followers, publisher_task, last_offset):
    """Pumps every follower until the publisher is done and each has last_offset()."""
    async def one(f):
        while not (publisher_task.done() and f.offsets and f.offsets[-1] >= last_offset()):
            await f.pump(0.2)
            if publisher_task.done() and publisher_task.exception():
                return
    await asyncio.wait_for(asyncio.gather(*(one(f) for f in followers)), 120)
    publisher_task.result()


async def any_node_one_order(binary, redis_urls):
    nodes = start_nodes(binary, redis_urls, prefix="order")
    subs = await followers_on(nodes, "feed:one")
    pub = Publisher(nodes, "feed:one")
    task = asyncio.ensure_future(pub.run(300))
    await follow_until(subs, task, lambda: 300)
    check(sorted(pub.acked.values()) == list(range(1, 301)), "offsets 1..300 given once each",
          len(pub.acked))
    by_offset = {o: i for i, o in pub.acked.items()}
    for f in subs:
        expect_exact(f, 1, 300)
        check([d["i"] for d in f.data] == [by_offset[o] for o in f.offsets],
              f"{f.name}: the data of each offset, the same order on every node", f.data[:5])
        await f.close()
    for i, n in enumerate(nodes):
        step(f"SIGTERM node {i}")
        check(n.stop() == 0, f"node {i} drains and exits 0 on SIGTERM", n.stderr_tail())


async def node_killed_under_load(binary, redis_urls):
    nodes = start_nodes(binary, redis_urls, prefix="kill")
    subs = await followers_on(nodes, "feed:k", per_node=3)
    pub = Publisher(nodes, "feed:k")
    total = 600

    async def publish_and_kill():
        await pub.run(total // 3, pace=0.002)
        step(f"SIGKILL node 0 (pid {nodes[0].proc.pid}) while messages flow")
        nodes[0].send_signal(signal.SIGKILL)
        nodes[0].wait_exit(10)
        await pub.run(total - total // 3, pace=0.002)

    task = asyncio.ensure_future(publish_and_kill())
    await follow_until(subs, task, lambda: total)
    check(sorted(pub.acked.values()) == list(range(1, total + 1)),
          "every message published once (retried with its key on another node)", pub.failures)
    for f in subs:
        expect_exact(f, 1, total)
        check(f.reconnects == (1 if f.name.startswith("sub0.") else 0),
              f"{f.name}: reconnected only if its node was killed", f.reconnects)
    moved = [f for f in subs if f.reconnects]
    check(len(moved) == 3 and all(r is True for f in moved for r in f.recovered),
          "the 3 clients of the killed node reconnected elsewhere and recovered exactly",
          [(f.name, f.recovered) for f in moved])
    for f in subs:
        await f.close()


async def sub_cli_moves_to_another_node(binary, redis_urls):
    nodes = start_nodes(binary, redis_urls, prefix="subcli")
    pub = Publisher(nodes, "feed:cli")
    await pub.run(20)
    # Sub puts the first node's URL last: it starts on nodes[1], then nodes[2], then nodes[0].
    sub = Sub(binary, nodes[0].port, "feed:cli", "--since=0",
              *[f"--server=http://127.0.0.1:{n.port}" for n in nodes[1:]])
    try:
        check(offsets_of(sub.lines(20)) == list(range(1, 21)), "the 20 from history", "")
        step(f"SIGKILL node 1 (pid {nodes[1].proc.pid}), the one herald sub is on")
        nodes[1].send_signal(signal.SIGKILL)
        nodes[1].wait_exit(10)
        await pub.run(20)
        lines = sub.lines(40, timeout=30)
        check(offsets_of(lines) == list(range(1, 41)),
              "herald sub printed every offset once, in order, across the move", offsets_of(lines))
        check([x["data"]["i"] for x in lines] == list(range(40)), "the data of each offset",
              lines[-3:])
        deadline = time.monotonic() + 5  # stderr is read by a thread of its own
        while ("resumed after" not in sub.stderr()) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        err = sub.stderr()
        check(f"reconnecting to ws://127.0.0.1:{nodes[2].port}/connection/websocket" in err and
              "herald sub: reconnected; resumed after offset" in err,
              "it resumed on the next --server", err[-800:])
    finally:
        sub.kill()


async def not_ready(node):
    status, _ = await get(node, "/ready")
    return status == 503


async def redis_paused(binary, redis_urls, redis):
    nodes = start_nodes(binary, redis_urls, prefix="pause")
    subs = await followers_on(nodes, "feed:p")
    pub = Publisher(nodes, "feed:p")
    await pub.run(20)
    await asyncio.gather(*(f.until(lambda f: len(f.offsets) >= 20, "20 offsets") for f in subs))
    for r in redis:
        r.pause()
    try:
        step("publishes fail fast while Redis is paused")
        t0 = time.monotonic()
        fails = 0
        while time.monotonic() - t0 < 5:
            t1 = time.monotonic()
            status, body = await api(nodes[fails % 3], "publish",
                                     {"channel": "feed:p", "data": "paused"})
            check(status == 503 and body["error"]["code"] == 501 and body["error"]["temporary"],
                  "HTTP 503 with the temporary error 501 while Redis is paused", (status, body))
            check(time.monotonic() - t1 < 2.5, "no publish waits past the command timeout",
                  time.monotonic() - t1)
            fails += 1
            await pump_all(subs, 0.05)
        await wait_until("GET /ready says 503 on every node", lambda: _all(nodes, not_ready), 5)
        for f in subs:
            pong = await f.call("ping")
            check(pong.get("result") == {}, f"{f.name} stays connected while Redis is paused",
                  pong)
    finally:
        for r in redis:
            r.resume()
    step("the cluster recovers by itself after SIGCONT")
    task = asyncio.ensure_future(pub.run(100, pace=0.002))
    await follow_until(subs, task, lambda: max(pub.acked.values()))
    top = max(pub.acked.values())
    for f in subs:
        # A publish that timed out may still have run once Redis woke up (its outcome was
        # unknown): the stream holds it too. What matters: one order, no gap, no duplicate.
        expect_exact(f, 1, top)
        check(all(r is True for r in f.recovered), f"{f.name}: every resubscribe recovered",
              f.recovered)
    for n in nodes:
        check((await get(n, "/ready"))[0] == 200, "GET /ready 200 again", n.port)
    for f in subs:
        await f.close()


async def _all(nodes, pred):
    for n in nodes:
        if not await pred(n):
            return False
    return True


async def redis_restarted(binary, redis_urls, redis):
    nodes = start_nodes(binary, redis_urls, prefix="restart")
    subs = await followers_on(nodes, "feed:r")
    pub = Publisher(nodes, "feed:r")
    await pub.run(30)
    await asyncio.gather(*(f.until(lambda f: len(f.offsets) >= 30, "30 offsets") for f in subs))
    old_epoch = subs[0].position[1]
    for r in redis:
        r.restart()
    step("every subscriber is told 2000 and resubscribes: recovered false, a new epoch")
    await asyncio.gather(*(f.until(lambda f: f.recovered, "resubscribed") for f in subs))
    for f in subs:
        check(f.recovered[0] is False and f.position[1] != old_epoch,
              f"{f.name}: recovered false with a new epoch, never a silent gap",
              (f.recovered, f.position))
        f.offsets, f.data = [], []
    step("publishing works again by itself, in the new epoch, on every node")
    pub2 = Publisher(nodes, "feed:r", name="after")
    task = asyncio.ensure_future(pub2.run(50))
    await follow_until(subs, task, lambda: max(pub2.acked.values()))
    first = min(pub2.acked.values())
    for f in subs:
        expect_exact(f, first, max(pub2.acked.values()))
        await f.close()


async def killed_node_presence(binary, redis_urls):
    nodes = start_nodes(binary, redis_urls, prefix="presence")
    watchers = [await Follower(nodes, i, "room:lobby", f"watcher{i}", user=f"w{i}").open()
                for i in (1, 2)]
    doomed = [await Follower(nodes, 0, "room:lobby", f"doomed{k}", user=f"d{k}").open()
              for k in range(3)]
    ids = {f.client_id for f in doomed}

    def joined(w):
        return ids <= {p["info"]["client"] for p in w.pushes if p.get("push") == "join"}
    for w in watchers:
        await w.until(joined, "sees the joins of node 0's clients")
    status, body = await api(nodes[1], "presence", {"channel": "room:lobby"})
    check(status == 200 and ids <= set(body["result"]["clients"]), "5 members", body)
    step(f"SIGKILL node 0 (pid {nodes[0].proc.pid})")
    nodes[0].send_signal(signal.SIGKILL)
    nodes[0].wait_exit(10)
    killed_at = time.monotonic()

    def left(w):
        return ids <= {p["info"]["client"] for p in w.pushes if p.get("push") == "leave"}
    limit = LEASE_S * 4 / 3 + 1.5  # lease, a sweep period, and slack for a loaded machine
    for w in watchers:
        await w.until(left, "gets a leave push for each of node 0's clients", timeout=limit + 5)
    took = time.monotonic() - killed_at
    check(took <= limit, f"the leaves came within {limit:.1f}s", f"{took:.2f}s")
    status, body = await api(nodes[2], "presence", {"channel": "room:lobby"})
    check(status == 200 and set(body["result"]["clients"]) ==
          {w.client_id for w in watchers}, "only the survivors' clients are present", body)
    for w in watchers:
        check(not any(p.get("push") == "leave" and p["info"]["client"] not in ids
                      for p in w.pushes), "no leave for a live client", w.pushes)
        await w.close()


async def disconnect_everywhere(binary, redis_urls):
    nodes = start_nodes(binary, redis_urls, prefix="disc")
    alice = [await Follower(nodes, i, "feed:d", f"alice{i}", user="alice").open() for i in range(3)]
    bob = [await Follower(nodes, i, "feed:d", f"bob{i}", user="bob").open() for i in range(3)]
    status, body = await api(nodes[1], "disconnect", {"user": "alice"})
    check(status == 200, "disconnect through node 1", body)
    for f in alice:
        step(f"{f.name} (node {nodes.index(f.node)}) gets disconnect 4503 and is closed")
        deadline = time.monotonic() + 10
        closed = False
        while not closed:
            check(time.monotonic() < deadline, f"{f.name} closed within 10 s", f.pushes)
            try:
                await f.pump(0.5, reconnect=False)
            except Exception:  # noqa: BLE001 - the close is what we wait for
                closed = True
        check(4503 in f.closed_codes, f"{f.name}: a disconnect push 4503", f.pushes)
    for f in bob:
        pong = await f.call("ping")
        check(pong.get("result") == {}, f"{f.name} (another user) stays connected", pong)
        await f.close()


class _Spread:
    """Every request after the first goes to the next node in turn: the session lives on the
    node of the first request, and the others relay to it."""

    def _next_port(self):
        p = self.ports[self.turn % len(self.ports)]
        self.turn += 1
        return p

    port = property(lambda self: self._next_port(), lambda self, v: None)


class SpreadPoll(_Spread, herald_links.PollLink):
    def __init__(self, ports):
        self.ports, self.turn = ports, 0
        herald_links.PollLink.__init__(self, ports[0])


class SpreadSse(_Spread, herald_links.SseLink):
    def __init__(self, ports):
        self.ports, self.turn = ports, 0
        herald_links.SseLink.__init__(self, ports[0])


async def sessions_need_no_sticky(binary, redis_urls):
    nodes = start_nodes(binary, redis_urls, prefix="sticky")
    ports = [n.port for n in nodes]
    for name, link in (("long-poll", SpreadPoll(ports)), ("sse", SpreadSse(ports))):
        step(f"a {name} session on node 0 whose requests go to every node in turn")
        c = Client(link)
        r = await c.call("connect")
        check("result" in r, f"{name}: connect", r)
        channel = f"feed:{name}"
        await c.subscribe(channel)
        for i in range(20):
            status, body = await api(nodes[i % 3], "publish", {"channel": channel, "data": i})
            check(status == 200, "publish", body)
        await c.wait_offsets(channel, 20)
        check(c.offsets[channel] == list(range(1, 21)), f"{name}: 1..20 once each, in order",
              c.offsets[channel])
        for i in range(6):
            r = await c.call("publish", {"channel": channel, "data": {"own": i}})
            check(r.get("result", {}).get("offset") == 21 + i,
                  f"{name}: a publish POSTed through node {(i + 1) % 3} is answered", r)
        r = await c.call("presence", {"channel": channel})
        check(len(r.get("result", {}).get("clients", {})) == 1, f"{name}: presence", r)
        await c.close()
    relayed = 0
    for n in nodes:
        status, body = await get(n, "/metrics")
        m = re.search(rb"^herald_session_relays_total (\d+)$", body, re.M)
        relayed += int(m.group(1)) if m else 0
    check(relayed >= 20, "the requests that reached other nodes were relayed (the metric)",
          relayed)


async def info_and_channels_everywhere(binary, redis_urls):
    nodes = start_nodes(binary, redis_urls, prefix="info")
    subs = [await Follower(nodes, i, f"feed:n{i}", f"sub{i}", user=f"user{i}").open()
            for i in range(3)]
    subs.append(await Follower(nodes, 2, "feed:n0", "sub2b", user="user0").open())

    async def three_nodes():
        for n in nodes:
            status, body = await api(n, "info", {})
            if status != 200 or body["result"]["num_nodes"] != 3:
                return False
        return body
    body = await wait_until("info: num_nodes 3 on every node (every node announced itself)",
                            three_nodes, 10)
    res = body["result"]
    check(res["num_clients"] == 4 and res["num_users"] == 3 and res["num_channels"] == 3,
          "info counts the clients, users and channels of every node", res)
    status, body = await api(nodes[1], "channels", {"pattern": "feed:*"})
    check(status == 200 and body["result"]["channels"] ==
          {"feed:n0": {"num_clients": 2}, "feed:n1": {"num_clients": 1},
           "feed:n2": {"num_clients": 1}}, "channels sums every node's subscribers", body)
    for f in subs:
        await f.close()


async def user_limit_everywhere(binary, redis_urls):
    nodes = start_nodes(binary, redis_urls, prefix="ulimit",
                        config_extra="max_connections_per_user: 2\n")
    a0 = await Follower(nodes, 0, "feed:u", "alice0", user="alice").open()
    a1 = await Follower(nodes, 1, "feed:u", "alice1", user="alice").open()
    third = Follower(nodes, 2, "feed:u", "alice2", user="alice")
    step("a third connection of alice, on node 2, is closed with 4504")
    try:
        await third.open()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            await third.pump(0.5, reconnect=False)
        raise Failure("the third connection is closed", "4504", "still open")
    except (herald_links.LinkClosed, websockets.ConnectionClosed):
        pass
    check(third.link.ws.close_code == 4504, "closed with 4504 (connection limit)",
          (third.link.ws.close_code, third.pushes))
    step("one of alice's connections goes: a new one on node 2 stays")
    await a0.close()

    async def admitted():
        f = Follower(nodes, 2, "feed:u", "alice3", user="alice")
        try:
            await f.open()
            for _ in range(6):
                await f.pump(0.25, reconnect=False)
        except (herald_links.LinkClosed, websockets.ConnectionClosed):
            return False
        await f.close()
        return True
    await wait_until("a new connection of alice is admitted", admitted, 15)
    await a1.close()


async def shards_share_channels(binary, redis_urls, redis):
    nodes = start_nodes(binary, redis_urls, prefix="spread")
    names = [f"feed:s{i}" for i in range(60)]
    for i, name in enumerate(names):
        status, body = await api(nodes[i % 3], "publish", {"channel": name, "data": i})
        check(status == 200 and body["result"]["offset"] == 1, f"publish to {name}", body)
    step("every channel's keys live on one instance, and every instance holds some channels")
    where = {}
    for k, r in enumerate(redis):
        for key in r.command("--scan", "--pattern", "spread:{feed:*}:*").split():
            channel = key[len("spread:{"):key.rindex("}")]
            where.setdefault(channel, set()).add(k)
    check(set(where) == set(names) and all(len(v) == 1 for v in where.values()),
          "each channel on exactly one instance", where)
    per_instance = [sum(1 for v in where.values() if k in v) for k in range(len(redis))]
    # Each instance's share of the ring is 0.25-0.4 (64 points each; the ports are random): with
    # 60 channels one holding fewer than 6 happens about once in 1,000 runs (30 channels and 3
    # failed once in ~150).
    check(all(n >= 6 for n in per_instance), "consistent hashing spreads 60 channels", per_instance)
    for i, name in enumerate(names):
        status, body = await api(nodes[(i + 1) % 3], "history", {"channel": name})
        check(status == 200 and [p["data"] for p in body["result"]["publications"]] == [i],
              f"{name}: its history through another node", body)


CASES = [
    ("a publish through any node reaches every node's subscribers, in one order",
     any_node_one_order, False),
    ("a node SIGKILLed under load: its clients recover elsewhere, nothing lost or doubled",
     node_killed_under_load, False),
    ("Redis paused 5 s under load: fail fast, not ready, then everything exact by itself",
     redis_paused, True),
    ("Redis killed and restarted without persistence: recovered false, new epoch, resumes",
     redis_restarted, True),
    ("a killed node's presence expires within the lease and leaves reach the survivors",
     killed_node_presence, False),
    ("disconnect of a user through one node closes its connections on all three",
     disconnect_everywhere, False),
    ("SSE and long-poll sessions: requests to any node reach the node holding the session",
     sessions_need_no_sticky, False),
    ("info and channels count every node (num_nodes 3)", info_and_channels_everywhere, False),
    ("max_connections_per_user holds over every node", user_limit_everywhere, False),
    ("herald sub with every node's URL: its node SIGKILLed, it resumes exactly on the next",
     sub_cli_moves_to_another_node, False),
]


async def sharded_pubsub_in_cluster(binary, redis_urls, redis):
    nodes = start_nodes(binary, redis_urls, prefix="spub", extra=("--redis-cluster",))
    subs = [await Follower(nodes, i, f"feed:c{i}", f"sub{i}").open() for i in range(3)]
    step("each node SSUBSCRIBEs its channels' fan-out on the master of their slot")
    found = {}
    for k, r in enumerate(redis):
        for ch in r.command("PUBSUB", "SHARDCHANNELS", "spub:*").split():
            found[ch] = k
    check(set(found) == {f"spub:{{feed:c{i}}}:f" for i in range(3)},
          "the fan-out channels are sharded channels (PUBSUB SHARDCHANNELS)", found)
    check(not any(r.command("PUBSUB", "CHANNELS", "spub:{*").split() for r in redis),
          "and not global ones", [r.command("PUBSUB", "CHANNELS", "spub:*") for r in redis])
    for i in range(3):
        status, body = await api(nodes[(i + 1) % 3], "publish", {"channel": f"feed:c{i}",
                                                                 "data": i})
        check(status == 200, "publish", body)
    for f in subs:
        await f.until(lambda f: f.offsets == [1], "its publication, through SPUBLISH")
        await f.close()


SHARDED_CASES = [
    ("three Redis shards: each channel on one instance, all instances used",
     shards_share_channels, True),
]


async def moved_slot_is_followed(binary, redis_urls, redis):
    nodes = start_nodes(binary, redis_urls, prefix="moved", extra=("--redis-cluster",))
    channel = "feed:mv"
    for i in range(3):
        status, body = await api(nodes[i], "publish", {"channel": channel, "data": i})
        check(status == 200 and body["result"]["offset"] == i + 1, "publish before", body)
    slot = redis[0].command("CLUSTER", "KEYSLOT", channel)
    src = next(r for r in redis if r.command("CLUSTER", "COUNTKEYSINSLOT", slot) != "0")
    dst = next(r for r in redis if r is not src)
    src_id, dst_id = src.command("CLUSTER", "MYID"), dst.command("CLUSTER", "MYID")
    step(f"move slot {slot} ({channel}) from port {src.port} to port {dst.port}, keys included")
    dst.command("CLUSTER", "SETSLOT", slot, "IMPORTING", src_id)
    src.command("CLUSTER", "SETSLOT", slot, "MIGRATING", dst_id)
    keys = src.command("CLUSTER", "GETKEYSINSLOT", slot, "100").split()
    check(len(keys) >= 2, "the channel's keys are in the slot", keys)
    out = src.command("MIGRATE", "127.0.0.1", str(dst.port), "", "0", "5000", "KEYS", *keys)
    check(out == "OK", "MIGRATE", out)
    for r in redis:
        r.command("CLUSTER", "SETSLOT", slot, "NODE", dst_id)
    herald_redis.wait_cluster_ok(redis)
    for i in range(3, 9):
        status, body = await api(nodes[i % 3], "publish", {"channel": channel, "data": i})
        check(status == 200 and body["result"]["offset"] == i + 1,
              f"publish {i} after the move: the MOVED answer is followed, offsets go on", body)
    status, body = await api(nodes[1], "history", {"channel": channel})
    check(status == 200 and [p["data"] for p in body["result"]["publications"]] == list(range(9)),
          "the history moved with the slot", body)


CLUSTER_CASES = [
    ("Redis Cluster: a slot moved to another master is followed (MOVED)",
     moved_slot_is_followed, True),
    ("Redis Cluster: the fan-out is sharded pub/sub (SSUBSCRIBE, SPUBLISH)",
     sharded_pubsub_in_cluster, True),
]


def main():
    opts = herald_redis.suite_options(
        "Herald integration tests: three nodes on Redis",
        lambda ap: ap.add_argument("--redis", choices=("single", "sharded", "cluster"),
                                   default="single",
                                   help="one redis-server, three independent ones sharing the "
                                   "channels, or a Redis Cluster of three masters"))
    cases = herald_redis.selected(
        CASES + (SHARDED_CASES if opts.redis != "single" else []) +
        (CLUSTER_CASES if opts.redis == "cluster" else []), opts)

    def run(case):
        _, fn, wants_redis = case
        redis = [herald_redis.RedisServer(cluster=opts.redis == "cluster").start()
                 for _ in range(1 if opts.redis == "single" else 3)]
        try:
            urls = [r.url for r in redis]
            if opts.redis == "cluster":
                herald_redis.create_cluster(redis)
                herald_cluster.CLUSTER = True
            args = (opts.herald, urls, redis) if wants_redis else (opts.herald, urls)
            asyncio.run(asyncio.wait_for(fn(*args), 150))
        finally:
            _kill_all_servers()  # before their Redis
            for r in redis:
                r.stop()

    run_cases(f"cluster (three nodes on {opts.redis} Redis)", opts.herald, cases, run)

if __name__ == "__main__":
    main()
