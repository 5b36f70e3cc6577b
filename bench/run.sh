#!/usr/bin/env bash
# Side-by-side benchmark: herald vs the npm `ws` reference server (bench/reference/).
#
#   bench/run.sh path/to/herald            # both servers, generator = "herald bench"
#   HERALD_BENCH=build/x/bench/herald_bench_standalone bench/run.sh none   # ws only
#   ONLY=echo-100x16,idle-10k bench/run.sh ...   # just these scenarios
#   OTHER_SERVER=/path/to/server OTHER_NAME=uws bench/run.sh path/to/herald  # a third column:
#     any server you built yourself that takes a port as argv[1] (0 = any), prints
#     "listening PORT" on its first stdout line and serves /chat and /echo like herald.
#   PROTOCOL=0 bench/run.sh ...    # skip the Herald protocol scenarios (channels, history...)
#   QUIET_WAIT=300 bench/run.sh ... # before each scenario, wait up to this many seconds (default
#                                   # 30) for the machine to be < 10% busy (shared machines)
#
# The Herald protocol scenarios (fanout-*, channels-*, history-*, recovery-*) run against herald
# only (the other servers have no channels): `herald serve --threads 1 --data-dir TMP` (durable
# history, the default) or `--memory`, with a config whose namespace `bench` has join/leave
# pushes off (see write_proto_config).
#
# Each server runs alone on CPU 0 (taskset -c 0, one event loop: herald --threads 1), the
# generator on CPU 1. Every scenario starts a fresh server on a free loopback port and stops it
# afterwards. Durations are bounded (DURATION seconds per scenario, default 10).
# Output: one JSON line per run in $OUT_DIR (default a temp dir), then a markdown table.
set -euo pipefail

HERALD=${1:-none}
DURATION=${DURATION:-10}
HOLD=${HOLD:-2}
PROTOCOL=${PROTOCOL:-1}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT_DIR=${OUT_DIR:-$(mktemp -d /tmp/herald-bench.XXXXXX)}
mkdir -p "$OUT_DIR"

if [[ "$HERALD" != none && ! -x "$HERALD" ]]; then
  echo "usage: $0 path/to/herald|none   (herald binary not found: $HERALD)" >&2
  exit 2
fi
GEN=${HERALD_BENCH:-}
if [[ -z "$GEN" ]]; then
  [[ "$HERALD" == none ]] && { echo "$0 none: set HERALD_BENCH to a generator binary" >&2; exit 2; }
  GEN=$HERALD
fi
if [[ ! -d "$HERE/reference/node_modules/ws" ]]; then
  (cd "$HERE/reference" && npm ci --silent >/dev/null)
fi

# Pinning, ulimit, start_server/stop_server, write_proto_config, wait_quiet: bench/lib.sh.
source "$HERE/lib.sh"

# run_case NAME SERVER MODE PATH ARGS...: one generator run, JSON appended to
# $OUT_DIR/NAME.COLUMN.json, where COLUMN is SERVER, or herald for herald-durable/-memory.
run_case() {
  local name=$1 kind=$2 mode=$3 path=$4
  shift 4
  if [[ -n "${ONLY:-}" && ",$ONLY," != *",$name,"* ]]; then
    return 0
  fi
  local column=$kind
  [[ "$kind" == herald-* ]] && column=herald
  wait_quiet
  start_server "$kind" || return 0
  echo "== $name on $kind (port $SERVER_PORT)" >&2
  # A bounded run: the generator has its own limits; timeout is the backstop.
  timeout 300 "${PIN_GEN[@]}" "$GEN" bench "$mode" --url "ws://127.0.0.1:$SERVER_PORT$path" \
    --server-pid "$SERVER_PID" --json --quiet "$@" >"$OUT_DIR/$name.$column.json" \
    2>"$OUT_DIR/$name.$column.err" || echo "   (generator exit $?; see $OUT_DIR/$name.$column.err)" >&2
  stop_server
  sleep 1  # let TIME_WAIT and the server's exit settle before the next scenario
}

SERVERS=(ws)
[[ -n "${OTHER_SERVER:-}" ]] && SERVERS+=("${OTHER_NAME:-other}")
[[ "$HERALD" != none ]] && SERVERS+=(herald)

for s in "${SERVERS[@]}"; do
  run_case chat-1000x1000 "$s" broadcast /chat --connections 1000 --rate 1000 --size 64 \
    --duration "$DURATION"
  run_case chat-1000x100 "$s" broadcast /chat --connections 1000 --rate 100 --size 64 \
    --duration "$DURATION"
  run_case echo-100x1 "$s" echo /echo --connections 100 --in-flight 1 --size 32 \
    --duration "$DURATION"
  run_case echo-100x16 "$s" echo /echo --connections 100 --in-flight 16 --size 32 \
    --duration "$DURATION"
  run_case idle-10k "$s" connect /chat --connections 10000 --hold "$HOLD"
done

# Channels (Herald protocol), herald only. Channel names are bench:...; data carries a stamp
# (sequence number, send time) padded to --size bytes.
if [[ "$HERALD" != none && "$PROTOCOL" != 0 ]]; then
  write_proto_config
  P=/connection/websocket
  # One channel, 10,000 subscribers: 10 msg/s = 100,000 deliveries/s (not saturating on the
  # 2-vCPU VM of RESULTS.md), then 100 msg/s = 1M/s offered (saturating), durable and in memory.
  run_case fanout-10k herald-durable fanout "$P" --subscribers 10000 --rate 10 --size 64 \
    --duration "$DURATION"
  run_case fanout-10k-sat herald-durable fanout "$P" --subscribers 10000 --rate 100 --size 64 \
    --duration "$DURATION"
  run_case fanout-10k-sat-memory herald-memory fanout "$P" --subscribers 10000 --rate 100 \
    --size 64 --duration "$DURATION"
  # 10,000 channels with one subscriber each; publishes round-robin over the channels through
  # the server API: 10,000 msg/s (1 per channel per second), then 100,000 msg/s (saturating).
  run_case channels-10k herald-durable channels "$P" --channels 10000 --rate 10000 --size 64 \
    --api-connections 4 --duration "$DURATION"
  run_case channels-10k-sat herald-durable channels "$P" --channels 10000 --rate 100000 \
    --size 64 --api-connections 4 --duration "$DURATION"
  run_case channels-10k-sat-memory herald-memory channels "$P" --channels 10000 --rate 100000 \
    --size 64 --api-connections 4 --duration "$DURATION"
  # /chat's load through a channel: 1,000 subscribers, 100 msg/s from one publishing client
  # (compare server_cpu_us_per_delivery with chat-1000x100 above).
  run_case fanout-1000x100-ws herald-durable fanout "$P" --subscribers 1000 --rate 100 \
    --size 64 --publish ws --duration "$DURATION"
  run_case fanout-1000x100-ws-memory herald-memory fanout "$P" --subscribers 1000 --rate 100 \
    --size 64 --publish ws --duration "$DURATION"
  # Append rate through the server API, no subscribers: durable (SQLite) vs memory history.
  for h in durable memory; do
    run_case "history-$h" "herald-$h" history "$P" --count 300000 --channels 8 \
      --api-connections 4 --pipeline 64 --size 64
    run_case "history-$h-1conn" "herald-$h" history "$P" --count 100000 --channels 8 \
      --api-connections 1 --pipeline 64 --size 64
  done
  # Reconnect after 1,000 missed publications, 20 rounds.
  run_case recovery-1000 herald-durable recovery "$P" --missed 1000 --repeat 20 --size 64
  run_case recovery-1000-memory herald-memory recovery "$P" --missed 1000 --repeat 20 --size 64
fi

echo "results: $OUT_DIR" >&2
echo
echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -sr)"
echo
node "$HERE/table.js" "$OUT_DIR" "${SERVERS[@]}"
