#!/usr/bin/python3
"""The Herald protocol (docs/PROTOCOL.md) over WebSocket (python-websockets) or raw TCP (asyncio):
publish and live pushes, recovery by position after a forced disconnect (exact, in order, no
duplicate; 50 rounds with random timing), the same across a restart (SIGTERM and kill -9) with
durable history, history read forward and backward (durable and --memory), presence after clean
and unclean disconnects, idempotency keys, and every kind of malformed command answered with its
documented error while the connection keeps working.

With --broker redis every server runs on a redis-server the suite starts (the same cases, the
Redis broker underneath).

Usage: /usr/bin/python3 test_protocol.py --herald build/<dir>/apps/herald/herald
       [--transport websocket|tcp|sse|poll] [--broker memory|redis] [-k SUBSTRING]
"""

import asyncio
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import herald_links  # noqa: E402
import herald_redis  # noqa: E402
from herald_checks import Failure, check, step  # noqa: E402
from herald_harness import Herald, Suite  # noqa: E402

suite = Suite("protocol (python-websockets, asyncio TCP)", transports=("websocket", "tcp", "sse", "poll"))


class Client:
    """A protocol client: numbered commands, replies matched by id, pushes collected."""

    def __init__(self, link):
        self.link = link
        self.next_id = 1
        self.replies = {}
        self.pushes = []
        self.offsets = {}  # channel -> offsets received (subscribe recovery + message pushes)
        self.positions = {}  # channel -> (offset, epoch) last seen
        self.subscribing = {}  # command id -> channel, for subscribes not answered yet

    @classmethod
    async def open(cls, server, name="client", data=None):
        c = cls(await herald_links.connect(server, name))
        r = await c.call("connect", {"data": data} if data is not None else None)
        check("result" in r, "a connect result", r)
        c.client_id = r["result"]["client"]
        return c

    def _take(self, line):
        msg = json.loads(line)
        if "id" in msg:
            channel = self.subscribing.pop(msg["id"], None)
            if channel is not None and "result" in msg:
                # The recovered publications come before the pushes that follow this reply,
                # possibly in the same frame (a poll answer holds many): count them here, in
                # stream order, not after the frame.
                res = msg["result"]
                got = self.offsets.setdefault(channel, [])
                for p in res["publications"]:
                    got.append(p["offset"])
                self.positions[channel] = (res["offset"] if not res["publications"]
                                           else res["publications"][-1]["offset"], res["epoch"])
            self.replies[msg["id"]] = msg
        elif msg.get("push") == "message":
            self.offsets.setdefault(msg["channel"], []).append(msg["offset"])
            self.positions[msg["channel"]] = (msg["offset"], msg["epoch"])
        else:
            self.pushes.append(msg)

    async def pump(self, timeout=5):
        frame = await asyncio.wait_for(self.link.recv(), timeout)
        for line in frame.split("\n"):
            self._take(line)

    async def send_raw(self, text):
        await self.link.send(text)

    async def call(self, method, params=None, timeout=10):
        ids = await self.send_many([(method, params)])
        return await self.reply(ids[0], timeout)

    async def send_many(self, commands):
        """Sends several commands in one frame; returns their ids."""
        lines, ids = [], []
        for method, params in commands:
            cmd = {"id": self.next_id, "method": method}
            if params is not None:
                cmd["params"] = params
            ids.append(self.next_id)
            self.next_id += 1
            lines.append(json.dumps(cmd, separators=(",", ":")))
        await self.link.send("\n".join(lines))
        return ids

    async def reply(self, cmd_id, timeout=10):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while cmd_id not in self.replies:
            left = deadline - loop.time()
            if left <= 0:
                raise Failure(f"reply to command {cmd_id}", "a reply", "nothing in time")
            await self.pump(left)
        return self.replies.pop(cmd_id)

    async def subscribe(self, channel, since=None):
        params = {"channel": channel}
        if since is not None:
            params["since"] = {"offset": since[0], "epoch": since[1]}
        self.subscribing[self.next_id] = channel  # the id call() is about to use
        r = await self.call("subscribe", params)
        check("result" in r, f"a subscribe result for {channel}", r)
        return r["result"]

    async def wait_offsets(self, channel, count, timeout=20):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.offsets.get(channel, [])) < count:
            left = deadline - loop.time()
            if left <= 0:
                raise Failure(f"{count} publications of {channel}",
                              f"{count} offsets", f"{len(self.offsets.get(channel, []))}")
            await self.pump(left)

    async def close(self):
        await self.link.close()


async def publish_n(pub, channel, n, batch=100):
    """Publishes n messages, batch per frame; waits for every reply."""
    done = 0
    while done < n:
        k = min(batch, n - done)
        ids = await pub.send_many([("publish", {"channel": channel, "data": {"i": done + j}})
                                   for j in range(k)])
        for i in ids:
            r = await pub.reply(i)
            check("result" in r, "a publish result", r)
        done += k


def expect_consecutive(offsets, first, count, what):
    check(offsets == list(range(first, first + count)),
          f"{what}: offsets {first}..{first + count - 1} exactly once, in order",
          f"{len(offsets)} offsets: {offsets[:5]}...{offsets[-5:]}" if offsets else "none")


def history_cases(epoch):
    """The history params to try on a channel holding offsets 1..5 (data = offset), and what each
    must answer: the offsets in order, or an error code. Shared with test_api.py."""
    def since(offset):
        return {"since": {"offset": offset, "epoch": epoch}}
    return [
        ({}, [1, 2, 3, 4, 5]),
        ({"reverse": True}, [5, 4, 3, 2, 1]),
        ({"limit": 2}, [1, 2]),
        ({"limit": 2, "reverse": True}, [5, 4]),
        ({"limit": 0}, []),
        ({"limit": 0, "reverse": True}, []),
        ({"limit": 10, "reverse": True}, [5, 4, 3, 2, 1]),
        (since(2), [3, 4, 5]),
        ({**since(2), "limit": 2}, [3, 4]),
        ({**since(4), "reverse": True}, [3, 2, 1]),
        ({**since(4), "reverse": True, "limit": 2}, [3, 2]),
        ({**since(4), "reverse": True, "limit": 0}, []),
        ({**since(1), "reverse": True}, []),
        ({"since": {"offset": 4, "epoch": "gone42"}, "reverse": True}, 112),
    ]


def check_history(params, want, answer):
    """answer: a reply or API body, {"result": ...} or {"error": ...}."""
    if isinstance(want, int):
        check(answer.get("error", {}).get("code") == want, f"history {params}: error {want}",
              answer)
        return
    res = answer.get("result", {})
    got = [(p["offset"], p["data"]) for p in res.get("publications", [])]
    check(got == [(o, o) for o in want] and res.get("offset") == 5,
          f"history {params}: offsets {want} with their data, position 5", answer)


async def history_both_ends(server):
    c = await Client.open(server, "client")
    epoch = None
    for i in range(1, 6):
        r = await c.call("publish", {"channel": "chat:r", "data": i})
        check(r.get("result", {}).get("offset") == i, f"offset {i}", r)
        epoch = r["result"]["epoch"]
    for params, want in history_cases(epoch):
        step(f"history {params}")
        check_history(params, want, await c.call("history", {"channel": "chat:r", **params}))
    await c.close()


@suite.case("history reads from either end: forward and reverse, since, every limit")
async def history_durable(server):
    await history_both_ends(server)


@suite.case("history reads from either end, with --memory", args=("--memory",))
async def history_memory(server):
    await history_both_ends(server)


@suite.case("publish reaches every subscriber as a message push; history and presence answer")
async def basics(server):
    a = await Client.open(server, "A", {"name": "Ann"})
    b = await Client.open(server, "B")
    res = await a.subscribe("chat:basics")
    check(res["offset"] == 0 and res["recovered"] is False, "a fresh channel at offset 0", res)
    r = await b.call("publish", {"channel": "chat:basics", "data": {"text": "hi"}})
    check(r.get("result", {}).get("offset") == 1, "offset 1 for the first publication", r)
    await a.wait_offsets("chat:basics", 1)
    h = await b.call("history", {"channel": "chat:basics"})
    check([p["data"] for p in h["result"]["publications"]] == [{"text": "hi"}],
          "history holds the publication", h)
    p = await b.call("presence", {"channel": "chat:basics"})
    clients = p["result"]["clients"]
    check(list(clients) == [a.client_id] and clients[a.client_id]["info"] == {"name": "Ann"},
          "presence lists A with its connect data", p)
    s = await b.call("presence_stats", {"channel": "chat:basics"})
    check(s["result"] == {"num_clients": 1, "num_users": 0}, "one anonymous client, no user", s)
    await a.close()
    await b.close()


@suite.case("recovery after a forced disconnect: exactly the 1,000 missed, then live (50 rounds)",
            timeout=180)
async def recovery_rounds(server):
    rng = random.Random(4242)
    pub = await Client.open(server, "publisher")
    for rnd in range(50):
        channel = f"rec:{rnd}"
        sub = await Client.open(server, f"subscriber round {rnd}")
        await sub.subscribe(channel)
        first = rng.randint(1, 30)
        await publish_n(pub, channel, first)
        await sub.wait_offsets(channel, first)
        position = sub.positions[channel]
        step(f"round {rnd}: forced disconnect at offset {position[0]}")
        sub.link.abort()  # no close handshake: the server sees a dead TCP connection
        missed = asyncio.create_task(publish_n(pub, channel, 1000, batch=rng.choice([10, 50, 128])))
        await asyncio.sleep(rng.random() * 0.05)
        back = await Client.open(server, f"returning subscriber round {rnd}")
        res = await back.subscribe(channel, since=position)
        await missed
        await publish_n(pub, channel, 5)  # live ones after the return
        check(res["recovered"] is True, f"round {rnd}: recovered", res)
        await back.wait_offsets(channel, 1005)
        await asyncio.sleep(0.05)
        try:
            await back.pump(0.2)  # anything extra (a duplicate) would show up here
        except asyncio.TimeoutError:
            pass
        expect_consecutive(back.offsets[channel], position[0] + 1, 1005, f"round {rnd}")
        await back.close()
    await pub.close()


async def restart_recovery(server, hard):
    binary = server.argv[0]
    data_dir = server.data_dir
    pub = await Client.open(server, "publisher")
    sub = await Client.open(server, "subscriber")
    await sub.subscribe("durable:news")
    await publish_n(pub, "durable:news", 10)
    await sub.wait_offsets("durable:news", 10)
    position = sub.positions["durable:news"]
    await sub.close()
    await publish_n(pub, "durable:news", 500)  # missed before the restart
    await pub.close()
    step("kill -9 the server" if hard else "SIGTERM the server")
    if hard:
        server.kill()
    else:
        check(server.stop() == 0, "exit status 0 after SIGTERM", "another status")
    again = Herald(binary, ["--data-dir", data_dir, *herald_links.server_args(),
                            *herald_redis.server_args()]).start()
    try:
        pub2 = await Client.open(again, "publisher after the restart")
        await publish_n(pub2, "durable:news", 500)  # missed after the restart
        back = await Client.open(again, "returning subscriber")
        res = await back.subscribe("durable:news", since=position)
        check(res["recovered"] is True and res["epoch"] == position[1],
              "recovered in the same epoch after the restart", res)
        await publish_n(pub2, "durable:news", 3)
        await back.wait_offsets("durable:news", 1003)
        expect_consecutive(back.offsets["durable:news"], 11, 1003, "after the restart")
        await back.close()
        await pub2.close()
    finally:
        again.stop()


@suite.case("recovery across a SIGTERM restart with durable history", own_server=True, timeout=60)
async def restart_sigterm(server):
    await restart_recovery(server, hard=False)


@suite.case("recovery across a kill -9 restart with durable history", own_server=True, timeout=60)
async def restart_kill9(server):
    await restart_recovery(server, hard=True)


@suite.case("presence is right after clean and unclean disconnects")
async def presence_disconnects(server):
    watcher = await Client.open(server, "watcher")
    clean = await Client.open(server, "clean leaver")
    rude = await Client.open(server, "unclean leaver")
    await clean.subscribe("room:p")
    await rude.subscribe("room:p")

    async def present():
        r = await watcher.call("presence", {"channel": "room:p"})
        return set(r["result"]["clients"])

    async def wait_presence(expected, what, within_s=15):
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            if await present() == expected:
                return
            await asyncio.sleep(0.02)
        check(False, what, await present())

    await wait_presence({clean.client_id, rude.client_id}, "both present")
    await clean.close()
    await wait_presence({rude.client_id}, "the clean leaver gone")
    rude.link.abort()
    await wait_presence(set(), "the unclean leaver gone too")
    await watcher.close()


@suite.case("an idempotency key publishes once")
async def idempotency(server):
    c = await Client.open(server, "publisher")
    params = {"channel": "orders", "data": {"n": 1}, "idempotency_key": "order-17"}
    r1 = await c.call("publish", params)
    r2 = await c.call("publish", params)
    check(r1["result"] == r2["result"], "the same offset and epoch twice", (r1, r2))
    h = await c.call("history", {"channel": "orders"})
    check(len(h["result"]["publications"]) == 1, "one publication in history", h)
    await c.close()


@suite.case("an idempotency key still publishes once after a kill -9 restart", own_server=True,
            timeout=60)
async def idempotency_across_kill9(server):
    # A client whose publish was answered just before a crash never saw the answer, and retries
    # with the same key on the restarted server: the first result must come back, not a copy.
    c = await Client.open(server, "publisher")
    params = {"channel": "orders:kill", "data": {"n": 1}, "idempotency_key": "order-41"}
    first = await c.call("publish", params)
    check("result" in first, "the first publish is answered", first)
    await c.call("publish", {"channel": "orders:kill", "data": {"n": 2}})
    await c.close()
    step("kill -9 the server")
    server.kill()
    again = Herald(server.argv[0], ["--data-dir", server.data_dir, *herald_links.server_args(),
                                    *herald_redis.server_args()]).start()
    try:
        c2 = await Client.open(again, "the same publisher after the restart")
        retry = await c2.call("publish", params)
        check(retry.get("result") == first["result"],
              "the retry gets the first publish's offset and epoch", (first, retry))
        h = await c2.call("history", {"channel": "orders:kill"})
        datas = [p["data"] for p in h["result"]["publications"]]
        check(datas == [{"n": 1}, {"n": 2}], "each publication once in history", datas)
        other = await c2.call("publish", {**params, "idempotency_key": "order-42"})
        check(other["result"]["offset"] == 3, "a new key publishes at the next offset", other)
        await c2.close()
    finally:
        again.stop()


# (what, the line sent, the id its error must carry, the documented code)
MALFORMED = [
    ("not json", "{nope", 0, 100),
    ("an array", "[1,2]", 0, 100),
    ("unknown method", '{"id":5,"method":"teleport"}', 5, 101),
    ("missing channel", '{"id":6,"method":"subscribe","params":{}}', 6, 102),
    ("wrong type of id", '{"id":"7","method":"ping"}', 0, 103),
    ("wrong type of channel", '{"id":8,"method":"subscribe","params":{"channel":5}}', 8, 103),
    ("forbidden character", '{"id":9,"method":"subscribe","params":{"channel":"a b"}}', 9, 104),
    ("channel too long",
     '{"id":10,"method":"subscribe","params":{"channel":"' + "x" * 300 + '"}}', 10, 104),
    ("oversized data", '{"id":11,"method":"publish","params":{"channel":"c","data":"'
     + "y" * 70000 + '"}}', 11, 105),
    ("duplicate field", '{"id":12,"method":"ping","method":"ping"}', 12, 114),
]


@suite.case("every malformed command gets its documented error; the connection keeps working")
async def malformed(server):
    c = await Client.open(server, "client")
    for what, text, want_id, code in MALFORMED:
        step(f"send {what}")
        await c.send_raw(text)
        r = await c.reply(want_id)
        check(r.get("error", {}).get("code") == code, f"error {code} for {what}", r)
        pong = await c.call("ping")
        check(pong.get("result") == {}, f"the connection still answers after {what}", pong)
    await c.subscribe("twice")
    r = await c.call("subscribe", {"channel": "twice"})
    check(r.get("error", {}).get("code") == 106, "106 already_subscribed", r)
    r = await c.call("unsubscribe", {"channel": "never"})
    check(r.get("error", {}).get("code") == 107, "107 not_subscribed", r)
    await c.close()
    fresh = await herald_links.connect(server, "a client that skips connect")
    await fresh.send('{"id":1,"method":"subscribe","params":{"channel":"x"}}')
    r = json.loads(await asyncio.wait_for(fresh.recv(), 5))
    check(r.get("error", {}).get("code") == 108, "108 before connect", r)
    await fresh.send('{"id":2,"method":"ping"}')
    r = json.loads(await asyncio.wait_for(fresh.recv(), 5))
    check(r.get("error", {}).get("code") == 108, "108 for ping before connect too", r)
    await fresh.close()


if __name__ == "__main__":
    suite.main()
