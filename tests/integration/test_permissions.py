#!/usr/bin/python3
"""Namespace permissions and user-limited channels, over any transport (--transport): who may
subscribe (anyone, authenticated, token), publish (anyone, authenticated, subscribers, none; the
old client_publish still works), see presence and read history, and channels like
`dialogs:#42,43` that only users 42 and 43 may use. Each refusal is answered with its documented
code (111, or 120 for a missing channel token) and counted in herald_permission_refusals_total
by operation and reason; the server API is never limited.

Usage: /usr/bin/python3 test_permissions.py --herald build/<dir>/apps/herald/herald
       [--transport websocket|tcp|sse|poll] [-k SUBSTRING]
"""

import atexit
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import herald_links  # noqa: E402
import herald_tokens as tk  # noqa: E402
from herald_checks import check, step  # noqa: E402
from herald_harness import Suite  # noqa: E402
from herald_raw import http_exchange  # noqa: E402
from test_api import json_of, post  # noqa: E402
from test_protocol import Client  # noqa: E402

suite = Suite("namespace permissions and user-limited channels",
              transports=("websocket", "tcp", "sse", "poll"))

SECRET = "permissions-test-secret-0123456789abcdef"
CONFIG = f"""\
token_hmac_secret: "{SECRET}"
namespaces:
  open:
  members:
    subscribe: authenticated
    publish: authenticated
    see_presence: authenticated
    read_history: authenticated
  private:
    subscribe: token
    publish: subscribers
    see_presence: subscribers
    read_history: subscribers
  feed:
    publish: none
    see_presence: none
    read_history: none
  legacy:
    client_publish: false
  dialogs:
"""
_dir = tempfile.mkdtemp(prefix="herald-perm-test-")
atexit.register(shutil.rmtree, _dir, True)
CONFIG_PATH = os.path.join(_dir, "herald.yaml")
with open(CONFIG_PATH, "w") as f:
    f.write(CONFIG)
ARGS = ("--config", CONFIG_PATH, "--threads", "2")


async def open_as(server, user, name=None):
    """A protocol client connected as `user` (None: anonymous), over the suite's transport."""
    name = name or (f"user {user}" if user is not None else "anonymous")
    c = Client(await herald_links.connect(server, name))
    params = {"token": tk.hs256({"sub": user}, SECRET)} if user is not None else None
    r = await c.call("connect", params)
    check("result" in r, f"{name} connects", r)
    c.client_id = r["result"]["client"]
    return c


async def code_of(c, method, params):
    r = await c.call(method, params)
    return r["error"]["code"] if "error" in r else 0


def refusals(port):
    resp = http_exchange(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", "GET /metrics")
    out = {}
    for line in resp.body.decode().splitlines():
        if line.startswith("herald_permission_refusals_total{"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def metric(operation, reason):
    return f'herald_permission_refusals_total{{operation="{operation}",reason="{reason}"}}'


async def expect_codes(c, cases):
    for what, method, params, code in cases:
        got = await code_of(c, method, params)
        check(got == code, f"{what}: {code or 'allowed'}", got)


@suite.case("the defaults let everyone do everything", args=ARGS)
async def defaults(server):
    anon = await open_as(server, None)
    await expect_codes(anon, [
        ("subscribe", "subscribe", {"channel": "open:a"}, 0),
        ("publish", "publish", {"channel": "open:a", "data": 1}, 0),
        ("presence", "presence", {"channel": "open:a"}, 0),
        ("presence_stats", "presence_stats", {"channel": "open:a"}, 0),
        ("history", "history", {"channel": "open:a"}, 0),
    ])
    await anon.close()


@suite.case("authenticated: anonymous clients get 111, users are let in", args=ARGS)
async def authenticated(server):
    before = refusals(server.port)
    anon = await open_as(server, None)
    await expect_codes(anon, [
        ("anonymous subscribe", "subscribe", {"channel": "members:lounge"}, 111),
        ("anonymous publish", "publish", {"channel": "members:lounge", "data": 1}, 111),
        ("anonymous presence", "presence", {"channel": "members:lounge"}, 111),
        ("anonymous presence_stats", "presence_stats", {"channel": "members:lounge"}, 111),
        ("anonymous history", "history", {"channel": "members:lounge"}, 111),
    ])
    user = await open_as(server, "42")
    await expect_codes(user, [
        ("user subscribe", "subscribe", {"channel": "members:lounge"}, 0),
        ("user publish", "publish", {"channel": "members:lounge", "data": 1}, 0),
        ("user presence", "presence", {"channel": "members:lounge"}, 0),
        ("user history", "history", {"channel": "members:lounge"}, 0),
    ])
    after = refusals(server.port)
    for op, n in (("subscribe", 1), ("publish", 1), ("presence", 2), ("history", 1)):
        key = metric(op, "anonymous")
        check(after[key] - before.get(key, 0) == n, f"{key} counted {n}", (before, after))
    await anon.close()
    await user.close()


@suite.case("token: only a channel token subscribes; then subscribers publish, see, read",
            args=ARGS)
async def token_and_subscribers(server):
    before = refusals(server.port)
    alice = await open_as(server, "alice")
    bob = await open_as(server, "bob")
    await expect_codes(alice, [
        ("no channel token", "subscribe", {"channel": "private:team"}, 120),
        ("publish before subscribing", "publish", {"channel": "private:team", "data": 1}, 111),
        ("presence before subscribing", "presence", {"channel": "private:team"}, 111),
        ("history before subscribing", "history", {"channel": "private:team"}, 111),
    ])
    token = tk.hs256({"sub": "alice", "channel": "private:team", "client": alice.client_id},
                     SECRET)
    step("alice subscribes with her channel token")
    await expect_codes(alice, [
        ("with the token", "subscribe", {"channel": "private:team", "token": token}, 0),
        ("publish as a subscriber", "publish", {"channel": "private:team", "data": "hi"}, 0),
        ("presence as a subscriber", "presence", {"channel": "private:team"}, 0),
        ("history as a subscriber", "history", {"channel": "private:team"}, 0),
    ])
    await alice.wait_offsets("private:team", 1)
    await expect_codes(bob, [
        ("bob uses alice's token", "subscribe", {"channel": "private:team", "token": token}, 120),
        ("bob publishes", "publish", {"channel": "private:team", "data": 1}, 111),
        ("bob asks presence", "presence_stats", {"channel": "private:team"}, 111),
        ("bob reads history", "history", {"channel": "private:team"}, 111),
    ])
    resp = post(server.port, "history", {"channel": "private:team"})
    check(resp.status == 200 and len(json_of(resp, "h")["result"]["publications"]) == 1,
          "the server API reads it anyway", resp.body)
    after = refusals(server.port)
    for key, n in ((metric("subscribe", "token_required"), 1),
                   (metric("subscribe", "channel_token"), 1),
                   (metric("publish", "not_subscribed"), 2),
                   (metric("presence", "not_subscribed"), 2),
                   (metric("history", "not_subscribed"), 2)):
        check(after[key] - before.get(key, 0) == n, f"{key} counted {n}", (before, after))
    await alice.close()
    await bob.close()


@suite.case("none: nobody publishes, sees presence or reads history; the API still does",
            args=ARGS)
async def none(server):
    user = await open_as(server, "42")
    await expect_codes(user, [
        ("subscribe", "subscribe", {"channel": "feed:prices"}, 0),
        ("publish", "publish", {"channel": "feed:prices", "data": 1}, 111),
        ("presence", "presence", {"channel": "feed:prices"}, 111),
        ("history", "history", {"channel": "feed:prices"}, 111),
        ("client_publish: false", "publish", {"channel": "legacy:a", "data": 1}, 111),
        ("client_publish: false, subscribe", "subscribe", {"channel": "legacy:a"}, 0),
    ])
    r = await user.call("publish", {"channel": "feed:prices", "data": 1})
    check(r["error"]["message"] == "permission denied: clients may not publish in this namespace",
          "the message says why", r)
    resp = post(server.port, "publish", {"channel": "feed:prices", "data": {"p": 1}})
    check(resp.status == 200, "the API publishes", resp.body)
    await user.wait_offsets("feed:prices", 1)
    check(post(server.port, "presence", {"channel": "feed:prices"}).status == 200,
          "the API sees presence", "")
    await user.close()


@suite.case("dialogs:#42,43 is for users 42 and 43 only, whatever the namespace allows",
            args=ARGS)
async def user_limited(server):
    before = refusals(server.port)
    u42 = await open_as(server, "42")
    u43 = await open_as(server, "43")
    u44 = await open_as(server, "44")
    anon = await open_as(server, None)
    channel = "dialogs:#42,43"
    await expect_codes(u42, [("42 subscribes", "subscribe", {"channel": channel}, 0)])
    await expect_codes(u43, [
        ("43 subscribes", "subscribe", {"channel": channel}, 0),
        ("43 publishes", "publish", {"channel": channel, "data": "hello 42"}, 0),
        ("43 reads history", "history", {"channel": channel}, 0),
    ])
    await u42.wait_offsets(channel, 1)
    for who, c in (("44", u44), ("anonymous", anon)):
        await expect_codes(c, [
            (f"{who} subscribes", "subscribe", {"channel": channel}, 111),
            (f"{who} publishes", "publish", {"channel": channel, "data": 1}, 111),
            (f"{who} asks presence", "presence", {"channel": channel}, 111),
            (f"{who} reads history", "history", {"channel": channel}, 111),
        ])
    # A channel token does not widen the list.
    token = tk.hs256({"sub": "44", "channel": channel}, SECRET)
    await expect_codes(u44, [("44 with a channel token", "subscribe",
                              {"channel": channel, "token": token}, 111)])
    # In a `token` namespace, a listed user still needs the token.
    await expect_codes(u42, [("42 in private:#42 without token", "subscribe",
                              {"channel": "private:#42"}, 120)])
    after = refusals(server.port)
    key = metric("subscribe", "user_limited")
    check(after[key] - before.get(key, 0) == 3, f"{key} counted 3", (before, after))
    resp = post(server.port, "publish", {"channel": channel, "data": "from the backend"})
    check(resp.status == 200, "the server API publishes to a user-limited channel", resp.body)
    for c in (u42, u43, u44, anon):
        await c.close()


if __name__ == "__main__":
    suite.main()
