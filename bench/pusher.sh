#!/usr/bin/env bash
# The Pusher protocol against Herald's own (issue 14): the same fan-out load to SUBSCRIBERS
# clients speaking the Pusher protocol 7 (what pusher-js and Laravel Echo send: WebSocket on
# /app/KEY?protocol=7, pusher:subscribe, one event per message) and then Herald's protocol on
# /connection/websocket, one after the other in one run, each against a fresh server.
#
#   bench/pusher.sh path/to/herald
#   RATES="10 20" bench/pusher.sh ...     # fan-out at several rates (default: 10)
#   SUBSCRIBERS=10000 DURATION=10 QUIET_WAIT=30 BUSY_PCT=20 MAX_TRIES=3 (the defaults)
#
# fanout-R-T: SUBSCRIBERS clients over T (websocket: the Herald protocol; pusher: the Pusher
#   protocol, bench/src/pusher_link.cpp) subscribe to one channel; R msg/s of 64 bytes are
#   published through POST /api/publish (herald bench fanout --transport T). One server
#   configuration for both: the bench namespace (join/leave pushes off, durable history) is
#   also the namespace of a Pusher app, so Pusher channel `fanout` is the Herald channel
#   bench:fanout that the publisher writes to.
# Every scenario starts a fresh `herald serve --threads 1 --data-dir ...` pinned to CPU 0, waits
# for the machine to be quiet and runs the generator on CPU 1. Output: one JSON file per run in
# $OUT_DIR (default a temp dir), then a markdown table.
set -euo pipefail

HERALD=${1:-}
RATES=${RATES:-10}
SUBSCRIBERS=${SUBSCRIBERS:-10000}
DURATION=${DURATION:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT_DIR=${OUT_DIR:-$(mktemp -d /tmp/herald-pusher.XXXXXX)}
mkdir -p "$OUT_DIR"
if [[ -z "$HERALD" || ! -x "$HERALD" ]]; then
  echo "usage: $0 path/to/herald   (herald binary not found: $HERALD)" >&2
  exit 2
fi
GEN=${HERALD_BENCH:-$HERALD}
KEY=bench-key

source "$HERE/lib.sh"
PROTO_CONFIG="$OUT_DIR/herald-pusher-bench.yaml"
cat >"$PROTO_CONFIG" <<YAML
namespaces:
  bench:
    join_leave: false
pusher:
  apps:
    - {id: "bench", key: "$KEY", secret: "bench-secret-not-used", namespace: "bench"}
YAML
"$HERALD" check-config --config "$PROTO_CONFIG" --memory >/dev/null

other_cpu() {
  node -e 'try { const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(r.other_cpu_pct === undefined ? 999 : Math.round(Math.abs(r.other_cpu_pct)));
  } catch (e) { console.log(999); }' "$1"
}

# run NAME TRANSPORT ARGS...: as transports.sh's run_transport (the quietest of up to MAX_TRIES
# runs is kept in $OUT_DIR/NAME.herald.json).
run() {
  local name=$1 transport=$2
  shift 2
  local try best=999 other url
  for try in $(seq "${MAX_TRIES:-3}"); do
    wait_quiet
    start_server herald-durable || return 0
    if [[ $transport == pusher ]]; then
      url="ws://127.0.0.1:$SERVER_PORT/app/$KEY?protocol=7&client=js&version=8.4.0"
    else
      url="ws://127.0.0.1:$SERVER_PORT/connection/websocket"
    fi
    echo "== $name (port $SERVER_PORT), run $try" >&2
    timeout 300 "${PIN_GEN[@]}" "$GEN" bench fanout --url "$url" --transport "$transport" \
      --server-pid "$SERVER_PID" --json --quiet "$@" \
      >"$OUT_DIR/$name.try$try.json" 2>"$OUT_DIR/$name.try$try.err" ||
      echo "   (generator exit $?; see $OUT_DIR/$name.try$try.err)" >&2
    stop_server
    sleep 1
    other=$(other_cpu "$OUT_DIR/$name.try$try.json")
    if [[ $other -lt $best ]]; then
      best=$other
      cp "$OUT_DIR/$name.try$try.json" "$OUT_DIR/$name.herald.json"
    fi
    if [[ $other -le ${BUSY_PCT:-20} ]]; then
      break
    fi
    echo "   other processes took ${other} % of a CPU during the run" >&2
  done
}

for rate in $RATES; do
  for t in pusher websocket; do
    run "fanout-$rate-$t" "$t" --subscribers "$SUBSCRIBERS" --rate "$rate" --size 64 \
      --duration "$DURATION"
  done
done

echo "results: $OUT_DIR" >&2
echo
echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -sr)"
echo
node - "$OUT_DIR" $RATES <<'JS'
const fs = require('fs');
const [dir, ...rates] = process.argv.slice(2);
const load = (n) => { try { return JSON.parse(fs.readFileSync(`${dir}/${n}.herald.json`, 'utf8').trim().split('\n').pop()); } catch (e) { return null; } };
const n = (v, d = 0) => (v === undefined || v === null ? 'n/a' : Number(v).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
const ms = (us) => (us === undefined ? 'n/a' : n(us / 1000, 1) + ' ms');
console.log('| msg/s | figure | Pusher protocol (`/app/KEY`) | Herald protocol (`/connection/websocket`) |');
console.log('| --- | --- | --- | --- |');
for (const rate of rates) {
  const [p, h] = [load(`fanout-${rate}-pusher`), load(`fanout-${rate}-websocket`)];
  const row = (label, fn, first) => console.log(`| ${first ? rate : ''} | ${label} | ${p ? fn(p) : 'failed'} | ${h ? fn(h) : 'failed'} |`);
  row('subscribers connected, time', (r) => `${n(r.connected)} (${n(r.connect_failed)} failed), ${n(r.connect_s, 2)} s`, true);
  row('deliveries/s (offered)', (r) => `${n(r.delivered_per_s)} (${n(r.offered_deliveries_per_s)})`);
  row('lost (gaps / duplicates)', (r) => `${n(r.deliveries_lost)} (${n(r.seq_gaps)} / ${n(r.duplicates)})`);
  row('latency p50 / p99 / max', (r) => `${ms(r.latency_p50_us)} / ${ms(r.latency_p99_us)} / ${ms(r.latency_max_us)}`);
  row('**server CPU per delivery**', (r) => `**${n(r.server_cpu_us_per_delivery, 3)} us**`);
  row('ratio to the Herald protocol', (r) => (h ? n(r.server_cpu_us_per_delivery / h.server_cpu_us_per_delivery, 2) : 'n/a'));
  row('server CPU for connect + subscribe', (r) => n(r.server_connect_cpu_s, 2) + ' s');
  row('server / generator CPU', (r) => `${n(r.server_cpu_pct)} % / ${n(r.generator_cpu_pct)} %`);
  row('pushes per WebSocket message', (r) => n(r.pushes_per_unit, 2));
  row('CPU of other processes', (r) => n(r.other_cpu_pct) + ' %');
}
JS
