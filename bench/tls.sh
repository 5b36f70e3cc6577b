#!/usr/bin/env bash
# wss against ws, herald and uWebSockets side by side in one run (bench/RESULTS.md, "TLS"):
#
#   bench/build-uws.sh                                     # /tmp/uws/server, with OpenSSL
#   bench/tls.sh build/release/apps/herald/herald /tmp/uws/server
#   ROUNDS=3 DURATION=10 bench/tls.sh ...                  # the defaults
#
# Scenarios, each over ws:// and over wss:// (a P-256 certificate made by `openssl req` for the
# run; the generator trusts it with --ca-file, so it verifies it as a client would):
#   chat-1000x100   broadcast /chat: 1,000 clients, 100 msg/s, 64 B (~100k deliveries/s)
#   echo-100x1      echo /echo: 100 connections, 1 message in flight each, 32 B
# Each run gets a fresh server pinned to CPU 0 (one loop: herald --threads 1; uWS is one loop),
# the generator on CPU 1. The four runs of a scenario (herald ws, herald wss, uWS ws, uWS wss)
# follow each other, and the whole set is repeated ROUNDS times, so slow drifts of a shared
# machine hit every column alike; the table gives the median of the rounds and wss/ws ratios.
# Every run records other_cpu_pct: the machine's busy time that was neither server nor
# generator (other people's work on a shared machine).
set -euo pipefail

HERALD=${1:?usage: $0 path/to/herald [path/to/uws-server]}
OTHER_SERVER=${2:-}
OTHER_NAME=uWebSockets
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT_DIR=${OUT_DIR:-$(mktemp -d /tmp/herald-bench-tls.XXXXXX)}
mkdir -p "$OUT_DIR"
export OTHER_SERVER OTHER_NAME

source "$HERE/lib.sh"

CERT=$OUT_DIR/cert.pem
KEY=$OUT_DIR/key.pem
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$KEY" \
  -out "$CERT" -days 2 -subj /CN=herald-bench -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null

SERVERS=(herald)
[[ -n "$OTHER_SERVER" ]] && SERVERS+=("$OTHER_NAME")

# run_one NAME SERVER SCHEME MODE PATH ARGS...
run_one() {
  local name=$1 kind=$2 scheme=$3 mode=$4 path=$5 round=$6
  shift 6
  if [[ "$scheme" == wss ]]; then
    SERVER_TLS_CERT=$CERT SERVER_TLS_KEY=$KEY
  else
    SERVER_TLS_CERT="" SERVER_TLS_KEY=""
  fi
  wait_quiet
  start_server "$kind" || return 0
  local out="$OUT_DIR/$name.$kind.$scheme.$round"
  echo "== round $round: $name on $kind over $scheme (port $SERVER_PORT)" >&2
  timeout 300 "${PIN_GEN[@]}" "$HERALD" bench "$mode" \
    --url "$scheme://127.0.0.1:$SERVER_PORT$path" --ca-file "$CERT" \
    --server-pid "$SERVER_PID" --json --quiet "$@" >"$out.json" 2>"$out.err" ||
    echo "   (generator exit $?; see $out.err)" >&2
  stop_server
  sleep 1
}

for round in $(seq "$ROUNDS"); do
  for s in "${SERVERS[@]}"; do
    for scheme in ws wss; do
      run_one chat-1000x100 "$s" "$scheme" broadcast /chat "$round" --connections 1000 \
        --rate 100 --size 64 --duration "$DURATION"
    done
  done
  for s in "${SERVERS[@]}"; do
    for scheme in ws wss; do
      run_one echo-100x1 "$s" "$scheme" echo /echo "$round" --connections 100 --in-flight 1 \
        --size 32 --duration "$DURATION"
    done
  done
done

echo "results: $OUT_DIR" >&2
echo
echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -sr), load average before the table: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
python3 - "$OUT_DIR" "${SERVERS[@]}" <<'PY'
import glob, json, os, statistics, sys

out_dir, servers = sys.argv[1], sys.argv[2:]
rows = [("chat-1000x100", "/chat 1,000 clients x 100 msg/s, 64 B", "server_cpu_us_per_delivery",
         "delivered_per_s", "deliveries/s"),
        ("echo-100x1", "echo 100 connections x 32 B, 1 in flight", "server_cpu_us_per_msg",
         "messages_per_s", "messages/s")]


def runs(name, server, scheme):
    out = []
    for path in sorted(glob.glob(os.path.join(out_dir, f"{name}.{server}.{scheme}.*.json"))):
        try:
            with open(path) as f:
                out.append(json.load(f))
        except (ValueError, OSError):
            pass
    return out


def med(rs, key):
    vals = [r[key] for r in rs if isinstance(r.get(key), (int, float))]
    return statistics.median(vals) if vals else None


def fmt(v, digits=2):
    return "-" if v is None else f"{v:,.{digits}f}"


print("| scenario | figure | " + " | ".join(f"{s} ws | {s} wss | {s} wss/ws" for s in servers)
      + " |")
print("| --- | --- | " + " | ".join("--- | --- | ---" for _ in servers) + " |")
for name, title, cpu_key, rate_key, rate_name in rows:
    figures = [("server CPU per delivery (us)" if "chat" in name else
                "server CPU per message (us)", cpu_key, 3),
               (rate_name, rate_key, 0),
               ("latency p50 (us)", "latency_p50_us", 0),
               ("latency p99 (us)", "latency_p99_us", 0),
               ("server CPU %", "server_cpu_pct", 0),
               ("generator CPU %", "generator_cpu_pct", 0),
               ("other CPU % (load)", "other_cpu_pct", 0)]
    first = True
    for label, key, digits in figures:
        cells = []
        for s in servers:
            ws, wss = med(runs(name, s, "ws"), key), med(runs(name, s, "wss"), key)
            ratio = f"{wss / ws:.2f}x" if ws and wss and "other" not in label else ""
            cells += [fmt(ws, digits), fmt(wss, digits), ratio]
        print(f"| {title if first else ''} | {label} | " + " | ".join(cells) + " |")
        first = False
    lost = []
    for s in servers:
        for scheme in ("ws", "wss"):
            rs = runs(name, s, scheme)
            n = sum(r.get("deliveries_lost", r.get("messages_lost", 0)) for r in rs)
            lost.append(f"{s} {scheme}: {n} lost in {len(rs)} runs")
    print(f"| | lost | {'; '.join(lost)} |" + " |" * (3 * len(servers) - 1))
PY
