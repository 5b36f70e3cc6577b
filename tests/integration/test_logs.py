#!/usr/bin/python3
"""Herald's log as a log shipper reads it: with `--log-format json` every stderr line is one JSON
object (ts, level, then event and fields or msg), with logfmt every line is key=value pairs; one
line per connect and disconnect on every transport with its transport, reason and duration; the
lines of a run that used connection tokens, channel tokens, the API key and message bodies hold
none of them; and a connection flood is cut by the rate limit (log_rate) into a bounded number
of lines, a "log_suppressed" summary and herald_log_lines_suppressed_total.

Usage: /usr/bin/python3 test_logs.py --herald build/<dir>/apps/herald/herald [-k SUBSTRING]
"""

import asyncio
import json
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import herald_links  # noqa: E402
from herald_checks import check, step  # noqa: E402
from herald_harness import Suite, ws_connect  # noqa: E402
from test_api import post  # noqa: E402
from test_metrics import samples, scrape  # noqa: E402
from test_protocol import Client  # noqa: E402
from test_tokens import SECRET, make_token  # noqa: E402

suite = Suite("structured logs")

API_KEY = "log-test-api-key-0b1c2d3e4f"
BODY = "BODY-SENTINEL-7f3a9"
SECRETS_ARGS = ("--token-secret", SECRET, "--api-key", API_KEY, "--tcp-listen", "127.0.0.1:0",
                "--threads", "2")
TRANSPORTS = ("websocket", "sse", "poll", "tcp")


def json_lines(text):
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    for obj in lines:
        check(isinstance(obj, dict) and "ts" in obj and "level" in obj,
              "every line is an object with ts and level", obj)
        check("event" in obj or "msg" in obj, "every line has an event or a msg", obj)
    return lines


async def wait_lines(server, parse, want, what, timeout=10):
    """The parsed log once want(lines) holds (a disconnect is logged on the server's turn)."""
    step(what)
    deadline = time.monotonic() + timeout
    while True:
        lines = parse(server.stderr_text())
        if want(lines) or time.monotonic() > deadline:
            check(want(lines), what, server.stderr_tail())
            return lines
        await asyncio.sleep(0.05)


async def session_with_secrets(server):
    """Clients on every transport connect with a token, subscribe with a channel token and
    publish a body; the API publishes with the key; then everyone leaves. Returns the tokens."""
    now = int(time.time())
    tokens = []
    clients = []
    for i, transport in enumerate(TRANSPORTS):
        token = make_token({"sub": f"user-{i}", "exp": now + 3600})
        tokens.append(token)
        c = Client(await herald_links.connect(server, transport, transport=transport))
        r = await c.call("connect", {"token": token})
        check("result" in r, f"{transport}: connected with a token", r)
        channel_token = make_token({"sub": f"user-{i}", "channel": "logs:room", "exp": now + 3600})
        tokens.append(channel_token)
        r = await c.call("subscribe", {"channel": "logs:room", "token": channel_token})
        check("result" in r, f"{transport}: subscribed with a channel token", r)
        clients.append(c)
    r = await clients[0].call("publish", {"channel": "logs:room", "data": {"text": BODY}})
    check("result" in r, "a client publish", r)
    resp = post(server.port, "publish", {"channel": "logs:room", "data": {"text": BODY + "-api"}},
                headers=f"X-API-Key: {API_KEY}\r\n".encode())
    check(resp.status == 200, "an API publish with the key", resp.body[:200])
    for c in clients:
        await c.wait_offsets("logs:room", 2)
    for c in clients:
        await c.close()
    return tokens


def connects_and_disconnects(lines):
    got = {(line.get("event"), line.get("transport")) for line in lines}
    return all(("connect", t) in got and ("disconnect", t) in got for t in TRANSPORTS)


@suite.case("json: one object per line; connect and disconnect on every transport; no secrets",
            args=SECRETS_ARGS + ("--log-format", "json"), own_server=True)
async def json_no_secrets(server):
    tokens = await session_with_secrets(server)
    lines = await wait_lines(server, json_lines, connects_and_disconnects,
                             "a connect and a disconnect line for every transport")
    for line in lines:
        if line.get("event") == "disconnect":
            check(isinstance(line.get("duration_s"), float) and line["duration_s"] >= 0,
                  "a disconnect's duration in seconds", line)
            check(line.get("reason") in ("client_closed", "network_error", "timeout",
                                         "server_closed"), "a disconnect's reason", line)
            check(isinstance(line.get("conn"), int), "the connection id", line)
        if line.get("event") == "connect" and line["transport"] in ("websocket", "tcp", "sse"):
            check(line.get("remote", "").startswith("127.0.0.1:"), "the peer address", line)
    text = server.stderr_text()
    for secret, what in [(SECRET, "the token secret"), (API_KEY, "the API key"),
                         (BODY, "a message body")] + [(t, "a token") for t in tokens] + [
                            (t.split(".")[2], "a token's signature") for t in tokens]:
        check(secret not in text, f"{what} is not in the log", secret)


@suite.case("logfmt: key=value lines; the --log-level flag is obeyed",
            args=("--log-format", "logfmt"), own_server=True)
async def logfmt_lines(server):
    c = await Client.open(server, "client")
    await c.close()
    pattern = re.compile(r'^ts=\S+ level=(info|warn|error|debug|trace|critical) (msg|event)=')

    def parse(text):
        lines = [line for line in text.splitlines() if line.strip()]
        for line in lines:
            check(pattern.match(line) is not None, "a logfmt line", line)
        return lines
    lines = await wait_lines(server, parse,
                             lambda ls: any("event=disconnect transport=websocket" in l
                                            for l in ls), "a logfmt disconnect line")
    check(any(l.startswith("ts=") and " msg=" in l for l in lines),
          "spdlog messages (the start-up lines) as msg=", lines[:3])


@suite.case("--log-level warn: no connect or disconnect lines",
            args=("--log-format", "json", "--log-level", "warn"), own_server=True)
async def level_warn(server):
    c = await Client.open(server, "client")
    await c.close()
    await asyncio.sleep(0.3)  # a line that should not come would come within a loop turn
    lines = json_lines(server.stderr_text())
    check(all(line["level"] != "info" for line in lines), "nothing below warn", lines)


RATE_CONFIG = tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="herald-logs-", delete=False)
RATE_CONFIG.write("log_rate: 5\n")  # per loop and event: bursts of 10
RATE_CONFIG.close()


@suite.case("a connection flood: bounded lines, a log_suppressed summary, a metric",
            args=("--log-format", "json", "--threads", "1", "--config", RATE_CONFIG.name),
            own_server=True, timeout=60)
async def flood(server):
    for i in range(200):
        ws = await ws_connect(server, "/chat", f"flood {i}")
        await ws.close()
    lines = json_lines(server.stderr_text())
    connects = [line for line in lines if line.get("event") == "connect"]
    check(len(connects) <= 30, "at most the burst (10) plus refills logged", len(connects))
    await asyncio.sleep(1.2)  # tokens come back
    ws = await ws_connect(server, "/chat", "after the flood")
    await ws.close()
    lines = await wait_lines(
        server, json_lines,
        lambda ls: any(l.get("event") == "log_suppressed" and
                       l.get("suppressed_event") == "connect" for l in ls),
        "a log_suppressed summary for connect")
    summary = [l for l in lines if l.get("event") == "log_suppressed" and
               l.get("suppressed_event") == "connect"]
    check(sum(l["lines"] for l in summary) >= 150, "the summary counts what was dropped", summary)
    s = samples(scrape(server.port))
    check(s['herald_log_lines_suppressed_total{event="connect"}'] >= 150,
          "herald_log_lines_suppressed_total counts it", s)


if __name__ == "__main__":
    suite.main()
