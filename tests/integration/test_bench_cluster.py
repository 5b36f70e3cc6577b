#!/usr/bin/python3
"""`herald bench` against three Herald nodes on a real redis-server (what bench/cluster.sh runs,
small): fanout with one --url and one --server-pid per node and --redis-pid (the subscribers
spread over the nodes, every publication to every subscriber once, CPU listed per node and Redis
CPU per publication reported), and failover (the node holding every subscriber SIGKILLed by the
generator while publications flow through another node: each subscriber reconnects to a
survivor with full jitter and ends with every publication exactly once, in order). The figures
are bench/RESULTS.md's business; this keeps the generator's cluster modes honest.

Usage: /usr/bin/python3 test_bench_cluster.py --herald build/<dir>/apps/herald/herald [-k SUB]
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import herald_redis  # noqa: E402
from herald_checks import check, step  # noqa: E402
from herald_cluster import start_nodes  # noqa: E402
from herald_harness import run_cases  # noqa: E402


def ws_url(node):
    return f"ws://127.0.0.1:{node.port}/connection/websocket"


def bench(binary, mode, *args, timeout=90):
    argv = [binary, "bench", mode, "--json", "--quiet", *args]
    step(" ".join(argv[1:]))
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    check(p.returncode == 0, "exit 0", (p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
    return json.loads(p.stdout.strip().splitlines()[-1])


def fanout_over_three_nodes(binary, redis):
    nodes = start_nodes(binary, [redis.url], prefix="bfan")
    subscribers = 60
    args = ["--subscribers", str(subscribers), "--rate", "50", "--duration", "1", "--drain", "5",
            "--namespace", "feed", "--redis-pid", str(redis.proc.pid)]
    for n in nodes:
        args += ["--url", ws_url(n), "--server-pid", str(n.proc.pid)]
    r = bench(binary, "fanout", *args)
    check(r["connected"] == subscribers and r["connect_failed"] == 0 and
          r["disconnected_during_run"] == 0, f"{subscribers} subscribers, none failed", r)
    check(r["messages_accepted"] > 0 and r["deliveries_received"] == r["deliveries_expected"],
          "every accepted publication delivered to every subscriber, on every node", r)
    check(all(r[k] == 0 for k in ("seq_gaps", "duplicates", "offset_gaps", "wrong_channel",
                                   "malformed_lines", "unexpected_replies", "subscribe_refused")),
          "no gap, duplicate, malformed or unexpected line", r)
    pids = [int(x.split(":")[0]) for x in r["server_cpu_pct_by_pid"].split()]
    check(r["server_processes"] == 3 and pids == [n.proc.pid for n in nodes],
          "the CPU of each node, listed", r)
    # (CPU time comes in 10 ms ticks: at this load the figure itself may be 0.)
    check(r["redis_cpu_us_per_publish"] >= 0 and r["redis_pid"] == redis.proc.pid and
          r["redis_rss_end_kib"] > 0, "Redis sampled: its CPU per publication", r)


def failover_storm(binary, redis):
    nodes = start_nodes(binary, [redis.url], prefix="bfail")
    clients = 300
    r = bench(binary, "failover", "--url", ws_url(nodes[0]), "--connections", str(clients),
              "--publish-url", ws_url(nodes[1]), "--rate", "100", "--namespace", "feed",
              "--kill-pid", str(nodes[0].proc.pid), "--kill-after", "1",
              "--reconnect-url", ws_url(nodes[1]), "--reconnect-url", ws_url(nodes[2]),
              "--reconnect-window", "0.3", "--duration", "4", "--drain", "10",
              "--server-pid", str(nodes[1].proc.pid), "--server-pid", str(nodes[2].proc.pid),
              "--redis-pid", str(redis.proc.pid))
    nodes[0].wait_exit(10)
    check(nodes[0].proc.returncode == -9, "node 0 was SIGKILLed", nodes[0].proc.returncode)
    check(r["killed"] == "yes" and r["connected"] == clients, f"{clients} subscribers, killed", r)
    check(r["clients_lost"] == clients and r["clients_back"] == clients and
          r["clients_still_away"] == 0, "every subscriber of node 0 lost and back", r)
    check(r["messages_accepted"] > 100 and r["publish_rejected"] == 0 and
          r["publish_unanswered"] == 0, "publishing went on through node 1", r)
    check(r["clients_exact"] == clients and
          r["publications_per_exact_client"] == r["messages_accepted"],
          "each subscriber ended with every publication once, in order", r)
    check(r["recovered_false"] == 0 and r["recovered_publications"] > 0,
          "recovered from Redis's history each time, with the missed publications", r)
    check(all(r[k] == 0 for k in ("seq_gaps", "duplicates", "offset_gaps", "malformed_lines")),
          "no gap, duplicate or malformed line", r)
    check(r["deliveries_received"] == r["deliveries_expected"],
          "deliveries (live or recovered) = accepted x subscribers", r)
    check(0 < r["last_back_after_kill_s"] < 10 and
          r["back_after_kill_p50_s"] <= r["last_back_after_kill_s"] + 0.01,
          "the time until the last was back", r)
    check(r["survivors_peak_rss_kib"] > 0 and r["survivors_peak_cpu_pct"] > 0 and
          len(r["survivors_peak_cpu_pct_by_pid"].split()) == 2, "the survivors' peaks", r)


CASES = [
    ("cluster: fanout over three nodes, CPU per node and Redis CPU per publication",
     fanout_over_three_nodes),
    ("cluster: failover storm, a node SIGKILLed, its clients back and exact",
     failover_storm),
]


def main():
    opts = herald_redis.suite_options("herald bench against three nodes on Redis")
    cases = herald_redis.selected(CASES, opts)

    def run(case):
        redis = herald_redis.RedisServer().start()
        try:
            case[1](opts.herald, redis)
        finally:
            redis.stop()

    run_cases("bench on a cluster", opts.herald, cases, run)

if __name__ == "__main__":
    main()
