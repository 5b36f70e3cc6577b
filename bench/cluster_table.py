#!/usr/bin/python3
"""Markdown tables of bench/cluster.sh's JSON reports (one file per run in OUT_DIR):
fanout-R.SETUP.json and channels-R.SETUP.json for SETUP in memory-1, redis-1, redis-3, and
storm.json. Usage: cluster_table.py OUT_DIR"""

import json
import os
import re
import sys

SETUPS = ["memory-1", "redis-1", "redis-3"]


def load(path):
    try:
        with open(path) as f:
            return json.loads(f.read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        return None


def num(v, digits=0):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if abs(v) >= 10000:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def per_s(r, key):
    return r[key] / r["measure_s"] if r and r.get("measure_s") else None


ROWS = [
    ("delivered/s", lambda r: r.get("delivered_per_s"), 0),
    ("offered deliveries/s", lambda r: r.get("offered_deliveries_per_s"), 0),
    ("publishes/s accepted", lambda r: per_s(r, "messages_accepted"), 0),
    ("deliveries lost", lambda r: r.get("deliveries_lost"), 0),
    ("latency p50 ms", lambda r: r.get("latency_p50_us", 0) / 1000, 2),
    ("latency p99 ms", lambda r: r.get("latency_p99_us", 0) / 1000, 2),
    ("publish reply p99 ms", lambda r: r.get("publish_reply_p99_us", 0) / 1000, 2),
    ("nodes' CPU % (sum)", lambda r: r.get("server_cpu_pct"), 0),
    ("CPU % per node", lambda r: " / ".join(
        x.split(":")[1] for x in r["server_cpu_pct_by_pid"].split())
     if "server_cpu_pct_by_pid" in r else None, 0),
    ("Redis CPU %", lambda r: r.get("redis_cpu_pct"), 0),
    ("generator CPU %", lambda r: r.get("generator_cpu_pct"), 0),
    ("nodes' CPU us per delivery", lambda r: r.get("server_cpu_us_per_delivery"), 2),
    ("nodes' CPU us per publish", lambda r: r.get("server_cpu_us_per_publish"), 1),
    ("Redis CPU us per publish", lambda r: r.get("redis_cpu_us_per_publish"), 1),
    ("other processes' CPU %", lambda r: r.get("other_cpu_pct"), 0),
    ("gaps / duplicates", lambda r: f"{r.get('seq_gaps')} / {r.get('duplicates')}", 0),
]


def table(out_dir, prefix, title):
    runs = {s: load(os.path.join(out_dir, f"{prefix}.{s}.json")) for s in SETUPS}
    if not any(runs.values()):
        return
    first = next(r for r in runs.values() if r)
    print(f"### {title}")
    print()
    print("| | " + " | ".join(SETUPS) + " | redis-3 / memory-1 |")
    print("| --- " * (len(SETUPS) + 2) + "|")
    for label, get, digits in ROWS:
        cells = []
        values = {}
        for s in SETUPS:
            r = runs[s]
            try:
                v = get(r) if r else None
            except (KeyError, TypeError, ZeroDivisionError):
                v = None
            values[s] = v
            cells.append(num(v, digits))
        ratio = "-"
        a, b = values.get("redis-3"), values.get("memory-1")
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b:
            ratio = f"{a / b:.2f}"
        print(f"| {label} | " + " | ".join(cells) + f" | {ratio} |")
    print()
    print(f"({first['connections']} {'channels' if first['mode'] == 'channels' else 'subscribers'}"
          f", {first['rate_requested']:.0f} msg/s requested, {first['measure_s']:.0f} s each.)")
    print()


STORM = [
    ("clients (all on the node killed)", "connected"),
    ("publications accepted (through node 1)", "messages_accepted"),
    ("clients lost / back / still away", ("clients_lost", "clients_back", "clients_still_away")),
    ("clients exact (every publication once, in order)", "clients_exact"),
    ("publications each exact client got", "publications_per_exact_client"),
    ("reconnect attempts / failed", ("reconnect_attempts", "reconnect_failed")),
    ("recovered: false", "recovered_false"),
    ("publications recovered from history (all clients)", "recovered_publications"),
    ("gaps / duplicates / offset gaps", ("seq_gaps", "duplicates", "offset_gaps")),
    ("kill -> back: p50 / p99 / last (s)",
     ("back_after_kill_p50_s", "back_after_kill_p99_s", "last_back_after_kill_s")),
    ("survivors' CPU % before the kill", "survivors_cpu_pct_before_kill"),
    ("survivors' peak CPU % (100 ms, both / each)",
     ("survivors_peak_cpu_pct", "survivors_peak_cpu_pct_by_pid")),
    ("survivors' RSS at the kill / peak (MiB, both)",
     ("survivors_rss_at_kill_kib", "survivors_peak_rss_kib")),
    ("survivors' peak RSS (MiB, each)", "survivors_peak_rss_mib_by_pid"),
    ("Redis CPU % (measured phase)", "redis_cpu_pct"),
    ("live latency p50 / p99 ms", ("latency_p50_us", "latency_p99_us")),
    ("connect phase (s)", "connect_s"),
    ("other processes' CPU %", "other_cpu_pct"),
]


def storm(out_dir):
    r = load(os.path.join(out_dir, "storm.json"))
    if not r:
        return
    print("### Reconnect storm: a node SIGKILLed, its clients move to the two others")
    print()
    print("| | |")
    print("| --- | --- |")
    for label, keys in STORM:
        keys = keys if isinstance(keys, tuple) else (keys,)
        vals = []
        for k in keys:
            v = r.get(k)
            if k.endswith("_kib") and isinstance(v, (int, float)):
                v = v / 1024
            if k.endswith("_us") and isinstance(v, (int, float)):
                v = v / 1000
            vals.append(num(v, 2 if isinstance(v, float) and abs(v) < 100 else 0))
        print(f"| {label} | {' / '.join(vals)} |")
    print()


def main():
    out_dir = sys.argv[1]
    names = sorted(os.listdir(out_dir))
    for kind in ("fanout", "channels"):
        rates = sorted({int(m.group(1)) for n in names
                        if (m := re.match(rf"{kind}-(\d+)\.", n))})
        for rate in rates:
            table(out_dir, f"{kind}-{rate}", f"{kind} at {rate} msg/s")
    storm(out_dir)


if __name__ == "__main__":
    main()
