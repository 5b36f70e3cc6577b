#!/usr/bin/python3
"""TLS to Redis (rediss://): Herald nodes against a real redis-server listening on a TLS port only
(`--port 0 --tls-port P`), with a test CA, server and client certificates made by `openssl` in a
temporary directory for each run; everything on loopback, every process stopped by its pid.

- two nodes over rediss://, the server's certificate verified against redis_tls_ca, and a
  client certificate (redis_tls_cert/redis_tls_key) presented to a Redis with
  `tls-auth-clients yes`: /ready is 200 and a publish through either node reaches the
  subscribers of both, in one order;
- a node that trusts another CA refuses the Redis certificate: one log line says "certificate
  verify failed", /ready answers 503, a publish fails with 503, nothing reaches Redis, and
  /metrics counts the failed connects with both connections down;
- a Redis certificate that does not name the URL's host (rediss://localhost with a certificate
  for 127.0.0.1 only) is refused the same way ("hostname mismatch");
- a node without a client certificate, to a Redis that requires one, is refused (the Redis
  alert is logged) and stays not ready;
- a CA file that is not PEM stops the start with one line naming redis_tls_ca;
- a Redis Cluster of three TLS-only masters (`tls-cluster yes`): the nodes read the slots over
  TLS at start (CLUSTER SLOTS through a rediss:// seed) and publish and subscribe across nodes.

Usage: /usr/bin/python3 test_redis_tls.py --herald build/<dir>/apps/herald/herald [-k SUBSTRING]
"""

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import herald_redis  # noqa: E402
from herald_checks import Failure, check, current_step, step  # noqa: E402
from herald_harness import Herald, _kill_all_servers, run_cases  # noqa: E402
from test_protocol import Client, expect_consecutive  # noqa: E402
from test_redis import api, drain, metrics  # noqa: E402


def openssl(*args):
    r = subprocess.run(["openssl", *args], capture_output=True, timeout=60, check=False)
    if r.returncode != 0:
        raise Failure(f"openssl {args[0]}", "exit 0", r.stderr.decode(errors="replace")[-300:])


class Pki:
    """A test CA and certificates it signs, in a temporary directory."""

    def __init__(self, directory, name):
        self.dir = directory
        self.name = name
        self.ca_key = self.path("ca.key")
        self.ca = self.path("ca.pem")
        step(f"openssl: make the test CA '{name}'")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", self.ca_key, "-out", self.ca, "-days", "2", "-subj", f"/CN={name}")

    def path(self, file):
        return os.path.join(self.dir, f"{self.name}-{file}")

    def issue(self, cn, san=None):
        """(certificate, key) signed by this CA, with subjectAltName `san` when given."""
        key, csr, cert = self.path(f"{cn}.key"), self.path(f"{cn}.csr"), self.path(f"{cn}.pem")
        step(f"openssl: '{self.name}' issues a certificate for {cn} ({san or 'no SAN'})")
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", key, "-out", csr, "-subj", f"/CN={cn}")
        extra = []
        if san:
            ext = self.path(f"{cn}.ext")
            with open(ext, "w") as f:
                f.write(f"subjectAltName={san}\n")
            extra = ["-extfile", ext]
        openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key,
                "-CAcreateserial", "-out", cert, "-days", "2", *extra)
        return cert, key


def node_config(directory, name, ca=None, cert=None, key=None):
    path = os.path.join(directory, f"{name}.yaml")
    with open(path, "w") as f:
        f.write("allow_anonymous: true\n")
        if ca:
            f.write(f'redis_tls_ca: "{ca}"\n')
        if cert:
            f.write(f'redis_tls_cert: "{cert}"\nredis_tls_key: "{key}"\n')
    return path


def start_node(binary, config, url, prefix):
    return Herald(binary, ["--config", config, "--redis", url, "--redis-prefix", prefix,
                           "--threads", "2"]).start()


def ready_status(node):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{node.port}/ready", timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def wait_log(node, needle, timeout=10):
    step(f"the node logs '{needle}'")
    deadline = time.monotonic() + timeout
    while needle not in node.stderr_text():
        if time.monotonic() > deadline:
            raise Failure(current_step(), f"a log line with '{needle}'", node.stderr_tail(8))
        time.sleep(0.05)
    return [line for line in node.stderr_text().splitlines() if needle in line]


def expect_refused(node, needle, redis):
    """The node logs why, says not ready and refuses publishes; Redis holds no key of it."""
    lines = wait_log(node, needle)
    check(len(lines) <= 2, "said once per connection (commands, subscriber), not at every retry",
          lines)
    check(all("redis broker" in line for line in lines), "a line of the Redis broker", lines)
    time.sleep(0.3)  # a few reconnect attempts: still refused, still not repeated
    lines = [line for line in node.stderr_text().splitlines() if needle in line]
    check(len(lines) <= 2, "not repeated at every retry", lines)
    step("/ready answers 503 while Redis is refused")
    check(ready_status(node) == 503, "/ready 503", ready_status(node))
    m, _ = metrics(node)
    check(m['herald_redis_connect_failures_total{role="command"}'] >= 1 and
          m['herald_redis_connections{role="command",state="down"}'] == 1 and
          m['herald_redis_connections{role="subscriber",state="down"}'] == 1,
          "/metrics: connect failures counted, both connections down",
          {k: v for k, v in m.items() if k.startswith("herald_redis_conn")})
    status, body, _ = api(node, "publish", {"channel": "c", "data": 1})
    check(status == 503, "a publish fails with 503 (Redis unavailable)", (status, body))
    keys = redis.command("KEYS", "*")
    check(keys == "", "nothing written to Redis", keys)


async def two_nodes_over_tls(binary, work, pki, other):
    cert, key = pki.issue("redis", "IP:127.0.0.1")
    client_cert, client_key = pki.issue("herald-node")
    redis = herald_redis.RedisServer(
        tls=herald_redis.TlsFiles(cert, key, pki.ca, auth_clients=True)).start()
    step("the plain port is closed: only TLS reaches this Redis")
    check(redis.url.startswith("rediss://"), "a rediss:// URL", redis.url)
    config = node_config(work, "good", ca=pki.ca, cert=client_cert, key=client_key)
    a = start_node(binary, config, redis.url, "tls")
    b = start_node(binary, config, redis.url, "tls")
    for n in (a, b):
        check(ready_status(n) == 200, "/ready 200 over TLS", ready_status(n))
    check("TLS to Redis, trusting CA" in a.stderr_text(), "the start logs the CA it trusts",
          a.stderr_tail(5))
    subs = [await Client.open(n, f"subscriber on node {i}") for i, n in enumerate((a, b))]
    for s in subs:
        await s.subscribe("chat:tls")
    for i in range(100):
        status, body, _ = api((a, b)[i % 2], "publish", {"channel": "chat:tls", "data": {"i": i}})
        check(status == 200 and body["result"]["offset"] == i + 1,
              f"publish {i} over rediss:// gets offset {i + 1}", (status, body))
    for s in subs:
        await s.wait_offsets("chat:tls", 100)
        await drain(s, 0.1)
        expect_consecutive(s.offsets["chat:tls"], 1, 100, "both nodes' subscribers over TLS")
        await s.close()
    clients = redis.command("CLIENT", "LIST")
    check(clients.count("\n") >= 3, "the nodes' connections in Redis' CLIENT LIST", clients)
    redis.stop()


async def wrong_ca(binary, work, pki, other):
    cert, key = pki.issue("redis", "IP:127.0.0.1")
    redis = herald_redis.RedisServer(tls=herald_redis.TlsFiles(cert, key, pki.ca)).start()
    node = start_node(binary, node_config(work, "other-ca", ca=other.ca), redis.url, "tls")
    expect_refused(node, "certificate verify failed", redis)
    redis.stop()


async def hostname_mismatch(binary, work, pki, other):
    cert, key = pki.issue("redis", "IP:127.0.0.1")
    redis = herald_redis.RedisServer(tls=herald_redis.TlsFiles(cert, key, pki.ca)).start()
    url = f"rediss://localhost:{redis.port}"
    node = start_node(binary, node_config(work, "good-ca", ca=pki.ca), url, "tls")
    expect_refused(node, "hostname mismatch", redis)
    redis.stop()


async def client_certificate_required(binary, work, pki, other):
    cert, key = pki.issue("redis", "IP:127.0.0.1")
    redis = herald_redis.RedisServer(
        tls=herald_redis.TlsFiles(cert, key, pki.ca, auth_clients=True)).start()
    node = start_node(binary, node_config(work, "no-client-cert", ca=pki.ca), redis.url, "tls")
    expect_refused(node, "certificate required", redis)
    redis.stop()


async def unreadable_ca(binary, work, pki, other):
    bad = os.path.join(work, "not-a-ca.pem")
    with open(bad, "w") as f:
        f.write("hello\n")
    step("a CA file without a certificate stops the start with one line")
    proc = subprocess.run([binary, "serve", "--listen", "127.0.0.1:0", "--config",
                           node_config(work, "bad-ca", ca=bad), "--redis", "rediss://127.0.0.1:1"],
                          capture_output=True, timeout=20, check=False)
    err = proc.stderr.decode(errors="replace")
    check(proc.returncode != 0 and f"redis_tls_ca {bad}: no PEM certificate" in err,
          "a non-zero exit naming redis_tls_ca and the file", (proc.returncode, err[-300:]))


async def cluster_over_tls(binary, work, pki, other):
    cert, key = pki.issue("redis", "IP:127.0.0.1")
    client_cert, client_key = pki.issue("herald-node")
    files = herald_redis.TlsFiles(cert, key, pki.ca, auth_clients=True)
    redis = [herald_redis.RedisServer(cluster=True, tls=files).start() for _ in range(3)]
    herald_redis.create_cluster(redis)
    config = node_config(work, "cluster", ca=pki.ca, cert=client_cert, key=client_key)
    nodes = [Herald(binary, ["--config", config, "--redis", redis[0].url, "--redis-cluster",
                             "--redis-prefix", "tlsc", "--threads", "2"]).start()
             for _ in range(2)]
    for n in nodes:
        check(ready_status(n) == 200, "/ready 200: every master reached over TLS",
              (ready_status(n), n.stderr_tail(5)))
    channels = [f"feed:c{i}" for i in range(6)]  # spread over the masters' slots
    subs = [await Client.open(n, f"subscriber on node {i}") for i, n in enumerate(nodes)]
    for s in subs:
        for ch in channels:
            await s.subscribe(ch)
    for i, ch in enumerate(channels):
        for k in range(5):
            status, body, _ = api(nodes[(i + k) % 2], "publish", {"channel": ch, "data": k})
            check(status == 200 and body["result"]["offset"] == k + 1,
                  f"publish {k} to {ch} over TLS", (status, body))
    for s in subs:
        for ch in channels:
            await s.wait_offsets(ch, 5)
            expect_consecutive(s.offsets[ch], 1, 5, f"{ch} on both nodes over TLS")
    used = [r for r in redis if r.command("PUBSUB", "SHARDCHANNELS", "tlsc:*")]
    check(len(used) >= 2, "the channels' sharded subscriptions on several masters",
          [r.command("PUBSUB", "SHARDCHANNELS", "tlsc:*") for r in redis])
    for s in subs:
        await s.close()
    for r in redis:
        r.stop()


CASES = [
    ("two nodes over rediss:// with a client certificate: one order on both",
     two_nodes_over_tls),
    ("a Redis certificate from another CA is refused: logged once, /ready 503", wrong_ca),
    ("a Redis certificate not naming the URL's host is refused", hostname_mismatch),
    ("no client certificate for a Redis with tls-auth-clients yes: refused", client_certificate_required),
    ("a CA file that is not PEM stops the start", unreadable_ca),
    ("a Redis Cluster over TLS: slots read over TLS, publish and subscribe across nodes",
     cluster_over_tls),
]


def main():
    ap = argparse.ArgumentParser(description="Herald integration tests: TLS to Redis")
    ap.add_argument("--herald", required=True)
    ap.add_argument("-k", action="append", default=[])
    opts = ap.parse_args()
    if not herald_redis.available() or shutil.which("openssl") is None:
        print("FAIL: redis-server and openssl are needed (scripts/deps --test)", flush=True)
        sys.exit(1)
    cases = [c for c in CASES if not opts.k or any(k in c[0] for k in opts.k)]

    def run(case):
        work = tempfile.mkdtemp(prefix="herald-redis-tls-")
        try:
            pki = Pki(work, "test-ca")
            other = Pki(work, "other-ca")
            asyncio.run(asyncio.wait_for(case[1](opts.herald, work, pki, other), 60))
        finally:
            _kill_all_servers()  # before their Redis
            herald_redis._stop_all()
            shutil.rmtree(work, ignore_errors=True)

    run_cases("redis tls", opts.herald, cases, run)

if __name__ == "__main__":
    main()
