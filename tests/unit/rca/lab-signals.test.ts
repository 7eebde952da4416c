/** Signals of the lab (pipelines/lab): `up` (process liveness) and series flat in normal data (errors at 0). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metricDirection } from '../../../pipelines/rca/rank/anomaly.ts';
import type { PairQuestion } from '../../../pipelines/rca/synth/judge.ts';
import { metricFamily, OfflineJudge } from '../../../pipelines/rca/synth/offline-judge.ts';

const view = (component: string, metric: string) => ({ component, metric, kind: 'service', type: 'http-service', description: '' }) as unknown as PairQuestion['a'];

test('`up` is liveness: down is bad, a callee that is down raises its caller\'s errors, not its caller\'s up', async () => {
  assert.equal(metricFamily('up'), 'liveness');
  assert.equal(metricFamily('uptime_seconds'), 'other', 'only the exact name');
  assert.equal(metricDirection('up'), 'down');
  const j = new OfflineJudge();
  const q = (a: string, b: string): PairQuestion => ({ interaction: 'service→service', a: view('search', a), b: view('geo', b), relation: 'nearby hotels' }) as PairQuestion;
  assert.equal((await j.judge(q('errors', 'up'))).verdict, 'B_CAUSES_A');
  assert.equal((await j.judge(q('up', 'up'))).verdict, 'NONE', 'the caller stays up');
  assert.equal((await j.judge(q('availability', 'up'))).verdict, 'B_CAUSES_A');
  assert.equal((await j.judge(q('errors', 'availability'))).verdict, 'B_CAUSES_A');
  const within = (a: string, b: string): PairQuestion => ({ interaction: 'within', a: view('geo', a), b: view('geo', b), relation: '' }) as PairQuestion;
  assert.equal((await j.judge(within('memory', 'up'))).verdict, 'A_CAUSES_B', 'a leak ends in the process being killed');
  assert.equal((await j.judge(q('latency', 'up'))).verdict, 'NONE');
  assert.equal((await j.judge(q('errors', 'errors'))).verdict, 'B_CAUSES_A');
});

test('attribution on a node flat in normal data scores its change against its level, not the 1e6 cap', async () => {
  const { fitMechanism, residualScore } = await import('../../../pipelines/rca/rank/attribution.ts');
  const n = 50;
  const normal = { timestamps: Array.from({ length: n }, (_, i) => i), series: new Map([['search:errors', new Array<number>(n).fill(0)], ['geo:up', new Array<number>(n).fill(1)]]) };
  const failure = { timestamps: [n], series: new Map([['search:errors', [0.5]], ['geo:up', [0]]]) };
  const errs = fitMechanism(normal, 'search:errors', ['geo:up'])!;
  assert.equal(Math.round(residualScore(errs, failure, 'search:errors', 0)), 500);
  const up = fitMechanism(normal, 'geo:up', [])!;
  assert.equal(Math.round(residualScore(up, failure, 'geo:up', 0)), 1000, 'up 1 → 0 is 1000 thousandths of its level');
});

test('a killed callee: the synthesized graph links its `up` to its callers\' errors and attribution ranks it first', async () => {
  const { buildCatalog, parseCatalogFile } = await import('../../../pipelines/rca/catalog.ts');
  const { synthesizeGraph } = await import('../../../pipelines/rca/synth/synthesize.ts');
  const { handleIncident } = await import('../../../pipelines/rca/rca.ts');
  const { mulberry32 } = await import('../../../pipelines/core/random.ts');
  const page = (name: string, calls: string[]) => `# ${name}\n- kind: service\n- type: http-service\n${name}.\n## Calls\n${calls.map((c) => `- \`${c}\` — work`).join('\n') || '- none'}\n## Metrics\n- latency\n- errors\n- up\n`;
  const catalog = buildCatalog(parseCatalogFile([page('frontend', ['search']), page('search', ['geo']), page('geo', [])].join('\n'), 'lab.md'));
  const signals = ['latency', 'errors', 'up'];
  const comps = ['frontend', 'search', 'geo'];
  const observed = new Set(comps.flatMap((c) => signals.map((s) => `${c}:${s}`)));
  const { graph } = await synthesizeGraph({ name: 'lab', catalog, observed, judge: new OfflineJudge() });
  assert.ok(graph.edges.some((e) => e.from === 'geo:up' && e.to === 'search:errors'));
  assert.ok(!graph.edges.some((e) => e.from === 'geo:up' && e.to === 'search:up'));
  // 120 normal seconds, then geo is killed: its up drops to 0, its other series go stale (NaN),
  // its callers answer with errors.
  const rnd = mulberry32(5);
  const T = 130;
  const series = new Map<string, number[]>([...observed].map((id) => [id, []]));
  for (let t = 0; t < T; t++) {
    const dead = t >= 120;
    for (const c of comps) {
      const down = dead && c === 'geo';
      series.get(`${c}:up`)!.push(down ? 0 : 1);
      series.get(`${c}:latency`)!.push(down ? NaN : 0.01 + 0.001 * rnd());
      series.get(`${c}:errors`)!.push(down ? NaN : dead ? 0.9 : 0);
    }
  }
  const ts = Array.from({ length: T }, (_, i) => i * 1000);
  const cut = (a: number, b: number) => ({ timestamps: ts.slice(a, b), series: new Map([...series].map(([k, v]) => [k, v.slice(a, b)])) });
  const incident = { id: 'crash', status: 'OPEN' as const, openedAtMs: 120_000, updatedAtMs: 121_000, resolvedAtMs: null, severity: 'critical' as const, components: comps, anomalyIds: [], anomalyCount: 3, summary: '' };
  const res = handleIncident(incident, graph, { normal: cut(0, 115), failure: cut(120, T) }, { method: 'attribution' });
  assert.equal(res.causes[0]?.node, 'geo:up', `ranking: ${res.causes.map((c) => `${c.node}=${c.score}`).join(', ')} (${res.note})`);
  const path = res.causes[0]!.path;
  assert.equal(path.at(-1), 'frontend:errors', 'explains the user-facing errors');
  for (let i = 1; i < path.length; i++) assert.ok(graph.edges.some((e) => e.from === path[i - 1] && e.to === path[i]), `${path[i - 1]} → ${path[i]} is a graph edge`);
});

test('the symptom to explain is the downstream series with anomalous causes, not a flat one that blipped', async () => {
  const { handleIncident } = await import('../../../pipelines/rca/rca.ts');
  const { withVersion } = await import('../../../pipelines/graph/index.ts');
  const { mulberry32 } = await import('../../../pipelines/core/random.ts');
  const n = (id: string) => ({ id, component: id.split(':')[0]!, metric: id.split(':')[1]!, observed: true });
  const e = (from: string, to: string) => ({ from, to, provenance: 'DOCS' as const, confidence: 1, reason: '' });
  const ids = ['db:latency', 'api:latency', 'web:latency', 'api:errors', 'web:errors'];
  const graph = withVersion({ name: 'g', nodes: ids.map(n), edges: [e('db:latency', 'api:latency'), e('api:latency', 'web:latency'), e('api:errors', 'web:errors')], createdAtMs: 0, source: 't' });
  // A slow database: latency travels up the calls; the web answers a few timeouts (errors flat at
  // 0 before: that blip alone scores in the hundreds, with no anomalous cause behind it).
  const rnd = mulberry32(9);
  const T = 80;
  const s = new Map<string, number[]>(ids.map((id) => [id, []]));
  for (let t = 0; t < T; t++) {
    const slow = t >= 70 ? 0.3 : 0;
    const db = 0.01 + 0.002 * rnd() + slow;
    const api = db + 0.01 + 0.002 * rnd();
    s.get('db:latency')!.push(db);
    s.get('api:latency')!.push(api);
    s.get('web:latency')!.push(api + 0.01 + 0.002 * rnd());
    s.get('api:errors')!.push(0);
    s.get('web:errors')!.push(t >= 72 ? 0.5 : 0);
  }
  const ts = Array.from({ length: T }, (_, i) => i * 1000);
  const cut = (a: number, b: number) => ({ timestamps: ts.slice(a, b), series: new Map([...s].map(([k, v]) => [k, v.slice(a, b)])) });
  const incident = { id: 'slow-db', status: 'UPDATED' as const, openedAtMs: 70_000, updatedAtMs: 75_000, resolvedAtMs: null, severity: 'warning' as const, components: ['db', 'api', 'web'], anomalyIds: [], anomalyCount: 5, summary: '' };
  for (const method of ['traversal', 'attribution', 'random-walk'] as const) {
    const res = handleIncident(incident, graph, { normal: cut(0, 65), failure: cut(70, T) }, { method });
    assert.equal(res.causes[0]?.node, 'db:latency', `${method}: ${res.causes.map((c) => c.node).join(', ')} (${res.note})`);
    assert.equal(res.causes[0]!.path.at(-1), 'web:latency', `${method}: explains web:latency`);
  }
});
