// TimeChart: a live chart of a few series over a sliding window of samples (one a second), drawn
// by hand on a <canvas>: no library. Lines, or stacked areas for parts of a whole; the y axis
// scales to a round number above the window's largest value; a missing sample (the server did
// not answer) leaves a gap instead of a made-up value. Each series' latest value is written in
// an HTML legend beside the canvas, so the figures are text that screen readers (and tests) read.
// Thread: the page's event loop.

const PAD = { left: 48, right: 10, top: 10, bottom: 22 };

// The smallest of 1, 2, 2.5, 5 x 10^n that is >= v.
export function niceCeil(v) {
  if (!(v > 0)) {
    return 1;
  }
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) {
    if (m * p >= v * 0.999999) {
      return m * p;
    }
  }
  return 10 * p;
}

function cssVar(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

export class TimeChart {
  // canvas: the <canvas>; legend: a <ul> for the series' names and latest values.
  // options: series [{key, label, color}], stacked (areas that add up), window (samples kept),
  // format (value -> text, for the axis), legendFormat (for the legend; default: format),
  // minMax (the y axis goes at least this high, so an idle server does not draw noise as
  // mountains).
  constructor(canvas, legend, { series, stacked = false, window = 120, format = String,
    legendFormat = null, minMax = 1 }) {
    this.canvas = canvas;
    this.legend = legend;
    this.stacked = stacked;
    this.window = window;
    this.format = format;
    this.legendFormat = legendFormat ?? format;
    this.minMax = minMax;
    this.samples = []; // each: {key: number | null} or null (no answer)
    this.series = [];
    this.setSeries(series);
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  // Replaces the series (e.g. when the number of loops becomes known); keeps the samples.
  setSeries(series) {
    this.series = series;
    this.legendValues = new Map();
    this.legend.replaceChildren(...series.map((s) => {
      const li = document.createElement('li');
      const swatch = document.createElement('i');
      swatch.style.setProperty('--swatch', s.color);
      const value = document.createElement('b');
      value.dataset.key = s.key;
      value.textContent = '–';
      this.legendValues.set(s.key, value);
      li.append(swatch, `${s.label} `, value);
      return li;
    }));
  }

  // Adds a sample: an object of values by series key, or null when there was none.
  push(sample) {
    this.samples.push(sample);
    if (this.samples.length > this.window) {
      this.samples.shift();
    }
    for (const s of this.series) {
      const v = sample ? sample[s.key] : null;
      const b = this.legendValues.get(s.key);
      b.textContent = v == null ? '–' : this.legendFormat(v);
      b.dataset.value = v == null ? '' : String(v);
    }
    this.draw();
  }

  draw() {
    const { canvas } = this;
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    if (w === 0 || h === 0) {
      return;
    }
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    const g = canvas.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const plotH = h - PAD.top - PAD.bottom;
    const line = cssVar('--line', '#e3e6ee');
    const muted = cssVar('--muted', '#545c6e');
    const font = cssVar('--font', 'sans-serif');

    // Stacked: each series is drawn on top of the ones before it.
    const tops = this.samples.map((s) => {
      if (!s) {
        return null;
      }
      let acc = 0;
      return this.series.map((ser) => {
        const v = Math.max(0, Number(s[ser.key]) || 0);
        acc = this.stacked ? acc + v : v;
        return acc;
      });
    });
    let max = this.minMax;
    for (const t of tops) {
      if (t) {
        max = Math.max(max, ...t);
      }
    }
    const yMax = niceCeil(max);
    // y labels at round values: 4 steps up to 2 x 10^n, else 5. The plot starts right of the
    // widest ("1,500 ms" needs more room than "4").
    g.font = `11px ${font}`;
    const mantissa = Math.round(yMax / 10 ** Math.floor(Math.log10(yMax)) * 10) / 10;
    const steps = mantissa === 2 ? 4 : 5;
    const labels = [];
    for (let i = 0; i <= steps; i++) {
      labels.push(this.format((yMax * i) / steps));
    }
    const left = Math.max(PAD.left, ...labels.map((l) => Math.ceil(g.measureText(l).width) + 14));
    const plotW = w - left - PAD.right;
    // The x axis spans the window once it is full; before, the samples so far (at least 20 s),
    // so a page opened a moment ago already draws across its width.
    const span = Math.min(this.window - 1, Math.max(20, this.samples.length - 1));
    const x = (i) => left + plotW - (this.samples.length - 1 - i) * (plotW / span);
    const y = (v) => PAD.top + plotH - (v / yMax) * plotH;

    // Grid and y labels.
    g.textBaseline = 'middle';
    g.textAlign = 'right';
    g.lineWidth = 1;
    for (let i = 0; i <= steps; i++) {
      const yy = Math.round(y((yMax * i) / steps)) + 0.5;
      g.strokeStyle = line;
      g.beginPath();
      g.moveTo(left, yy);
      g.lineTo(left + plotW, yy);
      g.stroke();
      g.fillStyle = muted;
      g.fillText(labels[i], left - 8, yy);
    }
    // Time labels: "now" at the right, then every 10, 20 or 30 s.
    g.textAlign = 'center';
    g.textBaseline = 'alphabetic';
    const every = span <= 40 ? 10 : span <= 80 ? 20 : 30;
    for (let ago = 0; ago <= span; ago += every) {
      const xx = left + plotW - ago * (plotW / span);
      const label = ago === 0 ? 'now' : ago % 60 === 0 ? `-${ago / 60}m` : `-${ago}s`;
      g.fillText(label, Math.min(Math.max(xx, left + 12), left + plotW - 12), h - 5);
    }

    // Series: areas from the one below (stacked) or from zero, and a line on top.
    for (let k = this.series.length - 1; k >= 0; k--) {
      const color = this.series[k].color;
      const runs = [];
      let run = [];
      tops.forEach((t, i) => {
        if (t) {
          run.push(i);
        } else if (run.length) {
          runs.push(run);
          run = [];
        }
      });
      if (run.length) {
        runs.push(run);
      }
      for (const r of runs) {
        g.beginPath();
        r.forEach((i, n) => (n ? g.lineTo(x(i), y(tops[i][k])) : g.moveTo(x(i), y(tops[i][k]))));
        const lastX = x(r[r.length - 1]);
        if (this.stacked || this.series.length === 1) {
          // Close the area down to the series below (or the axis).
          for (let n = r.length - 1; n >= 0; n--) {
            const i = r[n];
            const below = this.stacked && k > 0 ? tops[i][k - 1] : 0;
            g.lineTo(x(i), y(below));
          }
          g.closePath();
          g.globalAlpha = this.stacked ? 0.28 : 0.14;
          g.fillStyle = color;
          g.fill();
          g.globalAlpha = 1;
          g.beginPath();
          r.forEach((i, n) => (n ? g.lineTo(x(i), y(tops[i][k])) : g.moveTo(x(i), y(tops[i][k]))));
        }
        g.strokeStyle = color;
        g.lineWidth = 2;
        g.lineJoin = 'round';
        g.stroke();
        if (r.length === 1) {
          g.fillStyle = color;
          g.beginPath();
          g.arc(lastX, y(tops[r[0]][k]), 2.5, 0, 2 * Math.PI);
          g.fill();
        }
      }
    }
  }
}
