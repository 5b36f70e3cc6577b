#!/usr/bin/python3
"""`herald bench fanout` and `herald bench idle` over each transport (--transport websocket, tcp,
sse, poll) against a real server, small: every subscriber connects and subscribes, every
publication reaches every subscriber once and in order, and the JSON report says so; then the
same over TLS (wss:// and --tcp tls://, echo and broadcast on wss://) against a server with a
certificate made by `openssl req`, which the generator verifies with --ca-file and refuses
without it. The figures themselves are bench/RESULTS.md's business; this keeps the generator's
clients working.

Usage: /usr/bin/python3 test_bench.py --herald build/<dir>/apps/herald/herald [-k SUBSTRING]
"""

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from herald_checks import check, step  # noqa: E402
from herald_harness import Suite  # noqa: E402

suite = Suite("herald bench over every transport")
SERVER = ("--tcp-listen", "127.0.0.1:0", "--memory")
CLIENTS = 40


def bench(server, mode, transport, *args):
    argv = [server.argv[0], "bench", mode, "--transport", transport,
            "--url", f"ws://127.0.0.1:{server.port}/connection/websocket",
            "--tcp", f"127.0.0.1:{server.tcp_port}", "--server-pid", str(server.proc.pid),
            "--json", "--quiet", *args]
    step(" ".join(argv[1:]))
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "exit 0", (p.returncode, p.stderr[-2000:]))
    return json.loads(p.stdout.strip().splitlines()[-1])


def each_transport(fn):
    for transport in ("websocket", "tcp", "sse", "poll"):
        suite.case(f"{fn.__name__} over {transport}", args=SERVER)(
            lambda server, t=transport: fn(server, t))
    return fn


@each_transport
def fanout(server, transport):
    r = bench(server, "fanout", transport, "--subscribers", str(CLIENTS), "--rate", "50",
              "--duration", "1", "--drain", "5", "--namespace", f"it{transport}")
    check(r["transport"] == transport, "the transport in the report", r["transport"])
    check(r["connected"] == CLIENTS and r["connect_failed"] == 0 and
          r["disconnected_during_run"] == 0, f"{CLIENTS} subscribers, none failed or dropped", r)
    check(r["messages_accepted"] > 0 and r["deliveries_received"] == r["deliveries_expected"],
          "every accepted publication delivered to every subscriber", r)
    check(all(r[k] == 0 for k in ("seq_gaps", "duplicates", "offset_gaps", "wrong_channel",
                                   "malformed_lines", "unexpected_replies", "subscribe_refused")),
          "no gap, duplicate, malformed or unexpected line", r)
    check(r["pushes_per_unit"] >= 1, "pushes counted per unit of the transport", r)
    if transport == "poll":
        check(r["poll_answers"] > 0, "poll answers counted", r)


@each_transport
def idle(server, transport):
    r = bench(server, "idle", transport, "--connections", str(CLIENTS), "--hold", "0.2",
              "--namespace", f"it{transport}")
    check(r["connected"] == CLIENTS and r["connect_failed"] == 0 and
          r["disconnected_during_run"] == 0, f"{CLIENTS} idle clients, none failed or dropped", r)
    check(r["unexpected_lines"] == 0 and r["subscribe_refused"] == 0, "nothing unexpected", r)
    check("server_rss_per_connection_kib" in r, "the server's RSS per client", r)


CERT_DIR = tempfile.mkdtemp(prefix="herald-bench-tls-")
atexit.register(shutil.rmtree, CERT_DIR, True)
CERT, KEY = os.path.join(CERT_DIR, "cert.pem"), os.path.join(CERT_DIR, "key.pem")
subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", KEY, "-out", CERT, "-days", "2", "-subj", "/CN=bench",
                "-addext", "subjectAltName=IP:127.0.0.1"], capture_output=True, check=True,
               timeout=30)
TLS_SERVER = ("--tcp-listen", "127.0.0.1:0", "--memory", "--echo", "--tls-cert", CERT,
              "--tls-key", KEY)


def tls_bench(server, mode, path, *args, ca=True):
    argv = [server.argv[0], "bench", mode, "--url", f"wss://127.0.0.1:{server.port}{path}",
            "--server-pid", str(server.proc.pid), "--json", "--quiet", *args]
    if ca:
        argv += ["--ca-file", CERT]
    step(" ".join(argv[1:]))
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


@suite.case("over TLS: fanout on wss:// and tls://, echo and broadcast on wss://", args=TLS_SERVER)
def over_tls(server):
    for transport in ("websocket", "tcp"):
        p = tls_bench(server, "fanout", "/connection/websocket", "--transport", transport,
                      "--tcp", f"tls://127.0.0.1:{server.tcp_port}", "--subscribers",
                      str(CLIENTS), "--rate", "50", "--duration", "1", "--drain", "5",
                      "--publish", "ws", "--namespace", f"tls{transport}")
        check(p.returncode == 0, "exit 0", (p.returncode, p.stderr[-2000:]))
        r = json.loads(p.stdout.strip().splitlines()[-1])
        check(r["connected"] == CLIENTS and r["disconnected_during_run"] == 0 and
              r["messages_accepted"] > 0 and r["deliveries_received"] == r["deliveries_expected"]
              and r["seq_gaps"] == 0 and r["duplicates"] == 0,
              f"fanout over TLS ({transport}): every publication to every subscriber once", r)
    p = tls_bench(server, "echo", "/echo", "--connections", "10", "--duration", "1")
    r = json.loads(p.stdout.strip().splitlines()[-1])
    check(p.returncode == 0 and r["connected"] == 10 and r["messages_echoed"] > 0 and
          r["messages_lost"] == 0, "echo over wss", (p.returncode, r))
    p = tls_bench(server, "broadcast", "/chat", "--connections", "10", "--rate", "20",
                  "--duration", "1")
    r = json.loads(p.stdout.strip().splitlines()[-1])
    check(p.returncode == 0 and r["connected"] == 10 and r["deliveries_lost"] == 0 and
          r["deliveries_received"] > 0, "broadcast over wss", (p.returncode, r))
    p = tls_bench(server, "echo", "/echo", "--connections", "2", "--duration", "1",
                  "--connect-timeout", "5", ca=False)
    check(p.returncode == 1 and "certificate verify failed: self-signed" in p.stderr,
          "without --ca-file the certificate is refused", (p.returncode, p.stderr[-500:]))


@suite.case("fanout over pusher", args=("--memory", "--pusher-app", "itp:itp-key:itp-secret-1"))
def fanout_pusher(server):
    # The Pusher protocol's subscribers (bench/src/pusher_link.cpp) on the app whose namespace
    # (pusher-itp) the publisher writes to through the server API.
    argv = [server.argv[0], "bench", "fanout", "--transport", "pusher",
            "--url", f"ws://127.0.0.1:{server.port}/app/itp-key?protocol=7",
            "--server-pid", str(server.proc.pid), "--json", "--quiet", "--subscribers",
            str(CLIENTS), "--rate", "50", "--duration", "1", "--drain", "5",
            "--namespace", "pusher-itp"]
    step(" ".join(argv[1:]))
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "exit 0", (p.returncode, p.stderr[-2000:]))
    r = json.loads(p.stdout.strip().splitlines()[-1])
    check(r["transport"] == "pusher" and r["connected"] == CLIENTS and r["connect_failed"] == 0,
          f"{CLIENTS} Pusher subscribers", r)
    check(r["messages_accepted"] > 0 and r["deliveries_received"] == r["deliveries_expected"],
          "every accepted publication delivered to every subscriber", r)
    check(all(r[k] == 0 for k in ("seq_gaps", "duplicates", "wrong_channel", "malformed_lines",
                                   "unexpected_replies", "subscribe_refused")),
          "no gap, duplicate, malformed or unexpected line", r)


if __name__ == "__main__":
    suite.main()
