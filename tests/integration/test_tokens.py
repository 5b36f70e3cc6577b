#!/usr/bin/python3
"""Connection tokens and the server API's disconnect, as a backend would use them: tokens made by
Python's own hmac (an independent HS256 implementation) and by `herald token`; the user id and
info of a token show in presence; a bad or expired token is refused with error 120 and the
documented close code; a token that expires while connected ends the connection with 4004;
POST /api/disconnect ends every connection of one user on every loop and no other; protocol
violations beyond one command (binary frame, unknown protocol version) close the connection.

Usage: /usr/bin/python3 test_tokens.py --herald build/<dir>/apps/herald/herald [-k SUBSTRING]
"""

import asyncio
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import time

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from herald_checks import check, step  # noqa: E402
from herald_harness import Suite  # noqa: E402
from test_api import json_of, post  # noqa: E402
from herald_links import WS_PATH as PATH  # noqa: E402
from test_protocol import Client  # noqa: E402

suite = Suite("connection tokens and API disconnect")

SECRET = "0123456789abcdef0123456789abcdef-test"
ARGS = ("--token-secret", SECRET, "--threads", "2")


def b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def make_token(claims, secret=SECRET, alg="HS256"):
    header = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims).encode())
    signing_input = f"{header}.{payload}".encode()
    sig = b64(hmac.new(secret.encode(), signing_input, hashlib.sha256).digest())
    return f"{header}.{payload}.{sig}"


async def open_with(port, token, name="client", data=None):
    """Connects and sends connect with the token; returns (ws, connect reply)."""
    step(f"{name} connects with a token")
    ws = await asyncio.wait_for(websockets.connect(f"ws://127.0.0.1:{port}{PATH}"), 5)
    params = {"token": token}
    if data is not None:
        params["data"] = data
    await ws.send(json.dumps({"id": 1, "method": "connect", "params": params}))
    lines = (await asyncio.wait_for(ws.recv(), 5)).split("\n")
    return ws, [json.loads(line) for line in lines]


async def expect_close(ws, code, what, timeout=10):
    step(f"waiting for close {code}: {what}")
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    except websockets.ConnectionClosed as e:
        check(e.rcvd is not None and e.rcvd.code == code, f"closed with {code}: {what}",
              e.rcvd and e.rcvd.code)


@suite.case("a valid token gives the user id and info shown in presence", args=ARGS)
async def valid_token(server):
    token = make_token({"sub": "42", "info": {"name": "Ann"}, "exp": int(time.time()) + 3600})
    ws, lines = await open_with(server.port, token, "user 42", data={"ignored": True})
    check("result" in lines[0], "connect accepted", lines)
    client = lines[0]["result"]["client"]
    await ws.send(json.dumps({"id": 2, "method": "subscribe", "params": {"channel": "room"}}))
    check("result" in json.loads(await ws.recv()), "subscribed", "")
    p = json_of(post(server.port, "presence", {"channel": "room"}), "presence")["result"]
    check(p["clients"][client] == {"user": "42", "client": client, "info": {"name": "Ann"}},
          "presence shows the token's user and info (over the connect data)", p)
    stats = json_of(post(server.port, "presence_stats", {"channel": "room"}), "s")["result"]
    check(stats == {"num_clients": 1, "num_users": 1}, "one user", stats)
    await ws.close()


@suite.case("`herald token` makes tokens the server accepts", args=ARGS)
async def herald_token_command(server):
    out = subprocess.run([server.argv[0], "token", "--user", "7", "--info", '{"n":1}',
                          "--secret", SECRET], capture_output=True, text=True, timeout=10)
    check(out.returncode == 0, "herald token exits 0", out.stderr)
    ws, lines = await open_with(server.port, out.stdout.strip(), "user 7")
    check("result" in lines[0], "accepted", lines)
    await ws.close()


@suite.case("bad tokens get error 120 then a disconnect push and close 4501", args=ARGS)
async def bad_tokens(server):
    good = make_token({"sub": "1"})
    cases = {
        "wrong secret": make_token({"sub": "1"}, secret="another secret of enough length!!"),
        "tampered payload": good.split(".")[0] + "." + b64(b'{"sub":"admin"}') + "." +
                            good.split(".")[2],
        "alg none": b64(b'{"alg":"none"}') + "." + b64(b'{"sub":"1"}') + ".",
        "not a JWT": "hello",
    }
    for what, token in cases.items():
        ws, lines = await open_with(server.port, token, what)
        check(lines[0].get("error", {}).get("code") == 120, f"{what}: error 120", lines)
        check(len(lines) > 1 and lines[1].get("push") == "disconnect" and
              lines[1]["code"] == 4501 and lines[1]["reconnect"] is False,
              f"{what}: disconnect push 4501, no reconnect", lines)
        await expect_close(ws, 4501, what)


@suite.case("an expired token gets 4004 (reconnect with a fresh one)", args=ARGS)
async def expired_token(server):
    ws, lines = await open_with(server.port, make_token({"sub": "1", "exp": int(time.time()) - 5}))
    check(lines[0].get("error", {}).get("code") == 120, "error 120", lines)
    check(lines[1]["code"] == 4004 and lines[1]["reconnect"] is True, "push 4004, reconnect",
          lines)
    await expect_close(ws, 4004, "expired token")


@suite.case("a token that expires while connected ends the connection with 4004", args=ARGS)
async def expires_while_connected(server):
    exp = int(time.time()) + 2
    ws, lines = await open_with(server.port, make_token({"sub": "9", "exp": exp}))
    check("result" in lines[0], "accepted while valid", lines)
    # Ended by the expiry, not before it; how soon after is timing (a bound only as a timeout).
    await expect_close(ws, 4004, "token expiry", timeout=15)
    check(time.time() >= exp - 1, "not before exp", (time.time(), exp))


@suite.case("API disconnect ends every connection of the user, on both loops, only them",
            args=ARGS)
async def api_disconnect(server):
    token42 = make_token({"sub": "42"})
    mine = [await open_with(server.port, token42, f"42 #{i}") for i in range(4)]
    other = await Client.open(server, "anonymous")
    ws7, _ = await open_with(server.port, make_token({"sub": "7"}), "user 7")
    for i, (ws, _) in enumerate(mine):
        await ws.send(json.dumps({"id": 2, "method": "subscribe", "params": {"channel": "d"}}))
        json.loads(await ws.recv())
    await other.subscribe("d")
    resp = post(server.port, "disconnect", {"user": "42"})
    check(resp.status == 200 and json_of(resp, "d") == {"result": {}}, "200 {}", resp.body)
    for i, (ws, _) in enumerate(mine):
        step(f"42 #{i} gets disconnect 4503")
        push = None
        try:
            while True:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if msg.get("push") == "disconnect":
                    push = msg
        except websockets.ConnectionClosed as e:
            check(e.rcvd is not None and e.rcvd.code == 4503, "closed with 4503",
                  e.rcvd and e.rcvd.code)
        check(push is not None and push["code"] == 4503 and push["reconnect"] is False,
              "a disconnect push 4503 first", push)
    pong = await other.call("ping")
    check("result" in pong, "the anonymous client stays", pong)
    await ws7.send(json.dumps({"id": 9, "method": "ping"}))
    check(json.loads(await ws7.recv()).get("id") == 9, "user 7 stays", "")
    for _ in range(100):
        s = json_of(post(server.port, "presence_stats", {"channel": "d"}), "s")["result"]
        if s["num_clients"] == 1:
            break
        await asyncio.sleep(0.02)
    check(s == {"num_clients": 1, "num_users": 0}, "presence cleaned of user 42", s)
    bad = post(server.port, "disconnect", {"user": ""})
    check(bad.status == 400, "an empty user is refused", bad.status)
    await other.close()
    await ws7.close()


@suite.case("without a secret a token is refused (4501); anonymous still works")
async def no_secret(server):
    ws, lines = await open_with(server.port, make_token({"sub": "1"}))
    check(lines[0].get("error", {}).get("code") == 120, "error 120", lines)
    await expect_close(ws, 4501, "no secret configured")
    c = await Client.open(server, "anonymous")
    await c.close()


_dir = tempfile.mkdtemp(prefix="herald-token-test-")
STRICT = os.path.join(_dir, "strict.yaml")
with open(STRICT, "w") as f:
    f.write(f"token_hmac_secret: \"{SECRET}\"\nallow_anonymous: false\n")


@suite.case("allow_anonymous: false requires a token", args=("--config", STRICT))
async def token_required(server):
    ws = await websockets.connect(f"ws://127.0.0.1:{server.port}{PATH}")
    await ws.send('{"id":1,"method":"connect"}')
    lines = [json.loads(x) for x in (await ws.recv()).split("\n")]
    check(lines[0]["error"]["code"] == 120 and lines[1]["code"] == 4501, "120 then 4501", lines)
    await expect_close(ws, 4501, "no token")
    ok, lines = await open_with(server.port, make_token({"sub": "3"}))
    check("result" in lines[0], "a token gets in", lines)
    await ok.close()


@suite.case("a binary frame closes with 4500; protocol 2 gets 121 then 4505")
async def protocol_violations(server):
    ws = await websockets.connect(f"ws://127.0.0.1:{server.port}{PATH}")
    await ws.send(b'{"id":1,"method":"connect"}')
    await expect_close(ws, 4500, "binary frame")
    ws = await websockets.connect(f"ws://127.0.0.1:{server.port}{PATH}")
    await ws.send('{"id":1,"method":"connect","params":{"protocol":2}}\n{"id":2,"method":"ping"}')
    lines = [json.loads(x) for x in (await ws.recv()).split("\n")]
    check(lines[0]["error"]["code"] == 121, "error 121", lines)
    check(lines[1].get("push") == "disconnect" and lines[1]["code"] == 4505, "push 4505", lines)
    check(len(lines) == 2, "the ping after it is not run", lines)
    await expect_close(ws, 4505, "unsupported protocol")


if __name__ == "__main__":
    suite.main()
