#!/usr/bin/python3
"""`herald sub` over the raw TCP transport and over TLS, against a real server: with
`--server tcp://HOST:PORT` (herald serve --tcp-listen) it prints publications, answers the
server's keepalives (an empty line) so a silent subscription is never dropped, recovers across a
server restart with nothing missed or printed twice, and exits 0 on SIGTERM having left the
channel. (That the library answers the keepalive line itself is checked by the unit test
LineConnection.LinesBothWaysKeepalivesAnsweredAndAPoliteClose: herald sub's own ping command,
sent after the same silence, would also keep the connection.) Over TLS (herald serve --tls-cert --tls-key, a certificate made by `openssl req` for
each run): wss:// (and https://) and tls:// with --ca-file print publications; without --ca-file
the certificate is refused (exit 1, the reason on stderr); a certificate for another address is
refused; --insecure-skip-tls-verify connects anyway and says so. herald pub / history / presence
over https:// the same way.

Usage: /usr/bin/python3 test_cli_sub_transports.py --herald build/<dir>/apps/herald/herald
"""

import atexit
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from herald_checks import Failure, check, current_step, step  # noqa: E402
from herald_harness import Herald, Suite  # noqa: E402
from test_cli_sub import Sub, offsets_of  # noqa: E402

suite = Suite("CLI over tcp://, tls://, wss:// and https://")

CERT_DIR = tempfile.mkdtemp(prefix="herald-sub-tls-")
atexit.register(shutil.rmtree, CERT_DIR, True)


def make_cert(name, san):
    """A P-256 self-signed certificate with these subjectAltNames; returns (cert, key)."""
    cert, key = os.path.join(CERT_DIR, name + ".pem"), os.path.join(CERT_DIR, name + ".key")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "2", "-subj", f"/CN={name}", "-addext", f"subjectAltName={san}"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, f"openssl req makes the certificate {name}", r.stderr)
    return cert, key


CERT, KEY = make_cert("loopback", "IP:127.0.0.1,DNS:localhost")
OTHER_CERT, OTHER_KEY = make_cert("elsewhere", "IP:10.1.2.3,DNS:herald.example")
TCP = ("--tcp-listen", "127.0.0.1:0")
TLS = ("--tls-cert", CERT, "--tls-key", KEY, "--memory") + TCP


def api(server, method, body):
    """POST /api/<method> over http or https (the server's own certificate trusted)."""
    ctx = None
    if server.scheme == "https":
        ctx = ssl.create_default_context(cafile=CERT)
    req = urllib.request.Request(f"{server.scheme}://127.0.0.1:{server.port}/api/{method}",
                                 data=json.dumps(body).encode(), method="POST")
    with urllib.request.urlopen(req, timeout=10, context=ctx) as resp:
        reply = json.loads(resp.read())
    check("result" in reply, f"a result from /api/{method}", reply)
    return reply["result"]


def metric(server, name):
    ctx = ssl.create_default_context(cafile=CERT) if server.scheme == "https" else None
    with urllib.request.urlopen(f"{server.scheme}://127.0.0.1:{server.port}/metrics", timeout=10,
                                context=ctx) as r:
        text = r.read().decode()
    m = re.search(rf"^{name} (\d+)$", text, re.M)
    check(m is not None, f"metric {name}", text[:200])
    return int(m.group(1))


def publish(server, channel, data):
    step(f"publish {json.dumps(data)} to {channel}")
    return api(server, "publish", {"channel": channel, "data": data})


def wait_subscribers(server, channel, n, timeout=10):
    step(f"wait until {channel} has {n} subscriber(s)")
    deadline = time.monotonic() + timeout
    got = None
    while time.monotonic() < deadline:
        got = api(server, "channels", {"pattern": channel})["channels"].get(channel, {})
        if got.get("num_clients", 0) == n:
            return
        time.sleep(0.02)
    raise Failure(current_step(), f"{n} subscriber(s) within {timeout}s", got)


def tcp_url(server):
    return f"{'tls' if server.scheme == 'https' else 'tcp'}://127.0.0.1:{server.tcp_port}"


def receive_three(server, channel, url, *args):
    """herald sub CHANNEL --count 3 at url prints the next three publications and exits 0."""
    sub = Sub(server.argv[0], server.port, channel, "--count", "3", *args, server_url=url)
    try:
        wait_subscribers(server, channel, 1)
        pubs = [publish(server, channel, {"n": i}) for i in range(3)]
        lines = sub.lines(3)
        check(sub.wait_exit() == 0, "exit 0 after --count 3", sub.stderr())
        check([(x["offset"], x["data"]) for x in lines] ==
              [(p["offset"], {"n": i}) for i, p in enumerate(pubs)],
              "the three publications in order, once each", lines)
        return sub
    finally:
        sub.kill()


# ---------------------------------------------------------------------------------------------
# The raw TCP transport


@suite.case("tcp://: prints publications, --count exits 0", args=TCP)
def tcp_receives(server):
    sub = receive_three(server, "tcp:a", tcp_url(server))
    check(sub.stderr() == "", "nothing on stderr", sub.stderr())


@suite.case("tcp://: a quiet subscription outlives keepalive rounds (ping 1 s, pong 1 s)",
            args=TCP + ("--ping-interval", "1", "--pong-timeout", "1", "--memory"),
            own_server=True, timeout=40)
def tcp_keepalive(server):
    sub = Sub(server.argv[0], server.port, "tcp:k", "--count", "1", server_url=tcp_url(server))
    try:
        wait_subscribers(server, "tcp:k", 1)
        lines0 = metric(server, "herald_tcp_lines_received_total")
        step("the subscriber answers three keepalives (an empty line after 1 s of silence each)")
        deadline = time.monotonic() + 15
        while metric(server, "herald_tcp_lines_received_total") < lines0 + 3:
            check(time.monotonic() < deadline, "three answered keepalives within 15 s",
                  (metric(server, "herald_tcp_lines_received_total") - lines0,
                   sub.stderr()))
            check(sub.proc.poll() is None, "herald sub still running", sub.stderr())
            time.sleep(0.1)
        check(metric(server, "herald_tcp_ping_timeouts_total") == 0, "nobody dropped for silence",
              metric(server, "herald_tcp_ping_timeouts_total"))
        pub = publish(server, "tcp:k", "still here")
        check(offsets_of(sub.lines(1)) == [pub["offset"]], "the publication arrives", sub.raw_lines)
        check(sub.wait_exit() == 0, "exit 0", sub.stderr())
        check("reconnecting" not in sub.stderr(), "no reconnect on the way", sub.stderr())
    finally:
        sub.kill()


@suite.case("tcp://: SIGTERM exits 0 and leaves the channel", args=TCP)
def tcp_sigterm(server):
    sub = Sub(server.argv[0], server.port, "tcp:t", server_url=tcp_url(server))
    try:
        wait_subscribers(server, "tcp:t", 1)
        step("SIGTERM to herald sub (by pid)")
        sub.proc.send_signal(signal.SIGTERM)
        check(sub.wait_exit(5) == 0, "exit 0 after SIGTERM", sub.stderr())
        wait_subscribers(server, "tcp:t", 0)
        check(metric(server, "herald_tcp_open") == 0, "the TCP connection is closed",
              metric(server, "herald_tcp_open"))
    finally:
        sub.kill()


def restart_same_ports(old):
    """SIGTERM `old`, start a new server on the same HTTP and TCP ports and data directory."""
    step(f"SIGTERM the server on ports {old.port}/{old.tcp_port}")
    check(old.stop() == 0, "exit 0 after SIGTERM", old.stderr_tail())
    new = Herald(old.argv[0], ["--data-dir", old.data_dir, "--tcp-listen",
                               f"127.0.0.1:{old.tcp_port}"], echo=False)
    new.argv[new.argv.index("127.0.0.1:0")] = f"127.0.0.1:{old.port}"
    return new.start()


@suite.case("tcp://: server restart: reconnect, recover, 1..20 once each", args=TCP,
            own_server=True, timeout=60)
def tcp_reconnect(server):
    sub = Sub(server.argv[0], server.port, "tcp:r", "--count", "20", server_url=tcp_url(server))
    new = None
    try:
        wait_subscribers(server, "tcp:r", 1)
        epoch = publish(server, "tcp:r", 1)["epoch"]
        for i in range(2, 11):
            publish(server, "tcp:r", i)
        check(offsets_of(sub.lines(10)) == list(range(1, 11)), "1..10 live", sub.raw_lines)
        new = restart_same_ports(server)
        for i in range(11, 16):  # most likely before the subscriber is back: recovered
            check(publish(new, "tcp:r", i) == {"offset": i, "epoch": epoch},
                  "durable history keeps offsets and epoch", i)
        wait_subscribers(new, "tcp:r", 1, timeout=30)
        for i in range(16, 21):
            publish(new, "tcp:r", i)
        lines = sub.lines(20, timeout=30)
        check(sub.wait_exit() == 0, "exit 0 after --count 20", sub.stderr())
        check([(x["offset"], x["epoch"], x["data"]) for x in lines] ==
              [(i, epoch, i) for i in range(1, 21)], "offsets 1..20 once each, in order", lines)
        check(len(sub.raw_lines) == 20, "exactly 20 lines", sub.raw_lines)
        check(re.search(r"reconnecting to \S+ in ", sub.stderr()), "the reconnect said on stderr",
              sub.stderr())
    finally:
        sub.kill()
        if new is not None:
            new.stop()


@suite.case("tcp:// URLs that cannot work exit 1 with a message", args=TCP)
def tcp_bad_urls(server):
    for url, says in [("tcp://127.0.0.1", "need a port"),
                      ("tcp://127.0.0.1:1/connection/websocket", "take no path"),
                      (f"tcp://127.0.0.1:{server.port}", "")]:  # HTTP port: not lines
        sub = Sub(server.argv[0], server.port, "tcp:u", server_url=url)
        try:
            rc = sub.wait_exit(15)
            check(rc == 1 and says in sub.stderr() and sub.stderr().startswith("herald sub: "),
                  f"exit 1 with '{says}' for {url}", (rc, sub.stderr()))
        finally:
            sub.kill()


# ---------------------------------------------------------------------------------------------
# TLS


@suite.case("tls:// and wss:// with --ca-file print publications", args=TLS)
def tls_receives(server):
    step("tls://")
    receive_three(server, "tls:a", tcp_url(server), "--ca-file", CERT)
    step("wss://")
    sub = receive_three(server, "tls:b", f"wss://127.0.0.1:{server.port}", "--ca-file", CERT)
    check(sub.stderr() == "", "nothing on stderr", sub.stderr())
    step("https:// (the same WebSocket) and the name localhost")
    receive_three(server, "tls:c", f"https://localhost:{server.port}", "--ca-file", CERT)


@suite.case("TLS verification: untrusted and misnamed certificates refused, --insecure-skip-"
            "tls-verify warns", args=TLS)
def tls_verification(server):
    for url, args, says in [
            (f"wss://127.0.0.1:{server.port}", (), "certificate verify failed: self-signed"),
            (tcp_url(server), (), "certificate verify failed: self-signed"),
            (f"wss://127.0.0.1:{server.port}", ("--ca-file", OTHER_CERT),
             "certificate verify failed"),
            (f"tcp://127.0.0.1:{server.tcp_port}", (), ""),  # plain lines to a TLS port
            (f"tls://127.0.0.1:{server.tcp_port}", ("--ca-file", "/nonexistent.pem"),
             "/nonexistent.pem")]:
        sub = Sub(server.argv[0], server.port, "tls:v", *args, server_url=url)
        try:
            rc = sub.wait_exit(15)
            check(rc == 1 and says in sub.stderr() and sub.stderr().startswith("herald sub: "),
                  f"exit 1 with '{says}' for {url} {args}", (rc, sub.stderr()))
            check(sub.raw_lines == [], "nothing printed", sub.raw_lines)
        finally:
            sub.kill()
    sub = receive_three(server, "tls:i", f"wss://127.0.0.1:{server.port}",
                        "--insecure-skip-tls-verify")
    check("--insecure-skip-tls-verify" in sub.stderr() and "not checked" in sub.stderr(),
          "the warning on stderr", sub.stderr())


@suite.case("herald pub and history over https:// with --ca-file; refused without", args=TLS)
def https_api_commands(server):
    base = f"https://127.0.0.1:{server.port}"
    herald = server.argv[0]

    def run(*args):
        step("herald " + " ".join(args))
        return subprocess.run([herald, *args], capture_output=True, text=True, timeout=30)

    r = run("pub", "tls:p", '{"x":1}', "--server", base, "--ca-file", CERT)
    check(r.returncode == 0, "pub exits 0", r.stderr)
    pub = json.loads(r.stdout)
    check(pub["channel"] == "tls:p" and pub["offset"] == 1, "the publication's position", pub)
    r = run("history", "tls:p", "--server", base, "--ca-file", CERT)
    check(r.returncode == 0 and json.loads(r.stdout)["data"] == {"x": 1},
          "history over https", (r.returncode, r.stdout, r.stderr))
    r = run("pub", "tls:p", "2", "--server", base)
    check(r.returncode == 1 and "certificate verify failed: self-signed" in r.stderr,
          "refused without --ca-file", (r.returncode, r.stderr))
    r = run("presence", "tls:p", "--server", base, "--insecure-skip-tls-verify")
    check(r.returncode == 0, "presence with --insecure-skip-tls-verify", r.stderr)
    check(api(server, "history", {"channel": "tls:p"})["offset"] == 1,
          "the refused pub published nothing", None)


@suite.case("TLS: a server whose certificate names another host is refused",
            args=("--tls-cert", OTHER_CERT, "--tls-key", OTHER_KEY, "--memory"))
def tls_wrong_host(server):
    sub = Sub(server.argv[0], server.port, "tls:h", "--ca-file", OTHER_CERT,
              server_url=f"wss://127.0.0.1:{server.port}")
    try:
        rc = sub.wait_exit(15)
        check(rc == 1 and "certificate verify failed" in sub.stderr() and
              "mismatch" in sub.stderr(), "exit 1: the address does not match",
              (rc, sub.stderr()))
    finally:
        sub.kill()


if __name__ == "__main__":
    suite.main()
