/**
 * The dashboard's HTTP side on the embedded transport, in-process: JSON API over the bounded view,
 * the live feed resuming from Last-Event-ID (and resetting when it cannot), clear errors for bad
 * options, paths and methods, and the stage metrics. (The browser test is dashboard.test.ts.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { ConfigError } from '../../../pipelines/core/errors.ts';
import type { Anomaly, MetricBatch } from '../../../pipelines/core/records.ts';
import { createRuntime, type Runtime } from '../../../pipelines/core/runtime.ts';
import { topicName } from '../../../pipelines/core/topics.ts';
import type { Producer } from '../../../pipelines/core/transport/types.ts';
import { dashboardOptions, DashboardView, InferenceStats, startDashboard, type RunningDashboard } from '../../../pipelines/dashboard/index.ts';
import { startAlertsStream } from '../../../connectors/alerts/index.ts';
import { embeddedConfig, uniquePrefix, waitFor } from '../../helpers/infra.ts';
import { FINGERPRINT, GRAPH, RCA, RULE, anomaly, incident, inferenceResults, metricBatches } from './seed.ts';

const START = Date.now() - 60 * 60_000;
let rt: Runtime;
let producer: Producer;
let dash: RunningDashboard;

async function produce(key: Parameters<typeof topicName>[0], records: { key: string; value: unknown }[]): Promise<void> {
  const topic = topicName(key, rt.config.topicPrefix);
  await producer.send(records.map((r) => ({ topic, key: r.key, value: r.value === null ? null : rt.serde.encode(topic, r.value) })));
}

async function get(path: string, init?: RequestInit): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${dash.url}${path}`, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body, headers: res.headers };
}

/** Reads SSE frames from /api/events until `until` says stop; returns them parsed. */
function readEvents(lastEventId: string | null, until: (events: { id: string; event: string; data: any }[]) => boolean, timeoutMs = 10_000): Promise<{ id: string; event: string; data: any }[]> {
  return new Promise((resolve, reject) => {
    const u = new URL(`${dash.url}/api/events`);
    const req = request(u, { headers: lastEventId ? { 'Last-Event-ID': lastEventId } : {} }, (res) => {
      let buf = '';
      const events: { id: string; event: string; data: any }[] = [];
      const timer = setTimeout(() => {
        req.destroy();
        reject(new Error(`timed out; got ${JSON.stringify(events.map((e) => e.event))}`));
      }, timeoutMs);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const f: Record<string, string> = {};
          for (const line of frame.split('\n')) {
            const c = line.indexOf(':');
            if (c > 0) f[line.slice(0, c)] = line.slice(c + 1).trimStart();
          }
          if (f.event) events.push({ id: f.id ?? '', event: f.event, data: JSON.parse(f.data ?? 'null') });
        }
        if (until(events)) {
          clearTimeout(timer);
          req.destroy();
          resolve(events);
        }
      });
    });
    req.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
    });
    req.end();
  });
}

before(async () => {
  rt = await createRuntime(embeddedConfig(uniquePrefix('dashboard-api')), { stage: 'dashboard-api-test' });
  producer = await rt.transport.producer();
  await produce('rules', [{ key: RULE.id, value: RULE }]);
  await produce('causalGraphs', [{ key: GRAPH.name, value: GRAPH }]);
  await produce('metrics', metricBatches(START, 60, [30]).map((b) => ({ key: b.fingerprint, value: b })));
  const a = anomaly(START, 30, 0.7);
  await produce('anomalies', [{ key: a.fingerprint, value: a }]);
  await produce('incidents', [{ key: 'inc-checkout-1', value: incident([a.id], START) }]);
  await produce('rca', [{ key: RCA.incidentId, value: RCA }]);
  await produce('inferenceResults', inferenceResults(100).map((r) => ({ key: r.requestId, value: r })));
  dash = await startDashboard(rt, { listen: '127.0.0.1:0', heartbeatMs: 200 });
  await waitFor(async () => (await get('/api/summary')).body.anomalies === 1 && (await get('/api/incidents')).body[0]?.rca, 'the view to catch up', 10_000);
});

after(async () => {
  await dash?.stop();
  await producer?.close();
  await rt?.close();
});

test('JSON API: series, anomalies with explanations, rules, incidents with root causes, graph SVG, inference', async () => {
  const series = (await get('/api/series')).body;
  assert.equal(series.length, 1);
  assert.equal(series[0].fingerprint, FINGERPRINT);
  assert.equal(series[0].anomalies, 1);
  const detail = (await get(`/api/series/${FINGERPRINT}`)).body;
  assert.equal(detail.points.length, 60);
  assert.equal(detail.anomalies[0].clauses[1].value, 0.171);
  assert.equal((await get('/api/rules')).body[0].trainingScore, 0.912);
  const inc = (await get('/api/incidents')).body[0];
  assert.deepEqual(inc.rca.causes.map((c: { node: string }) => c.node), ['db:connections', 'checkout:cpu']);
  const svg = await get('/api/incidents/inc-checkout-1/graph.svg');
  assert.equal(svg.status, 200);
  assert.match(svg.headers.get('content-type') ?? '', /image\/svg\+xml/);
  assert.match(svg.body, /db:connections/);
  const inf = (await get('/api/inference')).body;
  // 100 results: 5 late (i % 20 = 7), 4 rejected (i % 25 = 3) → 91 ok of 96 that ran.
  assert.equal(inf.overall.ok, 91);
  assert.equal(inf.overall.rejected, 4);
  assert.ok(Math.abs(inf.overall.sloAttainment - 91 / 96) < 1e-9);
  assert.ok(inf.overall.goodputPerSec > 0);
  // The page and its assets come from this server, with a same-origin-only policy.
  const page = await get('/');
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  assert.equal((await get('/static/app.js')).status, 200);
});

test('clear errors: unknown paths and series, bad limits, writes, bad options, a taken port', async () => {
  assert.equal((await get('/api/nope')).status, 404);
  assert.match((await get('/api/series/unknown')).body.message, /no series with fingerprint unknown/);
  assert.match((await get('/api/anomalies?limit=-1')).body.message, /limit must be a positive integer/);
  assert.equal((await get('/api/series/%E0%A4%A')).status, 400);
  assert.equal((await get('/api/events', { method: 'HEAD' })).status, 200);
  assert.equal((await get('/static/../../package.json')).status, 404);
  const post = await get('/api/rules', { method: 'POST', body: '{}' });
  assert.equal(post.status, 405);
  assert.match(post.body.message, /read-only/);
  assert.throws(
    () => dashboardOptions({ listen: 'nope', start: 'middle' as 'latest', pointsPerSeries: 2 }),
    (err: unknown) => err instanceof ConfigError && /listen: expected host:port/.test(err.message) && /start: expected one of earliest, latest/.test(err.message) && /pointsPerSeries: expected an integer ≥ 10/.test(err.message),
  );
  const port = new URL(dash.url).port;
  await assert.rejects(startDashboard(rt, { listen: `127.0.0.1:${port}` }), /listen: cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/);
});

test('live feed: new records become events; a reconnect with Last-Event-ID resumes without loss; an unknown id resets', async () => {
  const hello = await readEvents(null, (e) => e.some((x) => x.event === 'hello'));
  const since = hello[0].id;
  const a1 = anomaly(START, 40, 0.8);
  const a2 = anomaly(START, 41, 0.81);
  // Produced while no client is connected: the replay buffer must hand both over.
  await produce('anomalies', [a1, a2].map((a) => ({ key: a.fingerprint, value: a })));
  await produce('metrics', metricBatches(START + 60 * 60_000, 5, []).map((b) => ({ key: b.fingerprint, value: b })));
  await waitFor(async () => (await get('/api/summary')).body.anomalies === 3, 'the new anomalies in the view');
  const resumed = await readEvents(since, (e) => e.filter((x) => x.event === 'anomaly').length >= 2 && e.some((x) => x.event === 'metric'));
  assert.deepEqual(resumed.filter((x) => x.event === 'anomaly').map((x) => (x.data as Anomaly).id), [a1.id, a2.id]);
  const m = resumed.find((x) => x.event === 'metric')!.data as { fingerprint: string; points: unknown[] };
  assert.equal(m.fingerprint, FINGERPRINT);
  assert.equal(m.points.length, 5);
  const reset = await readEvents('older-process-12', (e) => e.some((x) => x.event === 'reset'));
  assert.equal(reset[0].event, 'reset');
  const metrics = await get('/metrics');
  assert.match(metrics.body, /panoptes_dashboard_records_applied_total\{topic="[^"]*anomalies"[^}]*\} 3/);
  assert.match(metrics.body, /panoptes_dashboard_sse_events_total\{type="anomaly"/);
  assert.equal((await get('/healthz')).status, 200);
});

test('the alerts connector\'s SSE stream can be mounted on the dashboard\'s port', async () => {
  const mount = await startAlertsStream({ transport: rt.transport, serde: rt.serde, prefix: rt.config.topicPrefix, registry: rt.metrics, log: rt.log }, { heartbeatMs: 200 });
  const d2 = await startDashboard(rt, { listen: '127.0.0.1:0' }, mount.register);
  try {
    const a = anomaly(START, 50, 0.9);
    const got = new Promise<string>((resolve, reject) => {
      const req = request(`${d2.url}${mount.path}?match[]=service%3D%22checkout%22`, (res) => {
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          buf += c;
          if (buf.includes('event: hello')) void produce('anomalies', [{ key: a.fingerprint, value: a }]);
          if (buf.includes('event: anomaly')) {
            req.destroy();
            resolve(buf);
          }
        });
      });
      req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
      setTimeout(() => reject(new Error('no anomaly event on the alerts stream')), 10_000).unref();
      req.end();
    });
    assert.match(await got, new RegExp(a.id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.equal((await fetch(`${d2.url}/api/summary`)).status, 200);
  } finally {
    await d2.stop();
    await mount.stop();
  }
});

test('rules: a rule the checker rejects is shown as rejected; a rejected new version keeps the old one in force', async () => {
  await produce('rules', [
    { key: 'broken', value: { ...RULE, id: 'broken', expr: 'value > mean(' } },
    { key: RULE.id, value: { ...RULE, version: 'v2', expr: 'value >>> 3' } },
  ]);
  const rules = await waitFor(async () => {
    const list = (await get('/api/rules')).body as { id: string; status: string; rejection: string | null; expr: string }[];
    return list.length === 2 && list.every((r) => r.rejection) ? list : null;
  }, 'both rejections in the view', 10_000);
  const broken = rules.find((r) => r.id === 'broken')!;
  assert.equal(broken.status, 'rejected');
  const kept = rules.find((r) => r.id === RULE.id)!;
  assert.equal(kept.status, 'deployed');
  assert.equal(kept.expr, RULE.expr);
  assert.match(kept.rejection!, /rule latency-spike/);
  assert.equal((await get('/api/summary')).body.rules, 1);
  // Put the good rule back for the other tests.
  await produce('rules', [{ key: RULE.id, value: RULE }, { key: 'broken', value: null }]);
  await waitFor(async () => {
    const list = (await get('/api/rules')).body as { rejection: string | null }[];
    return list.length === 1 && list[0].rejection === null;
  }, 'the good rule back in force', 10_000);
});

test('the view stays bounded: series, points and anomalies per series', () => {
  const view = new DashboardView({ maxSeries: 2, pointsPerSeries: 10, anomaliesPerSeries: 3, recentAnomalies: 4, maxIncidents: 2, inferenceWindowMs: 10_000 });
  const batch = (fp: string, from: number, n: number): MetricBatch => ({
    fingerprint: fp,
    labels: { __name__: fp },
    samples: Array.from({ length: n }, (_, i) => ({ timestampMs: from + i, value: i, stale: false })),
    source: 't',
    receivedAtMs: 0,
    exemplarsDropped: 0,
    histogramsDropped: 0,
  });
  view.applyMetrics(batch('a', 0, 25));
  view.applyMetrics(batch('b', 0, 5));
  view.applyMetrics(batch('c', 0, 5));
  assert.deepEqual(view.seriesList().map((s) => s.fingerprint).sort(), ['b', 'c']);
  view.applyMetrics(batch('b', 100, 8));
  assert.equal(view.seriesDetail('b')!.points.length, 10);
  assert.equal(view.seriesDetail('b')!.points[9].t, 107);
  for (let i = 0; i < 6; i++) view.applyAnomaly({ ...anomaly(0, i, 1), fingerprint: 'b', id: `b-${i}` });
  view.applyAnomaly({ ...anomaly(0, 5, 1), fingerprint: 'b', id: 'b-5' }); // a re-delivery
  assert.deepEqual(view.seriesDetail('b')!.anomalies.map((a) => a.id), ['b-3', 'b-4', 'b-5']);
  assert.equal(view.recentAnomalies().length, 4);
  assert.equal(view.summary(0).anomalies, 6);
  assert.equal(view.applyRule('r', null), null);
});

test('--start latest: state topics from the beginning, event topics only from now', async () => {
  const d = await startDashboard(rt, { listen: '127.0.0.1:0', start: 'latest' });
  try {
    await waitFor(() => d.view.ruleList().length === 1 && d.view.graphList().length === 1, 'rules and graphs read from the beginning', 10_000);
    assert.equal(d.view.summary(Date.now()).anomalies, 0);
    const a = anomaly(START, 55, 0.95);
    await produce('anomalies', [{ key: a.fingerprint, value: a }]);
    await waitFor(() => d.view.summary(Date.now()).anomalies === 1, 'the new anomaly', 10_000);
    assert.equal(d.view.recentAnomalies()[0].id, a.id);
  } finally {
    await d.stop();
  }
});

test('goodput and SLO attainment over the sliding window', () => {
  const s = new InferenceStats(10_000);
  const r = (status: 'ok' | 'late' | 'rejected' | 'error', model = 'm') => ({ requestId: 'x', model, status, outputs: [], error: null, queueMs: 0, batchWaitMs: 0, execMs: 0, totalMs: 10, batchSize: 1 });
  // 5 s of traffic: 8 ok, 1 late, 1 rejected per second.
  for (let sec = 100; sec < 105; sec++) {
    for (let i = 0; i < 8; i++) s.add(r('ok'), sec * 1000 + i);
    s.add(r('late'), sec * 1000 + 500);
    s.add(r('rejected'), sec * 1000 + 600);
  }
  const now = s.summary(104_999).overall;
  assert.equal(now.goodputPerSec, 8); // over the 5 s that had traffic, not the 10 s window
  assert.equal(now.sloAttainment, 8 / 9);
  assert.equal(now.rejected, 5);
  assert.equal(now.meanLatencyMs, 10);
  // 20 s later everything has left the window; lifetime totals stay.
  const later = s.summary(125_000);
  assert.equal(later.overall.total, 0);
  assert.equal(later.overall.sloAttainment, null);
  assert.equal(later.lifetime.total, 50);
  assert.equal(later.timeline.length, 10);
});
