#!/usr/bin/python3
"""Several Herald nodes on one Redis (the Redis broker), against a real redis-server that this test
starts on a free loopback port and stops by its pid:

- two nodes: a publish through the server API of either node reaches the WebSocket subscribers of
  both, every offset once and in the same order everywhere;
- an idempotency key used on one node publishes once across nodes;
- Redis restarted without persistence: every subscriber is told to resubscribe (unsubscribe push
  2000) and gets recovered: false with a new epoch; nothing is skipped silently;
- Redis restarted with persistence (appendonly): 2000, then exact recovery in the same epoch;
- Redis paused (SIGSTOP) for 3 s: publishes fail fast with the temporary error 501 (HTTP 503),
  clients stay connected, and everything resumes by itself after SIGCONT, each subscriber's
  stream exact (live, or recovered after a 2000);
- the herald_redis_* metrics say what happened: connections up and down by role, commands sent,
  their round trips, pub/sub messages received, failures by reason (timeout while Redis is
  paused, not_connected after), reconnects; the exposition passes `promtool check metrics`.

Usage: /usr/bin/python3 test_redis.py --herald build/<dir>/apps/herald/herald [-k SUBSTRING]
"""

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import herald_redis  # noqa: E402
from herald_checks import Failure, check, current_step, step  # noqa: E402
from herald_harness import Herald, run_cases  # noqa: E402
from test_protocol import Client, expect_consecutive  # noqa: E402


def api(node, method, params, timeout=10):
    """POST /api/<method>; returns (HTTP status, body as JSON, seconds taken)."""
    req = urllib.request.Request(f"http://127.0.0.1:{node.port}/api/{method}",
                                 data=json.dumps(params).encode(), method="POST")
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read()), time.monotonic() - t0
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()), time.monotonic() - t0


def nodes(binary, redis, count=2, prefix="it"):
    return [Herald(binary, ["--redis", redis.url, "--redis-prefix", prefix, "--threads", "2"])
            .start() for _ in range(count)]


async def drain(client, seconds):
    """Takes whatever the server sends for `seconds` (pushes land in client.offsets/pushes)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            await client.pump(max(0.01, end - time.monotonic()))
        except asyncio.TimeoutError:
            pass


async def two_nodes_one_order(binary, redis):
    a, b = nodes(binary, redis, prefix="order")
    subs = [await Client.open(n, f"subscriber on node {i}") for i, n in enumerate((a, b, a, b))]
    for s in subs:
        await s.subscribe("chat:room")
    for i in range(200):
        node = (a, b)[i % 2]
        status, body, _ = api(node, "publish", {"channel": "chat:room", "data": {"i": i}})
        check(status == 200 and body["result"]["offset"] == i + 1,
              f"publish {i} through node {i % 2} gets offset {i + 1}", body)
    for s in subs:
        await s.wait_offsets("chat:room", 200)
        await drain(s, 0.1)
        expect_consecutive(s.offsets["chat:room"], 1, 200, "every subscriber on both nodes")
    # The data too, in the same order everywhere (not just the offsets).
    h = api(b, "history", {"channel": "chat:room", "limit": 3})[1]["result"]["publications"]
    check([p["data"]["i"] for p in h] == [0, 1, 2], "history in publish order", h)
    for s in subs:
        await s.close()


async def idempotency_across_nodes(binary, redis):
    a, b = nodes(binary, redis, prefix="idem")
    params = {"channel": "orders", "data": {"n": 1}, "idempotency_key": "order-17"}
    s1, r1, _ = api(a, "publish", params)
    s2, r2, _ = api(b, "publish", params)
    check(s1 == 200 and s2 == 200 and r1 == r2,
          "the same result through the other node (a retry elsewhere publishes once)", (r1, r2))
    h = api(a, "history", {"channel": "orders"})[1]
    check(len(h["result"]["publications"]) == 1, "one publication in history", h)


async def wait_unsubscribed(client, channel):
    step(f"{channel}: the subscriber is told to resubscribe (unsubscribe push 2000)")
    deadline = time.monotonic() + 15
    while not any(p.get("push") == "unsubscribe" and p.get("channel") == channel
                  for p in client.pushes):
        if time.monotonic() > deadline:
            raise Failure(current_step(), f"an unsubscribe push for {channel}", client.pushes)
        try:
            await client.pump(0.5)
        except asyncio.TimeoutError:
            pass
    push = [p for p in client.pushes if p.get("push") == "unsubscribe"][0]
    check(push["code"] == 2000, "code 2000: resubscribe with since", push)


async def resubscribe(client, channel, position):
    """Subscribes again from position, retrying while the node is still reconnecting (501)."""
    deadline = time.monotonic() + 15
    while True:
        r = await client.call("subscribe", {"channel": channel,
                                            "since": {"offset": position[0],
                                                      "epoch": position[1]}})
        if "result" in r or time.monotonic() > deadline:
            return r
        check(r["error"]["temporary"], "a temporary error while Redis comes back", r)
        await asyncio.sleep(0.1)


async def restart_without_persistence(binary, redis):
    a, b = nodes(binary, redis, prefix="restart")
    subs = [await Client.open(n, f"subscriber on node {i}") for i, n in enumerate((a, b))]
    for s in subs:
        await s.subscribe("news")
    for i in range(5):
        api(a, "publish", {"channel": "news", "data": i})
    for s in subs:
        await s.wait_offsets("news", 5)
    old = subs[0].positions["news"]
    redis.restart()
    for s in subs:
        await wait_unsubscribed(s, "news")
    for s in subs:
        r = await resubscribe(s, "news", old)
        res = r.get("result")
        check(res is not None and res["recovered"] is False and res["epoch"] != old[1],
              "recovered: false with a new epoch (the history was lost with Redis)", r)
        s.offsets["news"] = []
    status, body, _ = api(b, "publish", {"channel": "news", "data": "after"})
    check(status == 200 and body["result"]["offset"] == 1, "offsets start again at 1", body)
    for s in subs:
        await s.wait_offsets("news", 1)
        check(s.offsets["news"] == [1], "the new epoch's first publication, live", s.offsets)
        await s.close()


async def restart_with_persistence(binary, redis):
    a, b = nodes(binary, redis, prefix="aof")
    subs = [await Client.open(n, f"subscriber on node {i}") for i, n in enumerate((a, b))]
    for s in subs:
        await s.subscribe("news")
    for i in range(5):
        api(a, "publish", {"channel": "news", "data": i})
    for s in subs:
        await s.wait_offsets("news", 5)
    redis.restart()
    step("publish 5 more once Redis is back")
    deadline = time.monotonic() + 15
    published = 0
    while published < 5:
        status, body, _ = api(b, "publish", {"channel": "news", "data": 5 + published})
        if status == 200:
            published += 1
        else:
            check(time.monotonic() < deadline, "publishes succeed after the restart", body)
            await asyncio.sleep(0.1)
    for s in subs:
        await wait_unsubscribed(s, "news")
        r = await resubscribe(s, "news", s.positions["news"])
        res = r.get("result", {})
        check(res.get("recovered") is True and res.get("epoch") == s.positions["news"][1],
              "recovered in the same epoch: the history survived in the AOF", r)
        for p in res["publications"]:
            s.offsets["news"].append(p["offset"])
        await drain(s, 0.2)
        expect_consecutive(s.offsets["news"], 1, 10, "no gap, no duplicate across the restart")
        await s.close()


def ready(node):
    """GET /ready: (status, JSON body)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{node.port}/ready", timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


async def pause_and_resume(binary, redis):
    a, b = nodes(binary, redis, prefix="pause")
    subs = [await Client.open(n, f"subscriber on node {i}") for i, n in enumerate((a, b))]
    for s in subs:
        await s.subscribe("live")
    api(a, "publish", {"channel": "live", "data": 0})
    for s in subs:
        await s.wait_offsets("live", 1)
    redis.pause()
    try:
        t0 = time.monotonic()
        failures = 0
        while time.monotonic() - t0 < 3:
            status, body, took = api((a, b)[failures % 2], "publish", {"channel": "live", "data": 1})
            check(status == 503 and body["error"]["code"] == 501 and body["error"]["temporary"],
                  "HTTP 503, error 501 (temporary) while Redis is paused", (status, body))
            check(took < 2.5, "no publish waits longer than the command timeout (1 s)", took)
            failures += 1
        check(failures >= 3, "publishes keep failing fast while paused", failures)
        for s in subs:
            pong = await s.call("ping")
            check(pong.get("result") == {}, "clients stay connected while Redis is paused", pong)
        # The timed-out publishes dropped the Redis connection: the node says it is not ready.
        status, body = ready(a)
        check(status == 503 and body.get("status") == "broker unavailable",
              "GET /ready: 503 broker unavailable while Redis is paused", (status, body))
    finally:
        redis.resume()
    step("publishes succeed again by themselves")
    deadline = time.monotonic() + 15
    while True:
        status, body, _ = api(b, "publish", {"channel": "live", "data": "back"})
        if status == 200:
            break
        check(time.monotonic() < deadline, "a publish succeeds within 15 s of SIGCONT", body)
        await asyncio.sleep(0.1)
    deadline = time.monotonic() + 15
    while ready(a)[0] != 200:
        check(time.monotonic() < deadline, "GET /ready: 200 again once Redis is back", ready(a))
        await asyncio.sleep(0.1)
    top = body["result"]["offset"]
    for _ in range(5):
        top = api(a, "publish", {"channel": "live", "data": "more"})[1]["result"]["offset"]
    # Each subscriber's stream is exact: either it stayed live (every offset once), or it was
    # told 2000 and recovers from its position.
    for s in subs:
        await drain(s, 0.5)
        if any(p.get("push") == "unsubscribe" for p in s.pushes):
            pos = s.positions["live"]
            r = await s.call("subscribe", {"channel": "live",
                                           "since": {"offset": pos[0], "epoch": pos[1]}})
            check(r.get("result", {}).get("recovered") is True, "recovered after the 2000", r)
            for p in r["result"]["publications"]:
                s.offsets["live"].append(p["offset"])
        await s.wait_offsets("live", top)
        await drain(s, 0.2)
        expect_consecutive(s.offsets["live"], 1, top, "exact stream across the pause")
        await s.close()


def metrics(node):
    """{'name{labels}': value} of the node's /metrics, and the text."""
    with urllib.request.urlopen(f"http://127.0.0.1:{node.port}/metrics", timeout=10) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out, text


async def wait_metric(node, what, predicate, timeout=15):
    step(what)
    deadline = time.monotonic() + timeout
    while True:
        m, _ = metrics(node)
        if predicate(m):
            return m
        if time.monotonic() > deadline:
            raise Failure(what, "true within the time", {k: v for k, v in m.items()
                                                         if k.startswith("herald_redis")})
        await asyncio.sleep(0.05)


def up(role, state="up"):
    return f'herald_redis_connections{{role="{role}",state="{state}"}}'


FAILED = 'herald_redis_command_failures_total{{reason="{}"}}'
COMMANDS = 'herald_redis_commands_total{role="command"}'
ROUND_TRIPS = "herald_redis_command_seconds_count"


async def redis_metrics(binary, redis):
    a, b = nodes(binary, redis, prefix="metrics")
    sub = await Client.open(b, "subscriber on node b")
    await sub.subscribe("m")
    a0, _ = metrics(a)
    b0, _ = metrics(b)
    for n, m in ((a, a0), (b, b0)):
        check(m[up("command")] == 1 and m[up("subscriber")] == 1 and
              m[up("command", "down")] == 0 and m[up("subscriber", "down")] == 0,
              "one command and one subscriber connection up, none down", m)
    for i in range(20):
        status, body, _ = api(a, "publish", {"channel": "m", "data": i})
        check(status == 200, f"publish {i}", body)
    await sub.wait_offsets("m", 20)
    await sub.close()
    m = await wait_metric(a, "node a: no command in flight once the publishes are answered",
                          lambda m: m["herald_redis_commands_in_flight"] == 0)
    check(m[COMMANDS] - a0[COMMANDS] >= 20, "node a sent at least the 20 publish scripts",
          (a0[COMMANDS], m[COMMANDS]))
    check(m[ROUND_TRIPS] - a0[ROUND_TRIPS] >= 20 and m["herald_redis_command_seconds_sum"] > 0,
          "their round trips in the histogram", (a0[ROUND_TRIPS], m[ROUND_TRIPS]))
    mb, _ = metrics(b)
    got = mb["herald_redis_pubsub_messages_total"] - b0["herald_redis_pubsub_messages_total"]
    check(got >= 20, "node b received the 20 publications from Redis pub/sub", got)
    if shutil.which("promtool"):
        _, text = metrics(a)
        r = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                           capture_output=True, timeout=30)
        check(r.returncode == 0, "promtool check metrics passes on a Redis node",
              (r.stdout + r.stderr).decode()[-500:])
    before, _ = metrics(a)
    redis.pause()
    try:
        status, body, _ = api(a, "publish", {"channel": "m", "data": "paused"})
        check(status == 503, "a publish while Redis is paused fails", (status, body))
        m = await wait_metric(a, "the paused publish counted as a timeout, the connection down",
                              lambda m: m[FAILED.format("timeout")] > before[FAILED.format("timeout")]
                              and m[up("command", "down")] == 1 and m[up("command")] == 0)
        check(m["herald_redis_commands_in_flight"] == 0, "nothing in flight after the timeout", m)
        api(a, "publish", {"channel": "m", "data": "refused"})
        await wait_metric(a, "a publish refused at once is counted as not_connected",
                          lambda m: m[FAILED.format("not_connected")] >
                          before[FAILED.format("not_connected")])
    finally:
        redis.resume()
    m = await wait_metric(a, "the command connection is made again by itself and counted",
                          lambda m: m[up("command")] == 1 and
                          m['herald_redis_reconnects_total{role="command"}'] >
                          before['herald_redis_reconnects_total{role="command"}'])


CASES = [
    ("two nodes: a publish through either node reaches subscribers on both, in one order",
     two_nodes_one_order, False),
    ("an idempotency key publishes once across nodes", idempotency_across_nodes, False),
    ("Redis restarted without persistence: resubscribe, recovered false, new epoch",
     restart_without_persistence, False),
    ("Redis restarted with persistence (AOF): resubscribe, recovered exactly in the same epoch",
     restart_with_persistence, True),
    ("Redis paused 3 s: publishes fail fast (501), clients stay, all resumes by itself",
     pause_and_resume, False),
    ("herald_redis_* metrics: connections, commands, round trips, pub/sub, failures, reconnects",
     redis_metrics, False),
]


def main():
    opts = herald_redis.suite_options("Herald integration tests: several nodes on Redis")
    cases = herald_redis.selected(CASES, opts)

    def run(case):
        _, fn, persistent = case
        redis = herald_redis.RedisServer(persistent=persistent).start()
        try:
            asyncio.run(asyncio.wait_for(fn(opts.herald, redis), 90))
        finally:
            redis.stop()

    run_cases("redis (several nodes)", opts.herald, cases, run)

if __name__ == "__main__":
    main()
