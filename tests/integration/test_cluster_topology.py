#!/usr/bin/python3
"""Three Herald nodes on a Redis Cluster whose topology changes while messages flow (issue 13):
a three-master cluster created by the test on loopback (`redis-cli --cluster create`), then a
fourth master added with `redis-cli --cluster add-node` and 100 slots moved to it with
`redis-cli --cluster reshard`, among them the slot of a channel with live sharded subscribers
on every node:

- the publisher (the server API of the nodes in turn, idempotency keys, retried on another node
  when a publish fails) never stops, and every subscriber gets every offset exactly once, in
  order;
- the nodes find the new master by themselves (a MOVED naming it), and resubscribe the channel
  there when Redis drops their sharded subscription (`sunsubscribe`), catching up from history
  what was published meanwhile: no client is told to resubscribe (no 2000);
- afterwards the channel's fan-out is a shard channel of the new master only, and a node
  started now (which reads the new map at start) follows it too;

and, on three masters with a replica each, the master of a live channel SIGKILLed (once its
replica has every write): the nodes find the promoted replica by asking for the slot map while
the master is down, subscribe there again, and every subscriber recovers every offset exactly
once while the publisher goes on through every node.

Every redis-server and node is stopped by its pid.

Usage: /usr/bin/python3 test_cluster_topology.py --herald build/<dir>/apps/herald/herald [-k SUBSTRING]
"""

import asyncio
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import herald_cluster  # noqa: E402
import herald_redis  # noqa: E402
from herald_checks import Failure, check, step  # noqa: E402
from herald_cluster import (Follower, Publisher, api, expect_exact, followers_on,  # noqa: E402
                            start_nodes)
from herald_harness import _kill_all_servers, run_cases  # noqa: E402

MOVED_SLOTS = 100


def crc16(data):
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def slot_of(channel):
    """The slot of a channel's keys (their hash tag is the channel name)."""
    return crc16(channel.encode()) % 16384


def first_slots(redis):
    """{port: lowest slot} of each master, from CLUSTER NODES of the first one."""
    out = {}
    for line in redis[0].command("CLUSTER", "NODES").splitlines():
        fields = line.split()
        if len(fields) < 9 or "master" not in fields[2]:
            continue
        port = int(fields[1].split("@")[0].rsplit(":", 1)[1])
        out[port] = min(int(r.split("-")[0]) for r in fields[8:] if r[0].isdigit())
    return out


def cli(*args, timeout=120):
    step("redis-cli " + " ".join(args))
    r = subprocess.run(["redis-cli", *args], capture_output=True, timeout=timeout, check=False)
    out = (r.stdout + r.stderr).decode(errors="replace")
    if r.returncode != 0:
        raise Failure(f"redis-cli {args[0]} {args[1]}", "exit 0", out[-800:])
    return out


async def pump_while(followers, task):
    while not task.done():
        await asyncio.gather(*(f.pump(0.05) for f in followers))
    return task.result()


async def wait_cluster_ok(servers, timeout=30):
    step("every master says cluster_state:ok and knows every other")
    deadline = time.monotonic() + timeout
    while True:
        infos = [s.command("CLUSTER", "INFO") for s in servers]
        known = [s.command("CLUSTER", "NODES").count("master") for s in servers]
        if all("cluster_state:ok" in i for i in infos) and all(k == len(servers) for k in known):
            return
        if time.monotonic() > deadline:
            raise Failure("the cluster is ok", "ok on every master", known)
        await asyncio.sleep(0.1)


async def every_offset_once(pub, followers, total, across):
    """Offsets 1..total were given once each, and every follower has each of them once, in
    order, with the data published under it."""
    check(sorted(pub.acked.values()) == list(range(1, total + 1)),
          f"offsets 1..{total} given once each across {across}", sorted(pub.acked.values()))
    step("every subscriber has every offset")
    deadline = time.monotonic() + 30
    while not all(f.offsets and f.offsets[-1] >= total for f in followers):
        check(time.monotonic() < deadline, "all offsets within 30 s",
              [(f.name, f.offsets[-1:]) for f in followers])
        await asyncio.gather(*(f.pump(0.05) for f in followers))
    await asyncio.gather(*(f.pump(0.2) for f in followers))  # nothing more may come
    by_offset = {o: i for i, o in pub.acked.items()}
    for f in followers:
        expect_exact(f, 1, total)
        check([d["i"] for d in f.data] == [by_offset[o] for o in f.offsets],
              f"{f.name}: the data of each offset, in publish order", f.data[:3])


async def new_master_and_moved_slot(binary, redis):
    starts = first_slots(redis)
    # A channel in the first slots of the second master: the ones `reshard` moves first.
    src_port = sorted(starts, key=lambda p: starts[p])[1]
    low = starts[src_port]
    channel = next(c for c in (f"feed:t{n}" for n in range(100000))
                   if low <= slot_of(c) < low + MOVED_SLOTS // 2)
    slot = slot_of(channel)
    src = next(r for r in redis if r.port == src_port)
    check(int(src.command("CLUSTER", "KEYSLOT", channel)) == slot,
          f"{channel} hashes to slot {slot} (as Redis computes it)", src.command(
              "CLUSTER", "KEYSLOT", channel))
    nodes = start_nodes(binary, [r.url for r in redis], prefix="topo")
    followers = await followers_on(nodes, channel)
    pub = Publisher(nodes, channel)

    async def change_topology():
        while pub.next < 50:
            await asyncio.sleep(0.02)
        new = herald_redis.RedisServer(cluster=True).start()
        redis.append(new)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, cli, "--cluster", "add-node", f"127.0.0.1:{new.port}",
                                   f"127.0.0.1:{redis[0].port}")
        await wait_cluster_ok(redis)
        new_id = new.command("CLUSTER", "MYID")
        src_id = src.command("CLUSTER", "MYID")
        await loop.run_in_executor(None, cli, "--cluster", "reshard", f"127.0.0.1:{src.port}",
                                   "--cluster-from", src_id, "--cluster-to", new_id,
                                   "--cluster-slots", str(MOVED_SLOTS), "--cluster-yes")
        await wait_cluster_ok(redis)
        return new

    async def publish_throughout():
        """From before the change until 100 publications after it (at most 3000)."""
        after = 0
        while after < 100:
            await pub.publish_one()
            await asyncio.sleep(0.01)
            after += 1 if change.done() else 0
            check(pub.next < 3000 or change.done(), "the topology changed within 3000 "
                  "publications", pub.next)
        return pub.next

    change = asyncio.ensure_future(change_topology())
    task = asyncio.ensure_future(publish_throughout())
    total = await pump_while(followers, task)
    new = change.result()
    await every_offset_once(pub, followers, total, "the move")
    for f in followers:
        check(f.recovered == [] and f.reconnects == 0,
              f"{f.name}: the move was invisible (no 2000, no reconnect)",
              (f.recovered, f.reconnects))
    step(f"slot {slot} is on the new master, with the channel's keys and its subscribers")
    check(new.command("CLUSTER", "COUNTKEYSINSLOT", str(slot)) != "0",
          "the channel's keys moved to the new master",
          new.command("CLUSTER", "COUNTKEYSINSLOT", str(slot)))
    fanout = f"topo:{{{channel}}}:f"
    deadline = time.monotonic() + 10
    while fanout not in new.command("PUBSUB", "SHARDCHANNELS", "topo:*").split():
        check(time.monotonic() < deadline, "the nodes SSUBSCRIBEd on the new master",
              new.command("PUBSUB", "SHARDCHANNELS", "topo:*"))
        await asyncio.sleep(0.05)
    subs = new.command("PUBSUB", "SHARDNUMSUB", fanout).split()
    check(subs[-1] == str(len(nodes)), "one sharded subscription per node on the new master",
          subs)
    check(fanout not in src.command("PUBSUB", "SHARDCHANNELS", "topo:*").split(),
          "none left on the old master", src.command("PUBSUB", "SHARDCHANNELS", "topo:*"))
    logs = "".join(n.stderr_text() for n in nodes)
    check(f"master 127.0.0.1:{new.port} was not known to this node" in logs,
          "the nodes found the new master by themselves (a MOVED naming it)", logs[-1500:])
    check(f"the slot of {channel} moved to another master" in logs,
          "the nodes saw their sharded subscription dropped (sunsubscribe)", logs[-1500:])

    step("a node started after the change reads the new map and follows the channel")
    late = start_nodes(binary, [redis[0].url], count=1, prefix="topo")[0]
    f = await Follower([late], 0, channel, "late").open()
    status, body = await api(nodes[0], "publish", {"channel": channel, "data": {"i": total}})
    check(status == 200 and body["result"]["offset"] == total + 1, "one more publish", body)
    await f.until(lambda f: f.offsets[-1:] == [total + 1], "the late node's subscriber gets it")
    for x in followers + [f]:
        await x.close()


def masters_by_slot(redis):
    """{slot range start: port} and the set of master ports, from CLUSTER NODES."""
    owners = {}
    for line in next(r for r in redis if r.alive()).command("CLUSTER", "NODES").splitlines():
        fields = line.split()
        if len(fields) < 9 or "master" not in fields[2] or "fail" in fields[2]:
            continue
        port = int(fields[1].split("@")[0].rsplit(":", 1)[1])
        for r in fields[8:]:
            if r[0].isdigit():
                first, _, last = r.partition("-")
                owners[(int(first), int(last or first))] = port
    return owners


def master_of(redis, slot):
    for (first, last), port in masters_by_slot(redis).items():
        if first <= slot <= last:
            return next(r for r in redis if r.port == port)
    raise Failure(f"a master for slot {slot}", "one", masters_by_slot(redis))


async def master_killed_replica_promoted(binary, redis):
    channel = "feed:failover"
    slot = slot_of(channel)
    old = master_of(redis, slot)
    nodes = start_nodes(binary, [r.url for r in redis], prefix="failover")
    followers = await followers_on(nodes, channel)
    pub = Publisher(nodes, channel)
    for _ in range(50):
        await pub.publish_one()
        await asyncio.gather(*(f.pump(0.005) for f in followers))
    # Replication is asynchronous: what the master acknowledged reaches its replica a moment
    # later. The kill comes once the replica has it all, so that no acknowledged publication is
    # lost with the master (a loss Redis allows; docs/SCALING.md).
    step(f"wait until the replica of port {old.port} has every write, then SIGKILL the master")
    deadline = time.monotonic() + 10
    while True:
        info = old.command("INFO", "replication")
        fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
        top = fields.get("master_repl_offset", "")
        if "slave0" in fields and f"offset={top}," in fields["slave0"]:
            break
        check(time.monotonic() < deadline, "the replica catches up within 10 s", info)
        await asyncio.sleep(0.01)
    killed_at = time.monotonic()
    old.proc.kill()
    old.proc.wait()

    async def publish_until(count):
        while pub.next < count:
            await pub.publish_one(deadline_s=60)
        return pub.next

    task = asyncio.ensure_future(publish_until(150))
    total = await pump_while(followers, task)
    took = time.monotonic() - killed_at
    new = master_of([r for r in redis if r is not old], slot)
    check(new is not old, f"slot {slot} has a new master (port {new.port})", new.port)
    step(f"{took:.1f} s from the kill to the last publish")
    await every_offset_once(pub, followers, total, "the failover")
    for f in followers:
        check(f.recovered and all(f.recovered), f"{f.name}: resubscribed and recovered",
              f.recovered)
    logs = "".join(n.stderr_text() for n in nodes)
    check("served by another master now (a failover)" in logs,
          "the nodes took the new slot map by themselves", logs[-1500:])
    fanout = f"failover:{{{channel}}}:f"
    subs = new.command("PUBSUB", "SHARDNUMSUB", fanout).split()
    check(subs[-1] == str(len(nodes)), "one sharded subscription per node on the new master",
          subs)
    for x in followers:
        await x.close()


CASES = [
    ("Redis Cluster: a master added and a live channel's slot moved to it while publishing",
     new_master_and_moved_slot, 0),
    ("Redis Cluster: a master killed, its replica promoted, while publishing",
     master_killed_replica_promoted, 1),
]


def main():
    opts = herald_redis.suite_options("Herald integration tests: Redis Cluster topology")
    herald_cluster.CLUSTER = True
    cases = herald_redis.selected(CASES, opts)

    def run(case):
        replicas = case[2]
        redis = [herald_redis.RedisServer(cluster=True, node_timeout_ms=1000).start()
                 for _ in range(3 * (1 + replicas))]
        try:
            herald_redis.create_cluster(redis, replicas=replicas)
            asyncio.run(asyncio.wait_for(case[1](opts.herald, redis), 240))
        finally:
            _kill_all_servers()  # before their Redis
            for r in redis:
                r.stop()

    run_cases("cluster topology", opts.herald, cases, run)

if __name__ == "__main__":
    main()
