// Small SVG charts, drawn by hand: a time series with anomaly markers and a two-line rate chart.
// No library: the page must load with nothing but this server, and these need ~100 lines.

const NS = 'http://www.w3.org/2000/svg';

/** Creates an SVG element with attributes. */
export function svgEl(name, attrs = {}, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** About five round tick values covering [lo, hi]. */
export function ticks(lo, hi, n = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

/** Tick times on round clock steps (1 s … 1 d) so the axis reads 10:00, 10:30, 11:00. */
export function timeTicks(t0, t1, n = 6) {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].map((s) => s * 1000);
  const step = steps.find((s) => (t1 - t0) / s <= n) ?? steps[steps.length - 1];
  const out = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) out.push(t);
  return { ticks: out, step };
}

export function fmtNum(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(2);
  return (+v.toPrecision(4)).toLocaleString('en-US');
}

export function fmtTime(ms, withDate = false) {
  const d = new Date(ms);
  const iso = d.toISOString();
  return withDate ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : iso.slice(11, 19);
}

/**
 * Draws a series into `host`: a line of points {t, v}, anomalies {id, timestampMs, value,
 * severity} as markers (buttons for keyboard users). `onPick(anomaly)` is called on selection.
 */
export function seriesChart(host, { title, points, anomalies, selectedId, onPick }) {
  const W = 900;
  const H = 280;
  const m = { l: 64, r: 16, t: 12, b: 28 };
  const svg = svgEl('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `${title}: ${points.length} samples, ${anomalies.length} anomalies`, class: 'series-chart' });
  svg.appendChild(svgEl('title', {}, title));
  const ts = points.map((p) => p.t).concat(anomalies.map((a) => a.timestampMs));
  const vs = points.map((p) => p.v).concat(anomalies.map((a) => a.value));
  if (ts.length === 0) {
    svg.appendChild(svgEl('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'muted' }, 'no samples yet'));
    host.replaceChildren(svg);
    return;
  }
  let [t0, t1] = [Math.min(...ts), Math.max(...ts)];
  let [v0, v1] = [Math.min(...vs), Math.max(...vs)];
  if (t1 === t0) t1 = t0 + 1000;
  const pad = (v1 - v0) * 0.08 || Math.abs(v0) * 0.1 || 1;
  v0 -= pad;
  v1 += pad;
  const x = (t) => m.l + ((t - t0) / (t1 - t0)) * (W - m.l - m.r);
  const y = (v) => H - m.b - ((v - v0) / (v1 - v0)) * (H - m.t - m.b);

  const grid = svgEl('g', { class: 'grid', 'aria-hidden': 'true' });
  for (const v of ticks(v0, v1)) {
    grid.appendChild(svgEl('line', { x1: m.l, x2: W - m.r, y1: y(v), y2: y(v) }));
    grid.appendChild(svgEl('text', { x: m.l - 6, y: y(v) + 4, 'text-anchor': 'end' }, fmtNum(v)));
  }
  const tt = timeTicks(t0, t1);
  for (const t of tt.ticks) {
    const label = tt.step >= 86400_000 ? new Date(t).toISOString().slice(5, 10) : tt.step >= 60_000 ? fmtTime(t).slice(0, 5) : fmtTime(t);
    grid.appendChild(svgEl('line', { x1: x(t), x2: x(t), y1: H - m.b, y2: H - m.b + 4 }));
    grid.appendChild(svgEl('text', { x: x(t), y: H - 8, 'text-anchor': 'middle' }, label));
  }
  grid.appendChild(svgEl('text', { x: W - m.r, y: H - 8, 'text-anchor': 'end' }, 'UTC'));
  svg.appendChild(grid);

  // Anomalies also get a faint band so a cluster reads as one event at a glance.
  const bands = svgEl('g', { class: 'bands', 'aria-hidden': 'true' });
  for (const a of anomalies) bands.appendChild(svgEl('rect', { x: x(a.timestampMs) - 2, y: m.t, width: 4, height: H - m.t - m.b, class: `band sev-${a.severity}` }));
  svg.appendChild(bands);

  if (points.length) {
    const d = points.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join('');
    svg.appendChild(svgEl('path', { d, class: 'line', 'aria-hidden': 'true' }));
  }
  const marks = svgEl('g', { class: 'marks' });
  for (const a of anomalies) {
    const g = svgEl('g', { class: `mark sev-${a.severity}${a.id === selectedId ? ' selected' : ''}`, tabindex: 0, role: 'button', 'data-anomaly-id': a.id, 'aria-label': `anomaly at ${fmtTime(a.timestampMs, true)}, value ${fmtNum(a.value)}, ${a.ruleId ?? 'base detector'}` });
    g.appendChild(svgEl('title', {}, `${fmtTime(a.timestampMs, true)} ${fmtNum(a.value)} — ${a.explanation}`));
    g.appendChild(svgEl('circle', { cx: x(a.timestampMs), cy: y(a.value), r: 5 }));
    const pick = () => onPick?.(a);
    g.addEventListener('click', pick);
    g.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        pick();
      }
    });
    marks.appendChild(g);
  }
  svg.appendChild(marks);
  host.replaceChildren(svg);
}

/** Goodput (ok/s) against requests that ran per second, over the window. */
export function rateChart(host, timeline) {
  const W = 420;
  const H = 140;
  const m = { l: 40, r: 8, t: 8, b: 20 };
  const svg = svgEl('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'goodput and requests that ran, per second, over the window', class: 'rate-chart' });
  const max = Math.max(1, ...timeline.map((p) => p.ran));
  const n = Math.max(1, timeline.length - 1);
  const x = (i) => m.l + (i / n) * (W - m.l - m.r);
  const y = (v) => H - m.b - (v / max) * (H - m.t - m.b);
  const grid = svgEl('g', { class: 'grid', 'aria-hidden': 'true' });
  for (const v of ticks(0, max, 3)) {
    grid.appendChild(svgEl('line', { x1: m.l, x2: W - m.r, y1: y(v), y2: y(v) }));
    grid.appendChild(svgEl('text', { x: m.l - 4, y: y(v) + 4, 'text-anchor': 'end' }, fmtNum(v)));
  }
  grid.appendChild(svgEl('text', { x: m.l, y: H - 4 }, `last ${timeline.length} s`));
  grid.appendChild(svgEl('text', { x: W - m.r, y: H - 4, 'text-anchor': 'end' }, 'req/s: green within deadline, grey dashed ran'));
  svg.appendChild(grid);
  const path = (key, cls) => svg.appendChild(svgEl('path', { class: cls, d: timeline.map((p, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(p[key]).toFixed(1)}`).join('') }));
  if (timeline.length) {
    path('ran', 'line ran');
    path('ok', 'line ok');
  }
  host.replaceChildren(svg);
}
