'use strict';
// Turns the JSON lines that bench/run.sh collected into one markdown table.
// Usage: node table.js OUT_DIR ws [herald]
const fs = require('fs');
const path = require('path');

const [dir, ...servers] = process.argv.slice(2);

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

const header = ['scenario', 'figure', ...servers.map((s) => (s === 'ws' ? 'npm ws 8' : s))];
console.log('| ' + header.join(' | ') + ' |');
console.log('|' + header.map(() => ' --- ').join('|') + '|');
for (const [title, name, figures] of rows) {
  const results = servers.map((s) => load(name, s));
  figures.forEach(([label, fn], i) => {
    const cells = results.map((r) => (r ? fn(r) : 'failed'));
    console.log(`| ${i === 0 ? title : ''} | ${label} | ${cells.join(' | ')} |`);
  });
}
