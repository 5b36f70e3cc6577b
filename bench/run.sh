#!/usr/bin/env bash
# Side-by-side benchmark: herald vs the npm `ws` reference server (bench/reference/).
#
#   bench/run.sh path/to/herald            # both servers, generator = "herald bench"
#   HERALD_BENCH=build/x/bench/herald_bench_standalone bench/run.sh none   # ws only
#   ONLY=echo-100x16,idle-10k bench/run.sh ...   # just these scenarios
#   OTHER_SERVER=/path/to/server OTHER_NAME=uws bench/run.sh path/to/herald  # a third column:
#     any server you built yourself that takes a port as argv[1] (0 = any), prints
#     "listening PORT" on its first stdout line and serves /chat and /echo like herald.
#
# Each server runs alone on CPU 0 (taskset -c 0, one event loop: herald --threads 1), the
# generator on CPU 1. Every scenario starts a fresh server on a free loopback port and stops it
# afterwards. Durations are bounded (DURATION seconds per scenario, default 10).
# Output: one JSON line per run in $OUT_DIR (default a temp dir), then a markdown table.
set -euo pipefail

HERALD=${1:-none}
DURATION=${DURATION:-10}
HOLD=${HOLD:-2}
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

SERVER_PID=""
SERVER_PORT=""
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
}
trap stop_server EXIT

# start_server ws|herald: sets SERVER_PID and SERVER_PORT (waits at most 10 s for the port).
start_server() {
  local kind=$1 log="$OUT_DIR/server-$1.out"
  : >"$log"
  if [[ "$kind" == ws ]]; then
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

# run_case NAME SERVER MODE PATH ARGS...: one generator run, JSON appended to $OUT_DIR/NAME.SERVER.json
run_case() {
  local name=$1 kind=$2 mode=$3 path=$4
  shift 4
  if [[ -n "${ONLY:-}" && ",$ONLY," != *",$name,"* ]]; then
    return 0
  fi
  start_server "$kind" || return 0
  echo "== $name on $kind (port $SERVER_PORT)" >&2
  # A bounded run: the generator has its own limits; timeout is the backstop.
  timeout 300 "${PIN_GEN[@]}" "$GEN" bench "$mode" --url "ws://127.0.0.1:$SERVER_PORT$path" \
    --server-pid "$SERVER_PID" --json --quiet "$@" >"$OUT_DIR/$name.$kind.json" \
    2>"$OUT_DIR/$name.$kind.err" || echo "   (generator exit $?; see $OUT_DIR/$name.$kind.err)" >&2
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

echo "results: $OUT_DIR" >&2
echo
echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -sr)"
echo
node "$HERE/table.js" "$OUT_DIR" "${SERVERS[@]}"
