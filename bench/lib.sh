# Shell functions shared by bench/run.sh and bench/transports.sh (sourced, not run). The caller
# sets HERALD (the herald binary, or "none"), HERE (this folder) and OUT_DIR before sourcing.
#
# start_server KIND starts one server pinned to CPU 0 and sets SERVER_PID and SERVER_PORT (and
# SERVER_TCP_PORT with SERVER_TCP=1, see below; over TLS with SERVER_TLS_CERT and SERVER_TLS_KEY
# set: herald gets --tls-cert/--tls-key, OTHER_SERVER the env UWS_TLS_CERT/UWS_TLS_KEY, as
# bench/build-uws.sh's server takes them); stop_server stops it (also on exit);
# wait_quiet waits for the machine to calm down before a run.

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
# the Herald protocol server with durable or in-memory history. With SERVER_TCP=1 these two also
# serve the raw TCP transport (--tcp-listen 127.0.0.1:0) and SERVER_TCP_PORT is set.
SERVER_TCP_PORT=""
start_server() {
  local kind=$1 log="$OUT_DIR/server-$1.out"
  : >"$log"
  local tls=() tls_env=()
  if [[ -n "${SERVER_TLS_CERT:-}" ]]; then
    tls=(--tls-cert "$SERVER_TLS_CERT" --tls-key "$SERVER_TLS_KEY")
    tls_env=(UWS_TLS_CERT="$SERVER_TLS_CERT" UWS_TLS_KEY="$SERVER_TLS_KEY")
  fi
  if [[ "$kind" == herald-durable || "$kind" == herald-memory ]]; then
    local history=(--memory)
    if [[ "$kind" == herald-durable ]]; then
      DATA_DIR=$(mktemp -d /tmp/herald-bench-data.XXXXXX)
      history=(--data-dir "$DATA_DIR")
    fi
    local config=()
    [[ -n "$PROTO_CONFIG" ]] && config=(--config "$PROTO_CONFIG")
    [[ "${SERVER_TCP:-0}" == 1 ]] && config+=(--tcp-listen 127.0.0.1:0)
    "${PIN_SERVER[@]}" "$HERALD" serve --listen 127.0.0.1:0 --threads 1 "${history[@]}" \
      "${config[@]}" "${tls[@]}" >"$log" 2>"$OUT_DIR/server-$kind.err" &
  elif [[ "$kind" == ws ]]; then
    "${PIN_SERVER[@]}" node "$HERE/reference/ws-server.js" 0 >"$log" 2>"$OUT_DIR/server-ws.err" &
  elif [[ "$kind" == "${OTHER_NAME:-other}" && -n "${OTHER_SERVER:-}" ]]; then
    env "${tls_env[@]}" "${PIN_SERVER[@]}" "$OTHER_SERVER" 0 >"$log" \
      2>"$OUT_DIR/server-$kind.err" &
  else
    "${PIN_SERVER[@]}" "$HERALD" serve --listen 127.0.0.1:0 --threads 1 --echo --memory \
      "${tls[@]}" >"$log" 2>"$OUT_DIR/server-herald.err" &
  fi
  SERVER_PID=$!
  SERVER_PORT=""
  SERVER_TCP_PORT=""
  local want_tcp=0
  [[ "${SERVER_TCP:-0}" == 1 && "$kind" == herald-* ]] && want_tcp=1
  for _ in $(seq 100); do
    local line
    line=$(head -n 1 "$log" 2>/dev/null || true)
    if [[ "$line" =~ ^listening\ ([0-9]+)$ ]] ||
       [[ "$line" =~ ^herald\ listening\ on\ https?://127\.0\.0\.1:([0-9]+)$ ]]; then
      SERVER_PORT=${BASH_REMATCH[1]}
      if [[ $want_tcp == 0 ]]; then
        return 0
      fi
      line=$(sed -n 2p "$log" 2>/dev/null || true)  # "herald tcp on tcp://127.0.0.1:PORT"
      if [[ "$line" =~ ^herald\ tcp\ on\ (tcp|tls)://127\.0\.0\.1:([0-9]+)$ ]]; then
        SERVER_TCP_PORT=${BASH_REMATCH[2]}
        return 0
      fi
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
