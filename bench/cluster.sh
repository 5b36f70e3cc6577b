#!/usr/bin/env bash
# Several Herald nodes on Redis (issue 13) against one node, in one run, on loopback with a real
# redis-server (Debian's; scripts/deps --test installs it):
#
#   bench/cluster.sh path/to/herald
#   ONLY=fanout|channels|storm   # one part only
#   SUBSCRIBERS=3000 RATES="20 200" CHANNELS=3000 CHANNEL_RATES="3000 100000" DURATION=10
#   STORM_CLIENTS=10000 STORM_RATE=10 STORM_WINDOW=0.5 QUIET_WAIT=30 BUSY_PCT=20 MAX_TRIES=3
#   (the defaults)
#
# (a) The same load against three setups, one after the other, each started fresh:
#       memory-1  one node, embedded broker (--memory: channels and history in the process)
#       redis-1   one node on Redis
#       redis-3   three nodes on one Redis; the subscribers spread over them (i % 3)
#     fanout-R:   SUBSCRIBERS clients on one channel, R msg/s published through the server API
#                 of the first node (herald bench fanout);
#     channels-R: CHANNELS channels with one subscriber each, R msg/s round-robin (publishes/s).
#     Every node, Redis and the generator report their CPU: --server-pid per node, --redis-pid.
# (b) Redis CPU per publication: redis_cpu_us_per_publish of the redis-* runs.
# (c) storm: three nodes on Redis; STORM_CLIENTS subscribers all on node 0, STORM_RATE msg/s
#     through node 1; 3 s into the run node 0 is SIGKILLed by the generator and its clients
#     reconnect to nodes 1 and 2 with full jitter (first window STORM_WINDOW s, the JS SDK's
#     default) and recover from their position (herald bench failover): the time until the
#     last is back, every client exact, the survivors' peak CPU and RSS.
#
# Pinning as bench/run.sh: every server process (the nodes, `--threads 1` each, and Redis) on
# CPU 0, the generator on CPU 1: three nodes get the same CPU as one, so the ratios say what
# clustering costs per CPU, not what more machines would add. Before each run the script waits
# for the machine to be quiet (lib.sh wait_quiet); each JSON report carries other_cpu_pct.
# Output: one JSON file per run in $OUT_DIR (default a temp dir), then markdown tables.
set -euo pipefail

HERALD=${1:-}
ONLY=${ONLY:-}
SUBSCRIBERS=${SUBSCRIBERS:-3000}
RATES=${RATES:-20 200}
CHANNELS=${CHANNELS:-3000}
CHANNEL_RATES=${CHANNEL_RATES:-3000 100000}
DURATION=${DURATION:-10}
STORM_CLIENTS=${STORM_CLIENTS:-10000}
STORM_RATE=${STORM_RATE:-10}
STORM_WINDOW=${STORM_WINDOW:-0.5}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT_DIR=${OUT_DIR:-$(mktemp -d /tmp/herald-cluster-bench.XXXXXX)}
mkdir -p "$OUT_DIR"
if [[ -z "$HERALD" || ! -x "$HERALD" ]]; then
  echo "usage: $0 path/to/herald   (herald binary not found: $HERALD)" >&2
  exit 2
fi
command -v redis-server >/dev/null || { echo "$0: redis-server not found" >&2; exit 2; }
GEN=${HERALD_BENCH:-$HERALD}

source "$HERE/lib.sh"  # PIN_SERVER, PIN_GEN, ulimit -n, wait_quiet

CONFIG="$OUT_DIR/herald-cluster.yaml"
cat >"$CONFIG" <<'YAML'
namespaces:
  bench:
    join_leave: false
YAML

# Every process this script starts, stopped by pid at the end of each run and on exit.
PIDS=()
REDIS_PID=""
REDIS_PORT=""
NODE_PIDS=()
NODE_PORTS=()
stop_all() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
  NODE_PIDS=()
  NODE_PORTS=()
  REDIS_PID=""
  rm -rf "$OUT_DIR"/data.*
}
trap stop_all EXIT

start_redis() {
  REDIS_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "${PIN_SERVER[@]}" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
    --appendonly no --loglevel warning --dir "$OUT_DIR" >"$OUT_DIR/redis.out" 2>&1 &
  REDIS_PID=$!
  PIDS+=("$REDIS_PID")
  for _ in $(seq 100); do
    [[ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]] && return 0
    sleep 0.1
  done
  echo "redis-server did not answer on port $REDIS_PORT" >&2
  return 1
}

# start_node NAME ARGS...: one `herald serve --threads 1` on a free port, pinned to CPU 0.
start_node() {
  local name=$1 log="$OUT_DIR/$1.out"
  shift
  : >"$log"
  "${PIN_SERVER[@]}" "$HERALD" serve --listen 127.0.0.1:0 --threads 1 --config "$CONFIG" "$@" \
    >"$log" 2>"$OUT_DIR/$name.err" &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 100); do
    if [[ "$(head -n 1 "$log")" =~ ^herald\ listening\ on\ http://127\.0\.0\.1:([0-9]+)$ ]]; then
      NODE_PIDS+=("$pid")
      NODE_PORTS+=("${BASH_REMATCH[1]}")
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "node $name did not start; see $OUT_DIR/$name.err" >&2
  return 1
}

# setup memory-1 | redis-1 | redis-3
setup() {
  case $1 in
    memory-1) start_node n0 --memory ;;
    redis-1) start_redis && start_node n0 --redis "redis://127.0.0.1:$REDIS_PORT" ;;
    redis-3)
      start_redis
      for i in 0 1 2; do start_node "n$i" --redis "redis://127.0.0.1:$REDIS_PORT"; done
      ;;
  esac
}

# The generator's --url, --server-pid and --redis-pid arguments for the nodes started.
target_args() {
  local i
  for i in "${!NODE_PORTS[@]}"; do
    printf -- '--url\nws://127.0.0.1:%s/connection/websocket\n--server-pid\n%s\n' \
      "${NODE_PORTS[$i]}" "${NODE_PIDS[$i]}"
  done
  [[ -n "$REDIS_PID" ]] && printf -- '--redis-pid\n%s\n' "$REDIS_PID"
  return 0
}

# other_cpu FILE: the run's other_cpu_pct (busy time of neither the servers, Redis nor the
# generator), rounded; 999 when the file has none.
other_cpu() {
  python3 -c 'import json, sys
try:
    r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
    print(round(abs(r["other_cpu_pct"])))
except Exception:
    print(999)' "$1"
}

# run NAME SETUP MODE ARGS...: a fresh setup, one generator run, JSON in $OUT_DIR/NAME.json. As
# in transports.sh, a run during which other processes took more than BUSY_PCT (default 20) % of
# a CPU is made again, up to MAX_TRIES (default 3) runs in all; the quietest one is kept.
run() {
  local name=$1 kind=$2 mode=$3
  shift 3
  local try best=999 other targets
  for try in $(seq "${MAX_TRIES:-3}"); do
    wait_quiet
    setup "$kind"
    mapfile -t targets < <(target_args)
    echo "== $name ($kind: nodes ${NODE_PORTS[*]}${REDIS_PORT:+, redis $REDIS_PORT}), run $try" >&2
    timeout 300 "${PIN_GEN[@]}" "$GEN" bench "$mode" "${targets[@]}" --namespace bench --json \
      --quiet "$@" >"$OUT_DIR/$name.try$try" 2>"$OUT_DIR/$name.err" ||
      echo "   (generator exit $?; see $OUT_DIR/$name.err)" >&2
    stop_all
    REDIS_PORT=""
    sleep 1  # TIME_WAIT and the exits settle before the next run
    other=$(other_cpu "$OUT_DIR/$name.try$try")
    if [[ $other -lt $best ]]; then
      best=$other
      cp "$OUT_DIR/$name.try$try" "$OUT_DIR/$name.json"
    fi
    [[ $other -le ${BUSY_PCT:-20} ]] && break
    echo "   other processes took ${other} % of a CPU during the run" >&2
  done
}

SETUPS=(memory-1 redis-1 redis-3)
if [[ -z "$ONLY" || "$ONLY" == fanout ]]; then
  for rate in $RATES; do
    for s in "${SETUPS[@]}"; do
      run "fanout-$rate.$s" "$s" fanout --subscribers "$SUBSCRIBERS" --rate "$rate" --size 64 \
        --duration "$DURATION"
    done
  done
fi
if [[ -z "$ONLY" || "$ONLY" == channels ]]; then
  for rate in $CHANNEL_RATES; do
    for s in "${SETUPS[@]}"; do
      run "channels-$rate.$s" "$s" channels --channels "$CHANNELS" --rate "$rate" --size 64 \
        --api-connections 4 --duration "$DURATION"
    done
  done
fi
if [[ -z "$ONLY" || "$ONLY" == storm ]]; then
  wait_quiet
  start_redis
  for i in 0 1 2; do start_node "n$i" --redis "redis://127.0.0.1:$REDIS_PORT"; done
  u() { echo "ws://127.0.0.1:${NODE_PORTS[$1]}/connection/websocket"; }
  echo "== storm: $STORM_CLIENTS clients on node 0 (pid ${NODE_PIDS[0]}), killed after 3 s" >&2
  timeout 300 "${PIN_GEN[@]}" "$GEN" bench failover --url "$(u 0)" \
    --connections "$STORM_CLIENTS" --connect-timeout 120 --publish-url "$(u 1)" \
    --rate "$STORM_RATE" --size 64 --namespace bench --kill-pid "${NODE_PIDS[0]}" \
    --kill-after 3 --reconnect-url "$(u 1)" --reconnect-url "$(u 2)" \
    --reconnect-window "$STORM_WINDOW" --duration 20 --drain 30 \
    --server-pid "${NODE_PIDS[1]}" --server-pid "${NODE_PIDS[2]}" --redis-pid "$REDIS_PID" \
    --json --quiet >"$OUT_DIR/storm.json" 2>"$OUT_DIR/storm.err" ||
    echo "   (generator exit $?; see $OUT_DIR/storm.err)" >&2
  stop_all
fi

echo "results: $OUT_DIR" >&2
echo
echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -sr)"
echo
python3 "$HERE/cluster_table.py" "$OUT_DIR"
