// The dashboard page (/dashboard): reads /stats.json every second and draws the server's own
// figures: connections by transport, messages in and out per second, publications, channels,
// and each event loop's connections and lag. The server sends totals since its start; rates
// are the difference of two samples over the server's own uptime between them, so a slow or
// skipped request never shows as a spike. A restarted server (uptime going back) starts the
// rates afresh. Thread: the page's event loop.

import { TimeChart } from './charts.js';

const REFRESH_MS = 1000;
const FETCH_TIMEOUT_MS = 2500;  // then the request counts as failed
const TRANSPORTS = [
  { key: 'websocket', label: 'WebSocket', color: '#4f46e5' },
  { key: 'sse', label: 'SSE', color: '#0ea5e9' },
  { key: 'poll', label: 'Long-polling', color: '#f59e0b' },
  { key: 'tcp', label: 'Raw TCP', color: '#10b981' },
];
const LOOP_COLORS = ['#4f46e5', '#0ea5e9', '#f59e0b', '#10b981', '#ef4444', '#a855f7', '#14b8a6',
  '#f97316'];

const $ = (id) => document.getElementById(id);
const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

function count(v) {
  return integer.format(Math.round(v));
}

function rate(v) {
  if (v == null) {
    return '–';
  }
  if (v >= 10000) {
    return `${oneDecimal.format(v / 1000)}k`;
  }
  return v < 10 ? oneDecimal.format(v) : integer.format(Math.round(v));
}

function axisCount(v) {
  return v >= 10000 ? `${oneDecimal.format(v / 1000)}k` : oneDecimal.format(v);
}

function lag(us) {
  if (us == null) {
    return '–';
  }
  return us < 1000 ? `${integer.format(us)} µs` : `${oneDecimal.format(us / 1000)} ms`;
}

function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${oneDecimal.format(n)} ${units[i]}`;
}

function duration(ms) {
  let s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d > 0) {
    return `${d}d ${h}h`;
  }
  if (h > 0) {
    return `${h}h ${m}m`;
  }
  return m > 0 ? `${m}m ${s}s` : `${s}s`;
}

// Writes a figure as text, and the raw number in data-value (what tests read).
function show(id, text, value = null) {
  const node = $(id);
  node.textContent = text;
  node.dataset.value = value == null ? '' : String(value);
}

const charts = {
  connections: new TimeChart($('chart-connections'), $('legend-connections'),
    { series: TRANSPORTS, stacked: true, format: axisCount, minMax: 4 }),
  messages: new TimeChart($('chart-messages'), $('legend-messages'), {
    series: [
      { key: 'in', label: 'In', color: '#0ea5e9' },
      { key: 'out', label: 'Out', color: '#4f46e5' },
      { key: 'pubs', label: 'Publications', color: '#f59e0b' },
    ],
    format: axisCount,
    legendFormat: rate,
    minMax: 5,
  }),
  channels: new TimeChart($('chart-channels'), $('legend-channels'), {
    series: [
      { key: 'channels', label: 'Channels', color: '#10b981' },
      { key: 'clients', label: 'Protocol clients', color: '#a855f7' },
    ],
    format: axisCount,
    minMax: 4,
  }),
  lag: new TimeChart($('chart-lag'), $('legend-lag'),
    { series: [], format: (us) => lag(us), minMax: 200 }),
};

let previous = null; // the last sample, for rates
let loopCount = -1;

function rates(cur, prev, dt) {
  const r = (key) => (prev && dt > 0 && cur[key] >= prev[key] ? (cur[key] - prev[key]) / dt
    : null);
  return { in: r('messages_in'), out: r('messages_out'), pubs: r('publications') };
}

function render(stats) {
  const prev = previous && stats.uptime_ms >= previous.uptime_ms ? previous : null;
  const dt = prev ? (stats.uptime_ms - prev.uptime_ms) / 1000 : 0;
  previous = stats;
  const t = stats.total;
  const total = rates(t, prev?.total, dt);
  const realtime = t.websocket + t.sse + t.poll + t.tcp;

  show('v-connections', count(realtime), realtime);
  show('v-connections-sub',
    `WS ${count(t.websocket)} · SSE ${count(t.sse)} · poll ${count(t.poll)} · TCP ${count(t.tcp)}`);
  show('v-in', rate(total.in), total.in);
  show('v-in-sub', `${count(t.messages_in)} since start`);
  show('v-out', rate(total.out), total.out);
  show('v-out-sub', `${count(t.messages_out)} since start`);
  show('v-pubs', rate(total.pubs), total.pubs);
  show('v-pubs-sub', `${count(t.publications)} since start`);
  show('v-channels', count(t.channels), t.channels);
  show('v-channels-sub', `${count(t.clients)} protocol ${t.clients === 1 ? 'client' : 'clients'}`);
  const stalled = stats.loops.filter((l) => l.stalled).length;
  show('v-lag', stalled ? 'stalled' : lag(t.lag_us), t.lag_us);
  show('v-lag-sub', stalled
    ? `${stalled} of ${stats.loops.length} loop${stats.loops.length === 1 ? '' : 's'} not answering`
    : `largest of ${stats.loops.length} loop${stats.loops.length === 1 ? '' : 's'}`);
  $('v-lag').classList.toggle('bad', stalled > 0);

  charts.connections.push({ websocket: t.websocket, sse: t.sse, poll: t.poll, tcp: t.tcp });
  if (prev) {
    charts.messages.push(total);
  }
  charts.channels.push({ channels: t.channels, clients: t.clients });
  if (stats.loops.length !== loopCount) {
    loopCount = stats.loops.length;
    charts.lag.setSeries(stats.loops.map((_, i) => ({
      key: `l${i}`, label: `Loop ${i}`, color: LOOP_COLORS[i % LOOP_COLORS.length],
    })));
  }
  charts.lag.push(Object.fromEntries(stats.loops.map((l, i) => [`l${i}`, l.lag_us])));

  renderLoops(stats.loops, prev?.loops, dt);
  $('summary').textContent = `Herald ${stats.version} · up ${duration(stats.uptime_ms)} · ` +
    `heap ${bytes(stats.heap_bytes)} · ${count(t.http_requests)} HTTP requests`;
}

function renderLoops(loops, prevLoops, dt) {
  const body = $('loops').tBodies[0];
  while (body.rows.length > loops.length) {
    body.deleteRow(-1);
  }
  while (body.rows.length < loops.length) {
    const row = body.insertRow();
    for (let c = 0; c < 8; c++) {
      row.insertCell();
    }
    row.cells[2].className = 'bar-cell';
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.append(document.createElement('span'));
    row.cells[2].append(bar);
  }
  const most = Math.max(1, ...loops.map((l) => l.connections));
  loops.forEach((l, i) => {
    const row = body.rows[i];
    const r = rates(l, prevLoops?.[i], dt);
    row.dataset.loop = String(i);
    row.cells[0].textContent = `Loop ${i}`;
    row.cells[1].textContent = count(l.connections);
    row.cells[1].dataset.value = String(l.connections);
    row.cells[2].firstChild.firstChild.style.width = `${(100 * l.connections) / most}%`;
    row.cells[3].textContent = count(l.clients);
    row.cells[4].textContent = count(l.channels);
    row.cells[5].textContent = rate(r.in);
    row.cells[6].textContent = rate(r.out);
    row.cells[7].textContent = l.stalled ? 'stalled' : lag(l.lag_us);
    row.classList.toggle('stalled', Boolean(l.stalled));
  });
}

function setStatus(state, text) {
  $('status').dataset.state = state;
  $('status-text').textContent = text;
}

let failures = 0;

async function refresh() {
  const started = performance.now();
  // A request that hangs (its connection landed on an event loop that stopped turning) is given
  // up, so the page says so and the next one opens a new connection, which another loop serves.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error(`no answer within ${FETCH_TIMEOUT_MS} ms`)),
    FETCH_TIMEOUT_MS);
  try {
    const res = await fetch('/stats.json', { cache: 'no-store', signal: abort.signal });
    if (!res.ok) {
      throw new Error(`HTTP ${res.status}`);
    }
    render(await res.json());
    failures = 0;
    setStatus('live', 'Live');
  } catch (err) {
    failures += 1;
    previous = null;
    for (const chart of Object.values(charts)) {
      chart.push(null); // a gap, not a guess
    }
    setStatus(failures > 2 ? 'disconnected' : 'stale',
      failures > 2 ? 'Server unreachable' : 'Retrying…');
    $('status').title = String(err.message ?? err);
  } finally {
    clearTimeout(timer);
  }
  // Every second on the second: the next request leaves one second after this one started.
  setTimeout(refresh, Math.max(100, REFRESH_MS - (performance.now() - started)));
}

refresh();
