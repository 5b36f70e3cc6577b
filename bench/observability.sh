#!/usr/bin/env bash
# What metrics and logs cost on the hot path: the same scenarios against one herald binary in
# two configurations, alternated ROUNDS times so that drift of the machine hits both alike.
#
#   off: latency_metrics: false (no clock read per command or per delivered batch) and
#        log_level: warn (no connect/disconnect lines). The counters cannot be turned off: they
#        are part of both columns (a relaxed store each, on counters no other thread writes).
#   on:  the defaults (latency histograms on, one line per connect and disconnect, log_rate 100)
#        with log_format: json, stderr to a file, and a Prometheus-like scrape of /metrics
#        every second during the run.
#   on-unlimited (connect scenario only): as on, with log_rate: 0, every line written.
#
#   bench/observability.sh build/release/apps/herald/herald     # ROUNDS=2 DURATION=10
#
# Server on CPU 0 (--threads 1, --memory), generator on CPU 1, as bench/run.sh. Prints one
# markdown table of the median per configuration; the raw JSON reports stay in $OUT_DIR.
set -euo pipefail

HERALD=${1:?usage: $0 path/to/herald}
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-10}
OUT_DIR=${OUT_DIR:-$(mktemp -d /tmp/herald-obs.XXXXXX)}
mkdir -p "$OUT_DIR"
PIN_SERVER=()
PIN_GEN=()
if command -v taskset >/dev/null && [[ $(nproc) -ge 2 ]]; then
  PIN_SERVER=(taskset -c 0)
  PIN_GEN=(taskset -c 1)
fi
ulimit -n 65536 2>/dev/null || true

printf 'latency_metrics: false\nlog_level: warn\n' >"$OUT_DIR/off.yaml"
printf 'log_format: json\n' >"$OUT_DIR/on.yaml"
printf 'log_format: json\nlog_rate: 0\n' >"$OUT_DIR/on-unlimited.yaml"

SERVER_PID=""
SCRAPER_PID=""
stop_server() {
  if [[ -n "$SCRAPER_PID" ]]; then
    kill "$SCRAPER_PID" 2>/dev/null || true
    wait "$SCRAPER_PID" 2>/dev/null || true
    SCRAPER_PID=""
  fi
  if [[ -n "$SERVER_PID" ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}
trap stop_server EXIT

# start CONFIG NAME: a fresh server; sets SERVER_PID and PORT.
start() {
  local config=$1 name=$2 out="$OUT_DIR/$name.out"
  "${PIN_SERVER[@]}" "$HERALD" serve --listen 127.0.0.1:0 --threads 1 --memory --echo \
    --config "$OUT_DIR/$config.yaml" >"$out" 2>"$OUT_DIR/$name.log" &
  SERVER_PID=$!
  PORT=""
  for _ in $(seq 100); do
    if [[ "$(head -n 1 "$out" 2>/dev/null)" =~ ^herald\ listening\ on\ http://127\.0\.0\.1:([0-9]+)$ ]]; then
      PORT=${BASH_REMATCH[1]}
      break
    fi
    sleep 0.1
  done
  [[ -n "$PORT" ]] || { echo "server did not start: $OUT_DIR/$name.log" >&2; exit 1; }
  if [[ "$config" != off ]]; then
    # A scrape a second, as a Prometheus with a short interval would (bounded by the run).
    (for _ in $(seq $((DURATION * 3 + 30))); do
       curl -s -o /dev/null "http://127.0.0.1:$PORT/metrics" || true
       sleep 1
     done) &
    SCRAPER_PID=$!
  fi
}

# run SCENARIO CONFIG ROUND MODE ARGS...
run() {
  local scenario=$1 config=$2 round=$3 mode=$4
  shift 4
  local name="$scenario.$config.$round"
  start "$config" "$name"
  echo "== $scenario / $config / round $round (port $PORT)" >&2
  timeout 300 "${PIN_GEN[@]}" "$HERALD" bench "$mode" --server-pid "$SERVER_PID" --json --quiet \
    "$@" --url "ws://127.0.0.1:$PORT${URL_PATH}" >"$OUT_DIR/$name.json" 2>"$OUT_DIR/$name.err" ||
    echo "   (generator exit $?; see $OUT_DIR/$name.err)" >&2
  stop_server
  wc -l <"$OUT_DIR/$name.log" | xargs printf '   server log lines: %s\n' >&2
  sleep 1
}

for round in $(seq "$ROUNDS"); do
  # Alternate which configuration goes first in each round.
  configs=(off on)
  (( round % 2 == 0 )) && configs=(on off)
  for config in "${configs[@]}"; do
    URL_PATH=/connection/websocket
    run fanout "$config" "$round" fanout --subscribers 1000 --rate 100 --size 64 --publish ws \
      --duration "$DURATION"
    run channels "$config" "$round" channels --channels 1000 --rate 20000 --size 64 --publish ws \
      --duration "$DURATION"
    URL_PATH=/echo
    run echo "$config" "$round" echo --connections 100 --in-flight 16 --size 32 \
      --duration "$DURATION"
    URL_PATH=/chat
    run connect "$config" "$round" connect --connections 10000 --hold 2
  done
  URL_PATH=/chat
  run connect on-unlimited "$round" connect --connections 10000 --hold 2
done

python3 - "$OUT_DIR" <<'EOF'
import glob, json, os, statistics, sys
out = sys.argv[1]
runs = {}
for path in sorted(glob.glob(os.path.join(out, "*.json"))):
    scenario, config, _ = os.path.basename(path)[:-5].split(".")
    try:
        with open(path) as f:
            runs.setdefault((scenario, config), []).append(json.load(f))
    except ValueError:
        pass
keys = sorted({k for rs in runs.values() for r in rs for k, v in r.items()
               if isinstance(v, (int, float))})
print("| scenario | figure | " + " | ".join(["off", "on", "on-unlimited"]) + " |")
print("| --- | --- | --- | --- | --- |")
for scenario in ("fanout", "channels", "echo", "connect"):
    for k in keys:
        cells = []
        for config in ("off", "on", "on-unlimited"):
            vals = [r[k] for r in runs.get((scenario, config), []) if isinstance(r.get(k), (int, float))]
            cells.append(f"{statistics.median(vals):.4g}" if vals else "")
        if any(cells):
            print(f"| {scenario} | {k} | " + " | ".join(cells) + " |")
EOF
echo "raw reports: $OUT_DIR" >&2
