#!/usr/bin/python3
"""/metrics as an operator's Prometheus sees it: after traffic on every transport (WebSocket, SSE,
long-polling, raw TCP), server API publishes into durable history and limits being hit, the
exposition passes `promtool check metrics` and its figures say what happened (client
connections by transport, closes by reason, histograms of publish-to-delivery and command
duration, store commits, limit and API key refusals, per-loop figures, process figures); and a
real Prometheus server started here scrapes Herald and answers PromQL over a Herald histogram
through its HTTP API.

Usage: /usr/bin/python3 test_metrics.py --herald build/<dir>/apps/herald/herald [-k SUBSTRING]
"""

import asyncio
import math
import os
import re
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import herald_links  # noqa: E402
import herald_prometheus as prom  # noqa: E402
import herald_redis  # noqa: E402
from herald_checks import check, step  # noqa: E402
from herald_harness import Suite  # noqa: E402
from test_api import post  # noqa: E402
from test_protocol import Client  # noqa: E402

suite = Suite("metrics (promtool, Prometheus)")

CONFIG = tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="herald-metrics-", delete=False)
CONFIG.write("max_subscriptions: 2\napi_key: metrics-test-key\n")
CONFIG.close()
ARGS = ("--threads", "2", "--tcp-listen", "127.0.0.1:0", "--config", CONFIG.name)
KEY = b"X-API-Key: metrics-test-key\r\n"

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$")


def scrape(port):
    step("GET /metrics")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        check(r.status == 200, "/metrics answers 200", r.status)
        check(r.headers["Content-Type"].startswith("text/plain; version=0.0.4"),
              "the Prometheus text content type", r.headers["Content-Type"])
        return r.read().decode()


def samples(text):
    """{'name{labels}': value} of every sample line."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        check(m is not None, "a well-formed sample line", line)
        out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


async def settled(port, name, want, timeout=10):
    """The exposition once sample `name` equals want (a close is counted on the server's turn)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        text = scrape(port)
        if samples(text).get(name) == want or loop.time() > deadline:
            return text
        await asyncio.sleep(0.05)


async def traffic(server):
    """Every transport connects; publishes go through the API and clients; limits are hit."""
    subs = []
    for transport in ("websocket", "sse", "poll", "tcp"):
        c = Client(await herald_links.connect(server, f"{transport} subscriber",
                                              transport=transport))
        r = await c.call("connect")
        check("result" in r, f"{transport}: connected", r)
        await c.subscribe("metrics:room")
        subs.append(c)
    publisher = await Client.open(server, "publisher")
    for i in range(5):
        r = await publisher.call("publish", {"channel": "metrics:room", "data": {"n": i}})
        check("result" in r, "a client publish", r)
    for i in range(5):
        resp = post(server.port, "publish", {"channel": "metrics:room", "data": {"api": i}},
                    headers=KEY)
        check(resp.status == 200, "an API publish", resp.body[:200])
    for c in subs:
        await c.wait_offsets("metrics:room", 10)
    # Limits: a third subscription (max_subscriptions: 2), API calls without and with a wrong key.
    await publisher.subscribe("metrics:a")
    await publisher.subscribe("metrics:b")
    r = await publisher.call("subscribe", {"channel": "metrics:c"})
    check(r.get("error", {}).get("code") == 110, "the third subscription is refused (110)", r)
    check(post(server.port, "publish", {"channel": "x", "data": 1}).status == 401,
          "no key: 401", "")
    check(post(server.port, "publish", {"channel": "x", "data": 1},
               headers=b"X-API-Key: nope\r\n").status == 401, "a wrong key: 401", "")
    await publisher.close()
    return subs


@suite.case("/metrics after traffic on every transport passes promtool and tells what happened",
            args=ARGS)
async def promtool_and_figures(server):
    subs = await traffic(server)
    text = await settled(server.port, 'herald_client_connections{transport="websocket"}', 1)
    code, out = prom.promtool_check_metrics(text)
    check(code == 0, "promtool check metrics exits 0", out[-2000:])
    s = samples(text)
    for transport in ("websocket", "sse", "poll", "tcp"):
        check(s.get(f'herald_client_connections{{transport="{transport}"}}', 0) >= 1,
              f"an open {transport} client connection counted", text[:0])
        check(s.get(f'herald_client_connections_opened_total{{transport="{transport}"}}', 0) >= 1,
              f"{transport} opened counted", "")
    check(s['herald_client_connections{transport="websocket"}'] == 1,
          "the publisher's close is no longer counted open", s)
    check(s['herald_client_connections_closed_total{transport="websocket",reason="client_closed"}']
          >= 1, "the publisher's close counted as client_closed", "")
    # 10 publications to 4 subscribers: at least 40 deliveries timed.
    check(s["herald_publish_delivery_seconds_count"] >= 40, "deliveries timed",
          s["herald_publish_delivery_seconds_count"])
    check(s['herald_publish_delivery_seconds_bucket{le="+Inf"}'] ==
          s["herald_publish_delivery_seconds_count"], "+Inf bucket == count", "")
    check(s['herald_command_duration_seconds_count{command="publish"}'] >= 5,
          "publish commands timed", "")
    check(s['herald_command_duration_seconds_count{command="subscribe"}'] >= 7,
          "subscribe commands timed", "")
    if herald_redis.SERVER is None:  # with --broker redis, history is Redis's: no local store
        check(s["herald_store_commit_seconds_count"] >= 1, "store commits timed", "")
    check(s['herald_limit_refusals_total{limit="max_subscriptions"}'] == 1,
          "the refused subscription counted", "")
    check(s['herald_api_key_refusals_total{reason="missing"}'] == 1, "a missing key counted", "")
    check(s['herald_api_key_refusals_total{reason="wrong"}'] == 1, "a wrong key counted", "")
    check(s["herald_subscriptions"] >= 4, "the subscriptions counted", s["herald_subscriptions"])
    check(s["herald_channels"] >= 1, "the channel counted", "")
    check(s['herald_loop_lag_seconds{loop="0"}'] >= 0 and 'herald_loop_lag_seconds{loop="1"}' in s,
          "a lag for each of the 2 loops", "")
    check(s['herald_loop_connections{loop="0"}'] + s['herald_loop_connections{loop="1"}'] >= 4,
          "per-loop connections", "")
    check(s["herald_received_bytes_total"] > 0 and s["herald_sent_bytes_total"] > 0,
          "socket bytes counted", "")
    check(s['herald_messages_received_total{transport="tcp"}'] >= 2, "TCP lines counted", "")
    check(s['herald_messages_sent_total{transport="sse"}'] >= 1, "SSE sends counted", "")
    check(s["process_resident_memory_bytes"] > 1 << 20, "RSS above 1 MiB", "")
    check(s["process_open_fds"] >= 5, "open fds", "")
    check(s["process_cpu_seconds_total"] > 0, "CPU time", "")
    for c in subs:
        await c.close()


@suite.case("a real Prometheus scrapes Herald and answers a PromQL query on a Herald histogram",
            args=ARGS, timeout=90)
async def prometheus_scrapes(server):
    if not prom.available():
        check(False, "prometheus and promtool installed (scripts/deps --test)", "not found")
    p = prom.PrometheusServer([f"127.0.0.1:{server.port}"]).start()
    try:
        p.wait_for('up{job="herald"}', lambda r: r and r[0]["value"][1] == "1",
                   "Prometheus scrapes Herald (up == 1)")
        subs = await traffic(server)
        # Quantiles from the merged per-loop buckets, as a dashboard asks for them.
        query = ("histogram_quantile(0.99, sum by (le) "
                 "(herald_publish_delivery_seconds_bucket{job=\"herald\"}))")

        def finite_positive(r):
            if not r:
                return False
            v = float(r[0]["value"][1])
            return math.isfinite(v) and 0 < v <= 10
        r = p.wait_for(query, finite_positive, "p99 publish-to-delivery latency from PromQL")
        step(f"p99 = {r[0]['value'][1]} s")
        p.wait_for('sum(herald_command_duration_seconds_count{command="publish"})',
                   lambda r: r and float(r[0]["value"][1]) >= 5, "publish durations in Prometheus")
        for c in subs:
            await c.close()
    finally:
        p.stop()


if __name__ == "__main__":
    suite.main()
