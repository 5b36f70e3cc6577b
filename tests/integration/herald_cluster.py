"""Several Herald nodes on Redis, for test_cluster.py: a real redis-server (herald_redis.py) and
three `herald serve` children on loopback, each started and stopped by its pid; an asynchronous
server API caller (so that a publisher and the subscribers share one asyncio loop); and
`Follower`, a subscriber that behaves like the SDK: when its node goes away it reconnects to
another node and resubscribes from its last position, and when it is told 2000 (resubscribe) it
does so, so a test can check that its stream ends up exact.
"""

import asyncio
import atexit
import json
import os
import random
import shutil
import tempfile
import time

import herald_links
from herald_checks import Failure, check, step
from herald_harness import Herald
from test_tokens import SECRET, make_token

# Presence leases short enough that a dead node's members go within a case: the lease, plus up
# to a third of it until a survivor's sweep (docs/SCALING.md).
LEASE_S = 3

CONFIG = f"""\
token_hmac_secret: "{SECRET}"
allow_anonymous: true
redis_presence_lease: {LEASE_S}
default_namespace:
  history_size: 10000
namespaces:
  room:
    join_leave: true
  feed:
    history_size: 10000
"""


_config_dirs = []


@atexit.register
def _remove_config_dirs():
    for d in _config_dirs:
        shutil.rmtree(d, ignore_errors=True)


def config_path(extra=""):
    d = tempfile.mkdtemp(prefix="herald-cluster-")
    _config_dirs.append(d)
    path = os.path.join(d, "herald.yaml")
    with open(path, "w") as f:
        f.write(extra + CONFIG)
    return path


CLUSTER = False  # the suite runs over a Redis Cluster: nodes get --redis-cluster


def start_nodes(binary, redis_urls, count=3, prefix="cl", extra=(), config_extra=""):
    """count nodes on the Redis (or Redis instances) of redis_urls, one config for all."""
    path = config_path(config_extra)
    args = ["--config", path, "--redis-prefix", prefix, "--threads", "2", *extra]
    if CLUSTER and "--redis-cluster" not in args:
        args.append("--redis-cluster")
    for url in redis_urls:
        args += ["--redis", url]
    return [Herald(binary, args).start() for _ in range(count)]


def token(user):
    return make_token({"sub": user, "exp": int(time.time()) + 3600})


async def api(node, method, params, timeout=10):
    """POST /api/<method> on a fresh connection: (status, body JSON), or (0, error text) when the
    node cannot be reached."""
    try:
        status, _, body = await herald_links.http_request(
            node.port, "POST", f"/api/{method}", json.dumps(params).encode(), timeout=timeout)
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
        return 0, repr(e)
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body.decode("utf-8", "replace")


async def get(node, path, timeout=5):
    try:
        status, _, body = await herald_links.http_request(node.port, "GET", path, timeout=timeout)
        return status, body
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
        return 0, repr(e)


async def wait_until(what, predicate, timeout=20, every=0.05):
    """Awaits predicate() (a coroutine function) until it is true."""
    step(what)
    deadline = time.monotonic() + timeout
    while True:
        last = await predicate()
        if last:
            return last
        if time.monotonic() > deadline:
            raise Failure(what, f"true within {timeout}s", "still false")
        await asyncio.sleep(every)


class Publisher:
    """Publishes data 0, 1, 2, ... to a channel through the server API of the given nodes in turn,
    each with an idempotency key: a publish that fails (a node killed, Redis away) is retried on
    the next node with the same key, so each message is published exactly once whatever fails.
    acked[i] is the offset the cluster gave message i."""

    def __init__(self, nodes, channel, name="pub"):
        self.nodes = list(nodes)
        self.channel = channel
        self.name = name
        self.acked = {}
        self.failures = 0
        self.next = 0
        self.turn = 0

    async def publish_one(self, deadline_s=30):
        i = self.next
        params = {"channel": self.channel, "data": {"i": i},
                  "idempotency_key": f"{self.name}-{i}"}
        deadline = time.monotonic() + deadline_s
        while True:
            node = self.nodes[self.turn % len(self.nodes)]
            self.turn += 1
            if node.alive():
                status, body = await api(node, "publish", params, timeout=5)
                if status == 200:
                    self.acked[i] = body["result"]["offset"]
                    self.next += 1
                    return body["result"]
                self.failures += 1
            if time.monotonic() > deadline:
                raise Failure(f"publish {i} of {self.channel}", "a success on some node",
                              f"{status} {body}")
            await asyncio.sleep(0.02)

    async def run(self, count, pace=0.0):
        for _ in range(count):
            await self.publish_one()
            if pace:
                await asyncio.sleep(pace)


class Follower:
    """A subscriber of one channel that keeps its stream exact across failures: offsets holds
    every offset received (recovered or live), in arrival order. When its connection drops it
    reconnects to another live node (nodes[] in turn, after a full-jitter pause) and subscribes
    with `since` its last position; a 2000 unsubscribe push makes it resubscribe the same way.
    recovered holds the `recovered` flag of each resubscribe. Lines are handled in stream order,
    so a subscribe reply's publications come before the pushes after it."""

    def __init__(self, nodes, home, channel, name, user=None):
        self.nodes = nodes
        self.node = nodes[home]
        self.channel = channel
        self.name = name
        self.user = user
        self.link = None
        self.next_id = 1
        self.replies = {}
        self.pushes = []
        self.offsets = []
        self.data = []
        self.position = None  # (offset, epoch)
        self.recovered = []
        self.reconnects = 0
        self.closed_codes = []
        self.sub_id = None
        self.client_id = None
        self.want_resubscribe = False
        self.next_try = 0

    async def open(self, node=None):
        self.node = node or self.node
        self.link = await herald_links.connect(self.node, self.name, transport="websocket")
        params = {"token": token(self.user)} if self.user else None
        r = await self.call("connect", params)
        check("result" in r, f"{self.name}: a connect result", r)
        self.client_id = r["result"]["client"]
        await self.subscribe()
        return self

    async def call(self, method, params=None, timeout=15):
        cmd_id = self.next_id
        self.next_id += 1
        cmd = {"id": cmd_id, "method": method}
        if params is not None:
            cmd["params"] = params
        if method == "subscribe":
            self.sub_id = cmd_id
        await self.link.send(json.dumps(cmd))
        deadline = time.monotonic() + timeout
        while cmd_id not in self.replies:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure(f"{self.name}: reply to {method}", "a reply", "nothing in time")
            frame = await asyncio.wait_for(self.link.recv(), left)
            self._handle(frame)
        return self.replies.pop(cmd_id)

    async def subscribe(self, retry=True):
        """Subscribes (from the last position, if any). A temporary error (the node's Redis is
        away) is retried: here until 30 s passed, or with retry=False on a later pump."""
        self.want_resubscribe = False
        params = {"channel": self.channel}
        resuming = self.position is not None
        deadline = time.monotonic() + 30
        while True:
            if self.position is not None:
                params["since"] = {"offset": self.position[0], "epoch": self.position[1]}
            r = await self.call("subscribe", params)
            if "result" in r:
                break
            check(r["error"].get("temporary"), f"{self.name}: only temporary subscribe errors", r)
            if not retry:
                self.want_resubscribe = True
                self.next_try = time.monotonic() + 0.2
                return
            check(time.monotonic() < deadline, f"{self.name}: subscribed within 30 s", r)
            await asyncio.sleep(0.1)
        if resuming:
            self.recovered.append(r["result"].get("recovered"))

    def _take(self, offset, epoch, data):
        self.offsets.append(offset)
        self.data.append(data)
        self.position = (offset, epoch)

    def _handle(self, frame):
        for line in frame.split("\n"):
            msg = json.loads(line)
            if "id" in msg:
                if msg["id"] == self.sub_id and "result" in msg:
                    res = msg["result"]
                    for p in res.get("publications", []):
                        self._take(p["offset"], res["epoch"], p.get("data"))
                    if not res.get("publications"):
                        self.position = (res["offset"], res["epoch"])
                self.replies[msg["id"]] = msg
            elif msg.get("push") == "message" and msg.get("channel") == self.channel:
                self._take(msg["offset"], msg["epoch"], msg.get("data"))
            elif msg.get("push") == "unsubscribe" and msg.get("channel") == self.channel:
                check(msg.get("code") == 2000, f"{self.name}: unsubscribe 2000", msg)
                self.want_resubscribe = True
            else:
                if msg.get("push") == "disconnect":
                    self.closed_codes.append(msg.get("code"))
                self.pushes.append(msg)

    async def _reconnect(self):
        self.reconnects += 1
        # Full jitter, as the SDK does: a dead node's clients do not all come back at once.
        await asyncio.sleep(random.uniform(0, 0.3))
        start = self.nodes.index(self.node)
        for k in range(1, len(self.nodes) + 1):
            node = self.nodes[(start + k) % len(self.nodes)]
            if node.alive():
                step(f"{self.name} reconnects to node {self.nodes.index(node)}")
                try:
                    await self.open(node)
                    return
                except (OSError, asyncio.TimeoutError, herald_links.LinkClosed):
                    continue
        raise Failure(f"{self.name} reconnects", "a live node", "none")

    async def pump(self, timeout, reconnect=True):
        """Takes what arrives within timeout, handling drops and 2000 by itself."""
        try:
            frame = await asyncio.wait_for(self.link.recv(), timeout)
            self._handle(frame)
        except asyncio.TimeoutError:
            pass
        except herald_links.LinkClosed:
            if not reconnect:
                raise
            await self._reconnect()
            return
        if self.want_resubscribe and time.monotonic() >= self.next_try:
            await self.subscribe(retry=False)

    async def until(self, predicate, what, timeout=30):
        step(f"{self.name}: {what}")
        deadline = time.monotonic() + timeout
        while not predicate(self):
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure(f"{self.name}: {what}", "true", f"{len(self.offsets)} offsets, "
                              f"last {self.offsets[-3:]}, position {self.position}")
            await self.pump(min(left, 0.5))

    async def close(self):
        try:
            await self.link.close()
        except Exception:  # noqa: BLE001 - the node may be gone
            pass


def expect_exact(follower, first, last):
    """The follower's offsets are first..last, each once, in order."""
    got = follower.offsets
    want = list(range(first, last + 1))
    if got != want:
        dups = len(got) - len(set(got))
        missing = sorted(set(want) - set(got))
        raise Failure(f"{follower.name}: offsets {first}..{last} once each, in order",
                      f"{len(want)} offsets", f"{len(got)} offsets, {dups} duplicates, "
                      f"missing {missing[:10]}, first {got[:5]}, last {got[-5:]}")


async def followers_on(nodes, channel, per_node=2, user=None):
    """per_node Followers of channel on each node (named sub<node>.<k>), subscribed."""
    out = []
    for i in range(len(nodes)):
        for k in range(per_node):
            f = Follower(nodes, i, channel, f"sub{i}.{k}", user=user)
            out.append(await f.open())
    return out
