// The dashboard page: loads a snapshot from /api, then applies the live feed (/api/events).
// The feed is opened before the snapshot is fetched and its events are held until the snapshot is
// in, so nothing published in between is lost; applying an event twice changes nothing (anomalies
// by id, samples by timestamp). DOM is built with textContent only: labels and rule text are data.
import { fmtNum, fmtTime, rateChart, seriesChart } from './chart.js';

const $ = (id) => document.getElementById(id);
const MAX_POINTS = 720;
const MAX_RECENT = 50;

const state = {
  series: new Map(), // fingerprint → summary
  selected: null, // fingerprint
  detail: null, // {fingerprint, name, points, anomalies}
  pickedAnomaly: null,
  recent: [],
  rules: new Map(),
  incidents: new Map(),
  selectedIncident: null,
  graphFor: null, // incident id whose graph is drawn
  inference: null,
  totals: { anomalies: 0 },
};

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

async function getJson(path) {
  const res = await fetch(path, { headers: { Accept: 'application/json' } });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

// ---- rendering, batched per animation frame ----
const dirty = new Set();
let frame = 0;
function invalidate(...parts) {
  for (const p of parts) dirty.add(p);
  if (!frame) frame = requestAnimationFrame(render);
}
function render() {
  frame = 0;
  const parts = [...dirty];
  dirty.clear();
  for (const p of parts) renderers[p]();
}

const ruleText = (a) => (a.ruleId ? `${a.ruleId} @ ${a.ruleVersion ?? '?'}` : `base detector${a.detector ? ` (${a.detector})` : ''}`);
const sevBadge = (s) => el('span', { class: `badge sev-${s}` }, s);

const renderers = {
  counts() {
    const inc = [...state.incidents.values()];
    const open = inc.filter((i) => i.status !== 'RESOLVED').length;
    const items = [
      ['series', state.series.size],
      ['anomalies', state.totals.anomalies],
      ['rules', [...state.rules.values()].filter((r) => r.status !== 'rejected').length],
      ['open incidents', open],
    ];
    $('counts').replaceChildren(...items.flatMap(([k, v]) => [el('dt', {}, k), el('dd', { 'data-count': k }, String(v))]));
  },

  seriesList() {
    // By name, not by anomaly count: buttons must not jump around under the pointer as events arrive.
    const list = [...state.series.values()].sort((a, b) => a.name.localeCompare(b.name));
    $('series-empty').hidden = list.length > 0;
    $('series-list').replaceChildren(
      ...list.map((s) =>
        el(
          'li',
          {},
          el(
            'button',
            { type: 'button', class: 'series-item', 'aria-pressed': String(s.fingerprint === state.selected), 'data-fingerprint': s.fingerprint, onclick: () => selectSeries(s.fingerprint) },
            el('span', { class: 'name' }, s.name),
            el('span', { class: 'meta' }, `${fmtNum(s.lastValue)} · `, el('span', { class: s.anomalies ? 'count hot' : 'count' }, `${s.anomalies} anomal${s.anomalies === 1 ? 'y' : 'ies'}`)),
          ),
        ),
      ),
    );
  },

  chart() {
    const d = state.detail;
    $('chart-title').textContent = d ? d.name : '—';
    if (!d) {
      $('chart').replaceChildren();
      return;
    }
    seriesChart($('chart'), {
      title: d.name,
      points: d.points,
      anomalies: d.anomalies,
      selectedId: state.pickedAnomaly?.id,
      onPick: (a) => {
        state.pickedAnomaly = a;
        invalidate('chart', 'explain');
      },
    });
    const rows = [...d.anomalies].reverse().map((a) =>
      el(
        'tr',
        { 'data-anomaly-id': a.id, class: a.id === state.pickedAnomaly?.id ? 'picked' : '' },
        el('td', {}, fmtTime(a.timestampMs, true)),
        el('td', { class: 'num' }, fmtNum(a.value)),
        el('td', {}, el('code', {}, ruleText(a))),
        el('td', {}, sevBadge(a.severity)),
        el('td', {}, el('button', { type: 'button', class: 'link', onclick: () => ((state.pickedAnomaly = a), invalidate('chart', 'explain')) }, a.explanation || '(no explanation)')),
      ),
    );
    $('series-anomalies').tBodies[0].replaceChildren(...rows);
  },

  explain() {
    const a = state.pickedAnomaly;
    if (!a) {
      $('explain').replaceChildren(el('p', { class: 'muted' }, 'Select an anomaly (a red dot, or a row below) to see which rule fired and the values of its clauses.'));
      return;
    }
    $('explain').replaceChildren(
      el('h4', {}, `Anomaly at ${fmtTime(a.timestampMs, true)} UTC — value ${fmtNum(a.value)}`),
      el('p', {}, a.explanation || '(no explanation)'),
      el(
        'dl',
        { class: 'kv' },
        el('dt', {}, 'rule'),
        el('dd', {}, el('code', {}, ruleText(a)), a.ruleKind ? ` (${a.ruleKind})` : ''),
        el('dt', {}, 'severity'),
        el('dd', {}, sevBadge(a.severity)),
        el('dt', {}, 'base score'),
        el('dd', {}, fmtNum(a.baseScore)),
      ),
      a.clauses?.length
        ? el(
            'table',
            { class: 'data clauses' },
            el('caption', {}, 'Clause values when it fired'),
            el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'clause'), el('th', { scope: 'col' }, 'value'))),
            el('tbody', {}, ...a.clauses.map((c) => el('tr', {}, el('td', {}, el('code', {}, c.text)), el('td', { class: 'num' }, fmtNum(c.value))))),
          )
        : null,
    );
  },

  recent() {
    $('recent-anomalies').tBodies[0].replaceChildren(
      ...state.recent.map((a) =>
        el(
          'tr',
          { 'data-anomaly-id': a.id },
          el('td', {}, fmtTime(a.detectedAtMs || a.timestampMs, true)),
          el('td', {}, el('button', { type: 'button', class: 'link', onclick: () => selectSeries(a.fingerprint, a) }, seriesName(a.labels))),
          el('td', { class: 'num' }, fmtNum(a.value)),
          el('td', {}, el('code', {}, ruleText(a))),
          el('td', {}, sevBadge(a.severity)),
          el('td', {}, (a.clauses ?? []).map((c) => `${c.text} = ${fmtNum(c.value)}`).join('; ') || '—'),
        ),
      ),
    );
  },

  rules() {
    const rows = [...state.rules.values()]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((r) =>
        el(
          'tr',
          { 'data-rule-id': r.id },
          el(
            'th',
            { scope: 'row' },
            r.id,
            r.status === 'rejected' ? el('span', { class: 'badge rejected' }, 'rejected') : null,
            r.description ? el('div', { class: 'muted small' }, r.description) : null,
            r.rejection ? el('div', { class: 'small rejection' }, r.status === 'rejected' ? `not deployed: ${r.rejection}` : `newest publication rejected, this version stays in force: ${r.rejection}`) : null,
          ),
          el('td', {}, el('code', {}, r.version)),
          el('td', {}, r.kind),
          el('td', {}, sevBadge(r.severity)),
          el('td', {}, el('code', { class: 'expr' }, r.expr.trim())),
          el('td', {}, Object.entries(r.selector ?? {}).map(([k, v]) => `${k}="${v}"`).join(', ') || 'all series'),
          el('td', {}, scoreBar(r.trainingScore)),
          el('td', {}, r.source),
        ),
      );
    $('rules-table').tBodies[0].replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: 8, class: 'muted' }, 'No rules deployed (the rules topic is empty).'))]));
  },

  incidents() {
    const list = [...state.incidents.values()].sort((a, b) => b.updatedAtMs - a.updatedAtMs);
    if (!state.selectedIncident && list.length) state.selectedIncident = list[0].id;
    $('incident-list').replaceChildren(
      ...(list.length
        ? list.map((i) =>
            el(
              'li',
              {},
              el(
                'button',
                { type: 'button', class: 'incident-item', 'aria-pressed': String(i.id === state.selectedIncident), 'data-incident-id': i.id, onclick: () => ((state.selectedIncident = i.id), invalidate('incidents')) },
                el('span', { class: `badge status-${i.status.toLowerCase()}` }, i.status),
                ' ',
                sevBadge(i.severity),
                el('span', { class: 'name' }, i.summary || i.id),
                el('span', { class: 'meta' }, `${i.anomalyCount} anomalies · ${i.components.join(', ')} · ${fmtTime(i.updatedAtMs, true)}`),
              ),
            ),
          )
        : [el('li', { class: 'muted' }, 'No incidents.')]),
    );
    const inc = state.incidents.get(state.selectedIncident);
    $('incident-title').textContent = inc ? `${inc.id}: ${inc.summary}` : '—';
    const causes = inc?.rca?.causes ?? [];
    $('causes').replaceChildren(
      ...(causes.length
        ? causes.map((c) =>
            el(
              'li',
              { 'data-node': c.node },
              el('strong', {}, c.node),
              ` score ${fmtNum(c.score)}`,
              c.path?.length ? el('div', { class: 'small' }, `path: ${c.path.join(' → ')}`) : null,
              c.evidence?.length ? el('ul', { class: 'small evidence' }, ...c.evidence.map((e) => el('li', {}, `${e.metric}: ${fmtNum(e.score)} — ${e.detail}`))) : null,
            ),
          )
        : [el('li', { class: 'muted' }, inc ? (inc.rca ? inc.rca.note || 'No root cause found.' : 'Root causes not computed yet.') : '')]),
    );
    if (inc && state.graphFor !== `${inc.id}@${inc.rca?.graphVersion ?? ''}`) loadGraph(inc);
    if (!inc) $('graph').replaceChildren();
  },

  inference() {
    const s = state.inference;
    if (!s) return;
    const o = s.overall;
    const fig = (k, v, note) => [el('dt', {}, k), el('dd', { 'data-figure': k }, v, note ? el('span', { class: 'muted small' }, ` ${note}`) : null)];
    $('inference-figures').replaceChildren(
      ...fig('goodput', `${fmtNum(o.goodputPerSec)} /s`, 'within deadline'),
      ...fig('SLO attainment', o.sloAttainment === null ? '—' : `${(o.sloAttainment * 100).toFixed(1)} %`, 'of requests that ran'),
      ...fig('rejected', String(o.rejected), 'refused before running'),
      ...fig('window', `${Math.round(s.windowMs / 1000)} s`),
    );
    rateChart($('inference-chart'), s.timeline);
    const rows = s.models.map((m) =>
      el(
        'tr',
        {},
        el('th', { scope: 'row' }, m.model),
        el('td', { class: 'num' }, fmtNum(m.goodputPerSec)),
        el('td', { class: 'num' }, m.sloAttainment === null ? '—' : `${(m.sloAttainment * 100).toFixed(1)} %`),
        el('td', { class: 'num' }, String(m.ok)),
        el('td', { class: 'num' }, String(m.late)),
        el('td', { class: 'num' }, String(m.rejected)),
        el('td', { class: 'num' }, String(m.error)),
        el('td', { class: 'num' }, m.meanLatencyMs === null ? '—' : `${fmtNum(m.meanLatencyMs)} ms`),
      ),
    );
    $('inference-models').tBodies[0].replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: 8, class: 'muted' }, 'No inference results in the window.'))]));
  },
};

function scoreBar(score) {
  if (score === null || score === undefined) return el('span', { class: 'muted' }, 'not trained');
  const pct = Math.max(0, Math.min(1, score)) * 100;
  // A <meter> is both the bar and its accessible value.
  return el('span', { class: 'score' }, el('meter', { min: 0, max: 1, value: score, 'aria-label': 'training F1' }), ` ${score.toFixed(3)}`, el('span', { class: 'sr-only' }, ` (${pct.toFixed(0)} %)`));
}

function seriesName(labels) {
  const rest = Object.keys(labels).filter((k) => k !== '__name__').sort().map((k) => `${k}="${labels[k]}"`);
  return `${labels.__name__ ?? ''}${rest.length ? `{${rest.join(', ')}}` : ''}` || '{}';
}

async function loadGraph(inc) {
  const key = `${inc.id}@${inc.rca?.graphVersion ?? ''}`;
  state.graphFor = key;
  try {
    const res = await fetch(`/api/incidents/${encodeURIComponent(inc.id)}/graph.svg`);
    if (state.graphFor !== key) return;
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      $('graph').replaceChildren(el('p', { class: 'muted' }, body.message ?? body.error ?? `no graph (HTTP ${res.status})`));
      state.graphFor = null;
      return;
    }
    // Same-origin SVG produced by rca/render.ts, which escapes every label.
    const doc = new DOMParser().parseFromString(await res.text(), 'image/svg+xml');
    const svg = doc.documentElement;
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', `causal graph ${svg.querySelector('title')?.textContent ?? ''}`);
    const causes = new Set((inc.rca?.causes ?? []).map((c) => c.node));
    for (const g of svg.querySelectorAll('g')) {
      const t = g.querySelector('text')?.textContent;
      if (t && causes.has(t)) g.classList.add('root-cause');
    }
    $('graph').replaceChildren(document.importNode(svg, true));
  } catch (err) {
    $('graph').replaceChildren(el('p', { class: 'muted' }, `graph unavailable: ${err.message}`));
    state.graphFor = null;
  }
}

async function selectSeries(fp, anomaly) {
  state.selected = fp;
  state.pickedAnomaly = anomaly ?? null;
  invalidate('seriesList');
  try {
    const d = await getJson(`/api/series/${encodeURIComponent(fp)}`);
    if (state.selected !== fp) return;
    state.detail = { fingerprint: fp, name: d.name, points: d.points, anomalies: d.anomalies };
    if (!state.pickedAnomaly && d.anomalies.length) state.pickedAnomaly = d.anomalies[d.anomalies.length - 1];
  } catch (err) {
    state.detail = { fingerprint: fp, name: `${fp} (${err.message})`, points: [], anomalies: [] };
  }
  invalidate('chart', 'explain');
}

// ---- live events ----
function mergePoints(into, pts) {
  for (const p of pts) {
    const last = into[into.length - 1];
    if (!last || p.t > last.t) into.push(p);
    else {
      const i = into.findIndex((q) => q.t >= p.t);
      if (into[i].t === p.t) into[i] = p;
      else into.splice(i, 0, p);
    }
  }
  if (into.length > MAX_POINTS) into.splice(0, into.length - MAX_POINTS);
}

const apply = {
  metric(d) {
    const s = state.series.get(d.fingerprint) ?? { fingerprint: d.fingerprint, name: d.name, labels: d.labels, points: 0, anomalies: 0, lastValue: null };
    s.lastValue = d.points[d.points.length - 1]?.v ?? s.lastValue;
    state.series.set(d.fingerprint, s);
    if (state.detail?.fingerprint === d.fingerprint) {
      mergePoints(state.detail.points, d.points);
      invalidate('chart');
    }
    if (!state.selected) selectSeries(d.fingerprint);
    invalidate('seriesList', 'counts');
  },
  anomaly(a) {
    const s = state.series.get(a.fingerprint) ?? { fingerprint: a.fingerprint, name: seriesName(a.labels), labels: a.labels, points: 0, anomalies: 0, lastValue: null };
    state.series.set(a.fingerprint, s);
    const known = state.recent.some((x) => x.id === a.id) || state.detail?.anomalies.some((x) => x.id === a.id);
    if (!known) {
      s.anomalies++;
      state.totals.anomalies++;
      $('announce').textContent = `New ${a.severity} anomaly on ${s.name}: ${a.explanation}`;
    }
    state.recent = [a, ...state.recent.filter((x) => x.id !== a.id)].slice(0, MAX_RECENT);
    if (state.detail?.fingerprint === a.fingerprint) {
      const list = state.detail.anomalies.filter((x) => x.id !== a.id);
      list.push(a);
      list.sort((p, q) => p.timestampMs - q.timestampMs);
      state.detail.anomalies = list;
      invalidate('chart');
    }
    if (!state.selected) selectSeries(a.fingerprint, a);
    invalidate('seriesList', 'recent', 'counts');
  },
  rule(r) {
    if (r.deleted) state.rules.delete(r.id);
    else state.rules.set(r.id, r);
    invalidate('rules', 'counts');
  },
  incident(i) {
    state.incidents.set(i.id, i);
    invalidate('incidents', 'counts');
  },
  rca(r) {
    const i = state.incidents.get(r.incidentId);
    if (i) {
      i.rca = r;
      invalidate('incidents');
    }
  },
  graph() {
    state.graphFor = null; // redraw with the new graph
    invalidate('incidents');
  },
  inference(s) {
    state.inference = s;
    invalidate('inference');
  },
};

let held = []; // events received while the snapshot loads
let loading = false;

async function loadSnapshot() {
  loading = true;
  held = [];
  const [summary, series, recent, rules, incidents, inference] = await Promise.all(['/api/summary', '/api/series', '/api/anomalies?limit=' + MAX_RECENT, '/api/rules', '/api/incidents', '/api/inference'].map(getJson));
  state.totals.anomalies = summary.anomalies;
  state.series = new Map(series.map((s) => [s.fingerprint, s]));
  state.recent = recent;
  state.rules = new Map(rules.map((r) => [r.id, r]));
  state.incidents = new Map(incidents.map((i) => [i.id, i]));
  state.inference = inference;
  state.graphFor = null;
  const want = state.selected && state.series.has(state.selected) ? state.selected : series[0]?.fingerprint;
  state.selected = null;
  if (want) await selectSeries(want);
  loading = false;
  for (const [type, data] of held) apply[type]?.(data);
  held = [];
  invalidate('counts', 'seriesList', 'recent', 'rules', 'incidents', 'inference', 'explain');
  document.body.dataset.ready = 'true';
}

function setStatus(s, text) {
  $('status').dataset.state = s;
  $('status').textContent = text;
}

function connect() {
  const es = new EventSource('/api/events');
  es.addEventListener('open', () => setStatus('live', 'live'));
  es.addEventListener('error', () => setStatus('reconnecting', 'reconnecting…'));
  es.addEventListener('reset', () => loadSnapshot().catch((err) => setStatus('error', `reload failed: ${err.message}`)));
  for (const type of Object.keys(apply)) {
    es.addEventListener(type, (ev) => {
      const data = JSON.parse(ev.data);
      if (loading) held.push([type, data]);
      else apply[type](data);
    });
  }
  return es;
}

connect();
loadSnapshot().catch((err) => setStatus('error', `cannot load the dashboard data: ${err.message}`));
