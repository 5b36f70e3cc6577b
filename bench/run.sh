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

# Pinning: server on CPU 0, generator on CPU 1 (skipped on a single-CPU machine).
if command -v taskset >/dev/null && [[ $(nproc) -ge 2 ]]; then
  PIN_SERVER=(taskset -c 0)
  PIN_GEN=(taskset -c 1)
else
  PIN_SERVER=()
  PIN_GEN=()
  echo "warning: fewer than 2 CPUs or no taskset: server and generator are not pinned" >&2
fi

# 10,000 clients plus the server's own sockets: raise the soft limit as far as the hard one.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

SERVER_PID=""
SERVER_PORT=""
DATA_DIR=""
stop_server() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
  if [[ -n "$DATA_DIR" ]]; then
    rm -rf "$DATA_DIR"
    DATA_DIR=""
  fi
}
trap stop_server EXIT

# The bench namespace for the protocol scenarios: join/leave pushes off, as a broadcast channel
# with thousands of subscribers would be configured (with them on, each of N subscribes is
# pushed to every subscriber already there: N^2/2 pushes before the first publication).
# Everything else keeps herald's defaults (history 1000 per channel, presence on).
PROTO_CONFIG=""
write_proto_config() {
  PROTO_CONFIG="$OUT_DIR/herald-bench.yaml"
  cat >"$PROTO_CONFIG" <<'YAML'
namespaces:
  bench:
    join_leave: false
YAML
  if ! "$HERALD" check-config --config "$PROTO_CONFIG" --memory >/dev/null 2>&1; then
    echo "warning: this herald has no namespace configuration; protocol scenarios run with" \
      "join/leave pushes on" >&2
    PROTO_CONFIG=""
  fi
}

# start_server ws|herald|herald-durable|herald-memory: sets SERVER_PID and SERVER_PORT (waits at
# most 10 s for the port). herald serves /chat and /echo; herald-durable and herald-memory are
# the Herald protocol server with durable or in-memory history.
start_server() {
  local kind=$1 log="$OUT_DIR/server-$1.out"
  : >"$log"
  if [[ "$kind" == herald-durable || "$kind" == herald-memory ]]; then
    local history=(--memory)
    if [[ "$kind" == herald-durable ]]; then
      DATA_DIR=$(mktemp -d /tmp/herald-bench-data.XXXXXX)
      history=(--data-dir "$DATA_DIR")
    fi
    local config=()
    [[ -n "$PROTO_CONFIG" ]] && config=(--config "$PROTO_CONFIG")
    "${PIN_SERVER[@]}" "$HERALD" serve --listen 127.0.0.1:0 --threads 1 "${history[@]}" \
      "${config[@]}" >"$log" 2>"$OUT_DIR/server-$kind.err" &
  elif [[ "$kind" == ws ]]; then
    "${PIN_SERVER[@]}" node "$HERE/reference/ws-server.js" 0 >"$log" 2>"$OUT_DIR/server-ws.err" &
  elif [[ "$kind" == "${OTHER_NAME:-other}" && -n "${OTHER_SERVER:-}" ]]; then
    "${PIN_SERVER[@]}" "$OTHER_SERVER" 0 >"$log" 2>"$OUT_DIR/server-$kind.err" &
  else
    "${PIN_SERVER[@]}" "$HERALD" serve --listen 127.0.0.1:0 --threads 1 --echo --memory \
      >"$log" 2>"$OUT_DIR/server-herald.err" &
  fi
  SERVER_PID=$!
  SERVER_PORT=""
  for _ in $(seq 100); do
    local line
    line=$(head -n 1 "$log" 2>/dev/null || true)
    if [[ "$line" =~ ^listening\ ([0-9]+)$ ]] ||
       [[ "$line" =~ ^herald\ listening\ on\ http://127\.0\.0\.1:([0-9]+)$ ]]; then
      SERVER_PORT=${BASH_REMATCH[1]}
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "$kind server did not start; see $OUT_DIR/server-$kind.err" >&2
  stop_server
  return 1
}

# wait_quiet: waits (at most QUIET_WAIT seconds, default 30) until the machine has been less
# than 10% busy for a second, so that other people's builds do not take the server's CPU. Every
# report also carries other_cpu_pct, the busy time that was neither server nor generator.
machine_busy_pct() {
  local a b
  a=($(head -n 1 /proc/stat))
  sleep 1
  b=($(head -n 1 /proc/stat))
  local busy=0 total=0 i d
  for i in 1 2 3 4 5 6 7 8; do
    d=$((b[i] - a[i]))
    total=$((total + d))
    [[ $i -ne 4 && $i -ne 5 ]] && busy=$((busy + d))
  done
  echo $((total > 0 ? 100 * busy / total : 0))
}
wait_quiet() {
  local deadline=$((SECONDS + ${QUIET_WAIT:-30})) busy
  while true; do
    busy=$(machine_busy_pct)
    [[ $busy -lt 10 ]] && return 0
    if [[ $SECONDS -ge $deadline ]]; then
      echo "   warning: machine ${busy}% busy before the run (other processes)" >&2
      return 0
    fi
  done
}

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
