'use strict';
// Turns the JSON lines that bench/run.sh collected into one markdown table.
// Usage: node table.js OUT_DIR ws [herald]
// With herald, a second table holds the Herald protocol scenarios found in OUT_DIR.
const fs = require('fs');
const path = require('path');

// Usage: node table.js --transports OUT_DIR RATE...   (bench/transports.sh) prints the transport
// tables instead.
const transportsMode = process.argv[2] === '--transports';
const [dir, ...servers] = process.argv.slice(transportsMode ? 3 : 2);

function load(name, server) {
  try {
    const text = fs.readFileSync(path.join(dir, `${name}.${server}.json`), 'utf8').trim();
    return text ? JSON.parse(text.split('\n').pop()) : null;
  } catch (e) {
    return null;
  }
}

const n = (v, digits = 0) =>
  v === undefined || v === null ? 'n/a' : Number(v).toLocaleString('en-US', {
    maximumFractionDigits: digits, minimumFractionDigits: digits });
const ms = (us) => (us === undefined ? 'n/a' : n(us / 1000, 2) + ' ms');

const rows = [
  ['/chat 1,000 clients, 1,000 msg/s (~1M deliveries/s offered)', 'chat-1000x1000', [
    ['deliveries/s', (r) => n(r.delivered_per_s)],
    ['lost deliveries', (r) => `${n(r.deliveries_lost)} (${n(r.lost_pct, 1)} %)`],
    ['latency p50 / p99 / max', (r) => `${ms(r.latency_p50_us)} / ${ms(r.latency_p99_us)} / ${ms(r.latency_max_us)}`],
    ['server CPU', (r) => n(r.server_cpu_pct) + ' %'],
    ['generator CPU', (r) => n(r.generator_cpu_pct) + ' %'],
  ]],
  ['/chat 1,000 clients, 100 msg/s', 'chat-1000x100', [
    ['deliveries/s', (r) => n(r.delivered_per_s)],
    ['lost deliveries', (r) => n(r.deliveries_lost)],
    ['server CPU per delivery', (r) => n(r.server_cpu_us_per_delivery, 3) + ' us'],
    ['latency p50 / p99', (r) => `${ms(r.latency_p50_us)} / ${ms(r.latency_p99_us)}`],
    ['server CPU', (r) => n(r.server_cpu_pct) + ' %'],
  ]],
  ['echo 100 connections x 32 B, 1 in flight', 'echo-100x1', [
    ['messages/s', (r) => n(r.messages_per_s)],
    ['latency p50 / p99', (r) => `${ms(r.latency_p50_us)} / ${ms(r.latency_p99_us)}`],
    ['server CPU per message', (r) => n(r.server_cpu_us_per_msg, 2) + ' us'],
    ['server / generator CPU', (r) => `${n(r.server_cpu_pct)} % / ${n(r.generator_cpu_pct)} %`],
  ]],
  ['echo 100 connections x 32 B, 16 in flight', 'echo-100x16', [
    ['messages/s', (r) => n(r.messages_per_s)],
    ['latency p50 / p99', (r) => `${ms(r.latency_p50_us)} / ${ms(r.latency_p99_us)}`],
    ['server CPU per message', (r) => n(r.server_cpu_us_per_msg, 2) + ' us'],
    ['server / generator CPU', (r) => `${n(r.server_cpu_pct)} % / ${n(r.generator_cpu_pct)} %`],
  ]],
  ['10,000 idle connections', 'idle-10k', [
    ['connected', (r) => `${n(r.connected)} (${n(r.connect_failed)} failed)`],
    ['time to connect all', (r) => n(r.connect_s, 2) + ' s'],
    ['server RSS per connection (all / after the first 10 %)',
      (r) => `${n(r.server_rss_per_connection_kib, 2)} / ${n(r.server_rss_per_connection_marginal_kib, 2)} KiB`],
    ['server CPU per connection', (r) => n(r.server_cpu_us_per_connection) + ' us'],
  ]],
];

function table(columns, rowList) {
  const header = ['scenario', 'figure', ...columns.map((s) => (s === 'ws' ? 'npm ws 8' : s))];
  console.log('| ' + header.join(' | ') + ' |');
  console.log('|' + header.map(() => ' --- ').join('|') + '|');
  for (const [title, name, figures] of rowList) {
    const results = columns.map((s) => load(name, s));
    figures.forEach(([label, fn], i) => {
      const cells = results.map((r) => (r ? fn(r) : 'failed'));
      console.log(`| ${i === 0 ? title : ''} | ${label} | ${cells.join(' | ')} |`);
    });
  }
}

if (transportsMode) {
  transportTables(servers);  // here: the fan-out rates
  process.exit(0);
}

table(servers, rows);

// Channels (Herald protocol): herald only, one column.
const fanout = [
  ['deliveries/s (offered)', (r) => `${n(r.delivered_per_s)} (${n(r.offered_deliveries_per_s)})`],
  ['messages published/s', (r) => `${n(r.offered_msgs_per_s)} (${n(r.publish_rejected)} rejected, ${n(r.sends_skipped)} skipped, ` +
    `${n(r.publish_outstanding_at_end)} unanswered at the end)`],
  ['lost deliveries (gaps in sequence / duplicates)',
    (r) => `${n(r.deliveries_lost)} (${n(r.lost_pct, 2)} %) (${n(r.seq_gaps)} / ${n(r.duplicates)})`],
  ['latency p50 / p99 / max', (r) => `${ms(r.latency_p50_us)} / ${ms(r.latency_p99_us)} / ${ms(r.latency_max_us)}`],
  ['publish answer p50 / p99', (r) => `${ms(r.publish_reply_p50_us)} / ${ms(r.publish_reply_p99_us)}`],
  ['server CPU per delivery', (r) => n(r.server_cpu_us_per_delivery, 3) + ' us'],
  ['server / generator CPU', (r) => `${n(r.server_cpu_pct)} % / ${n(r.generator_cpu_pct)} %`],
  ['subscribers connected, time', (r) => `${n(r.connected)} (${n(r.connect_failed)} failed, ${n(r.disconnected_during_run)} dropped), ${n(r.connect_s, 2)} s`],
  ['CPU of other processes (should be ~0)', (r) => n(r.other_cpu_pct) + ' %'],
];
const history = [
  ['publishes/s', (r) => `${n(r.publishes_per_s)} (${n(r.publishes_accepted)} of ${n(r.publishes_requested)})`],
  ['answer latency p50 / p99 / max', (r) => `${ms(r.latency_p50_us)} / ${ms(r.latency_p99_us)} / ${ms(r.latency_max_us)}`],
  ['server CPU per publish', (r) => n(r.server_cpu_us_per_publish, 2) + ' us'],
  ['server / generator CPU', (r) => `${n(r.server_cpu_pct)} % / ${n(r.generator_cpu_pct)} %`],
  ['CPU of other processes (should be ~0)', (r) => n(r.other_cpu_pct) + ' %'],
];
const recovery = [
  ['rounds with all 1,000 back, in order', (r) => `${n(r.rounds_ok)} of ${n(r.rounds)}` +
    (r.first_failure ? ` (first failure: ${r.first_failure})` : '')],
  ['from TCP connect: p50 / p99 / max', (r) => `${n(r.from_connect_p50_ms, 2)} / ${n(r.from_connect_p99_ms, 2)} / ${n(r.from_connect_max_ms, 2)} ms`],
  ['from connect+subscribe: p50 / p99 / max', (r) => `${n(r.from_subscribe_p50_ms, 2)} / ${n(r.from_subscribe_p99_ms, 2)} / ${n(r.from_subscribe_max_ms, 2)} ms`],
  ['server CPU per recovery (total over the rounds, 10 ms ticks)',
    (r) => `${n(r.server_cpu_ms_per_recovery, 2)} ms (${n(r.server_cpu_total_ms)} ms)`],
];
const protoRows = [
  ['fanout: 1 channel, 10,000 subscribers, 10 msg/s via the API', 'fanout-10k', fanout],
  ['fanout: 1 channel, 10,000 subscribers, 100 msg/s via the API (saturating)', 'fanout-10k-sat', fanout],
  ['fanout: the same, history in memory', 'fanout-10k-sat-memory', fanout],
  ['channels: 10,000 x 1 subscriber, 10,000 msg/s via the API', 'channels-10k', fanout],
  ['channels: 10,000 x 1 subscriber, 100,000 msg/s via the API', 'channels-10k-sat', fanout],
  ['channels: the same, history in memory', 'channels-10k-sat-memory', fanout],
  ['fanout: 1 channel, 1,000 subscribers, 100 msg/s from a client (as /chat)', 'fanout-1000x100-ws', fanout],
  ['fanout: the same, history in memory', 'fanout-1000x100-ws-memory', fanout],
  ['history: 300,000 publishes to 8 channels, 4 connections x 64 in flight, durable', 'history-durable', history],
  ['history: the same, in memory', 'history-memory', history],
  ['history: 100,000 publishes, 1 connection x 64 in flight, durable', 'history-durable-1conn', history],
  ['history: the same, in memory', 'history-memory-1conn', history],
  ['recovery of 1,000 missed, 20 rounds, durable', 'recovery-1000', recovery],
  ['recovery of 1,000 missed, 20 rounds, in memory', 'recovery-1000-memory', recovery],
];
if (servers.includes('herald') && protoRows.some(([, name]) => load(name, 'herald'))) {
  console.log('\nChannels (Herald protocol), herald --threads 1:\n');
  table(['herald'], protoRows.filter(([, name]) => load(name, 'herald')));
  const chat = load('chat-1000x100', 'herald');
  for (const [name, label] of [['fanout-1000x100-ws', 'durable'], ['fanout-1000x100-ws-memory', 'memory']]) {
    const channel = load(name, 'herald');
    if (chat && channel && chat.server_cpu_us_per_delivery && channel.server_cpu_us_per_delivery) {
      const ratio = channel.server_cpu_us_per_delivery / chat.server_cpu_us_per_delivery;
      console.log(`\nServer CPU per delivery, 1,000 clients at 100 msg/s: channel (${label}) ` +
        `${n(channel.server_cpu_us_per_delivery, 3)} us, /chat ${n(chat.server_cpu_us_per_delivery, 3)} us: ` +
        `ratio ${n(ratio, 2)} (target <= 1.2)`);
    }
  }
}

// bench/transports.sh: the same fan-out and idle clients over each transport, one column each.
function transportTables(rates) {
  const transports = ['websocket', 'tcp', 'sse', 'poll'];
  const header = (first) => {
    console.log('| ' + [first, ...transports].join(' | ') + ' |');
    console.log('|' + [first, ...transports].map(() => ' --- ').join('|') + '|');
  };
  const row = (label, results, fn) =>
    console.log(`| ${label} | ${results.map((r) => (r ? fn(r) : 'failed')).join(' | ')} |`);
  for (const rate of rates) {
    const results = transports.map((t) => load(`fanout-${rate}-${t}`, 'herald'));
    if (!results.some((r) => r)) {
      continue;
    }
    const ws = results[0];
    console.log(`\nFan-out: 1 channel, ${n(ws ? ws.connections : 10000)} subscribers, ${rate} msg/s ` +
      'via the API, herald --threads 1, durable history:\n');
    header('figure');
    row('deliveries/s (offered)', results, (r) => `${n(r.delivered_per_s)} (${n(r.offered_deliveries_per_s)})`);
    row('lost (gaps / duplicates)', results, (r) => `${n(r.deliveries_lost)} (${n(r.seq_gaps)} / ${n(r.duplicates)})`);
    row('latency p50 / p99 / max', results,
      (r) => `${ms(r.latency_p50_us)} / ${ms(r.latency_p99_us)} / ${ms(r.latency_max_us)}`);
    row('server CPU per delivery', results, (r) => n(r.server_cpu_us_per_delivery, 3) + ' us');
    row('ratio to WebSocket', results, (r) => (ws && ws.server_cpu_us_per_delivery
      ? n(r.server_cpu_us_per_delivery / ws.server_cpu_us_per_delivery, 2) : 'n/a'));
    row('server / generator CPU', results, (r) => `${n(r.server_cpu_pct)} % / ${n(r.generator_cpu_pct)} %`);
    // A TCP client sees lines, not the server's writes: one push each by definition.
    row('pushes per WebSocket message / SSE event / poll answer', results,
      (r) => (r.transport === 'tcp' ? '-' : n(r.pushes_per_unit, 2)));
    row('HTTP requests (poll answers, of them empty)', results, (r) => (r.http_requests === undefined
      ? '-' : n(r.http_requests) + (r.poll_answers === undefined ? ''
        : ` (${n(r.poll_answers)}, ${n(r.poll_answers_empty)})`)));
    row('subscribers connected, time', results, (r) => `${n(r.connected)} (${n(r.connect_failed)} failed, ` +
      `${n(r.disconnected_during_run)} dropped), ${n(r.connect_s, 2)} s`);
    row('CPU of other processes (should be ~0)', results, (r) => n(r.other_cpu_pct) + ' %');
  }
  const idle = transports.map((t) => load(`idle-${t}`, 'herald'));
  if (idle.some((r) => r)) {
    const ws = idle[0];
    console.log(`\nIdle clients (connected and subscribed), herald --threads 1:\n`);
    header('figure');
    row('connected', idle, (r) => `${n(r.connected)} (${n(r.connect_failed)} failed)`);
    row('time to connect and subscribe all', idle, (r) => n(r.connect_s, 2) + ' s');
    row('server RSS per client (all / after the first 10 %)', idle,
      (r) => `${n(r.server_rss_per_connection_kib, 2)} / ${n(r.server_rss_per_connection_marginal_kib, 2)} KiB`);
    row('RSS ratio to WebSocket (all)', idle, (r) => (ws && ws.server_rss_per_connection_kib
      ? n(r.server_rss_per_connection_kib / ws.server_rss_per_connection_kib, 2) : 'n/a'));
    row('server CPU per client (connect + subscribe)', idle, (r) => n(r.server_cpu_us_per_connection) + ' us');
  }
}
