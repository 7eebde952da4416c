/**
 * The corpus generator's pure parts: signals from /metrics text, the fault matrix and split, the
 * PetShop layout it writes (read back by the evaluation's own loader), and the symptom rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeSignals, parseExposition, quantileFromBuckets } from '../../../pipelines/rca/corpus/signals.ts';
import { columnsOf, faultMatrix, graphCsv, petshopCsv, splitOf, TEST_COMPONENTS, type LabTopology } from '../../../pipelines/rca/corpus/plan.ts';
import { chooseTarget } from '../../../pipelines/rca/corpus/target.ts';
import { framesFromPetshopCsv } from '../../../pipelines/rca/frame.ts';
import { parseCallGraph } from '../../../pipelines/graph/index.ts';

const topo: LabTopology = {
  services: ['frontend', 'search', 'geo', 'rate', 'profile', 'reservation', 'user'],
  resources: ['postgres', 'redis'],
  calls: { frontend: ['search', 'profile', 'reservation', 'user'], search: ['geo', 'rate'], geo: [], rate: [], profile: [], reservation: [], user: [] },
  stores: { frontend: [], search: [], geo: [], rate: ['redis', 'postgres'], profile: ['redis', 'postgres'], reservation: ['postgres'], user: ['postgres'] },
};

const page = (reqs: number, errs: number, cpu: number, le: Record<string, number>) => `# HELP x
lab_http_requests_total{route="/hotels",code="200"} ${reqs - errs}
lab_http_requests_total{route="/hotels",code="500"} ${errs}
process_cpu_seconds_total ${cpu}
process_resident_memory_bytes 5e7
${Object.entries(le).map(([k, v]) => `lab_http_request_duration_seconds_bucket{route="/hotels",le="${k}"} ${v}`).join('\n')}
lab_dependency_requests_total{dep="postgres",outcome="ok"} ${reqs}
`;

test('exposition text parses, with labels and +Inf', () => {
  const s = parseExposition('# TYPE a counter\na_total{x="1",y="a\\"b"} 3\nb 2.5\nc{le="+Inf"} +Inf\n');
  assert.deepEqual(s.map((x) => [x.name, x.labels, x.value]), [['a_total', { x: '1', y: 'a"b' }, 3], ['b', {}, 2.5], ['c', { le: '+Inf' }, Infinity]]);
});

test('signals over a window: traffic, error ratio, p95, cpu, memory, up; a dead process has up 0 and no values', () => {
  const before = new Map([['search', parseExposition(page(100, 0, 1, { '0.1': 100, '+Inf': 100 }))], ['geo', parseExposition(page(0, 0, 0, {}))], ['proxy', parseExposition('lab_proxy_up{resource="postgres"} 1\nlab_proxy_up{resource="redis"} 0\n')]]);
  const now = new Map([['search', parseExposition(page(130, 3, 1.6, { '0.1': 118, '+Inf': 130 }))], ['geo', null], ['proxy', parseExposition('lab_proxy_up{resource="postgres"} 1\nlab_proxy_up{resource="redis"} 0\n')]]);
  const v = computeSignals(['search', 'geo'], ['postgres', 'redis'], now, before, 3);
  assert.equal(v.get('search:traffic'), 10);
  assert.equal(v.get('search:errors'), 0.1);
  assert.ok(Math.abs(v.get('search:cpu')! - 0.2) < 1e-9);
  assert.equal(v.get('search:memory'), 5e7);
  assert.equal(v.get('search:up'), 1);
  assert.equal(v.get('search:latency'), 0.1, 'p95 in the +Inf bucket: the highest finite bound, as histogram_quantile');
  assert.equal(v.get('geo:up'), 0);
  assert.ok(Number.isNaN(v.get('geo:errors')!));
  assert.equal(v.get('postgres:traffic'), 10);
  assert.equal(v.get('redis:up'), 0);
  assert.ok(Math.abs(quantileFromBuckets(new Map([[0.1, 50], [0.5, 100], [Infinity, 100]]), 0.95) - 0.46) < 1e-9);
});

test('fault matrix: every kind on every component it applies to; the split holds out whole components', () => {
  const m = faultMatrix(topo);
  assert.equal(m.length, 8 * 7 - 1 + 3, 'eight service kinds on seven services, no misconfig for geo (no dependency), three resource faults');
  assert.ok(!m.some((f) => f.kind === 'misconfig' && f.target === 'geo'));
  assert.deepEqual([...TEST_COMPONENTS], ['search', 'rate', 'user', 'redis']);
  assert.equal(splitOf('redis'), 'test');
  assert.equal(splitOf('postgres'), 'train');
  assert.equal(faultMatrix(topo, ['crash']).length, 7);
});

test('the PetShop layout it writes reads back through the evaluation loader', () => {
  const g = parseCallGraph(graphCsv(topo));
  assert.ok(g.calls.some(([a, b]) => a === 'frontend' && b === 'search'));
  assert.ok(g.calls.some(([a, b]) => a === 'rate' && b === 'redis'));
  assert.equal(g.calls.length, 12);
  const cols = columnsOf(['geo', 'redis'], (c) => (c === 'redis' ? ['latency', 'up'] : ['latency', 'errors']));
  const f = framesFromPetshopCsv(petshopCsv([{ ts: 1000, values: new Map([['geo:latency', 0.25], ['redis:up', 1]]) }, { ts: 2000, values: new Map([['geo:errors', 0.5]]) }], cols));
  assert.deepEqual(f.timestamps, [1000, 2000]);
  assert.deepEqual(f.series.get('geo:latency'), [0.25, NaN]);
  assert.deepEqual(f.series.get('geo:errors'), [NaN, 0.5]);
  assert.deepEqual(f.series.get('redis:up'), [1, NaN]);
});

test('the symptom: user-facing series of the strongest series\' component or its callers; else the strongest; null when nothing moved', () => {
  const n = 60;
  const ids = ['frontend:errors', 'search:errors', 'geo:up', 'geo:cpu', 'user:latency'];
  const normal = { timestamps: Array.from({ length: n }, (_, i) => i * 1000), series: new Map(ids.map((id) => [id, Array.from({ length: n }, (_, i) => (id.endsWith(':up') ? 1 : id.endsWith('latency') ? 0.01 + 0.001 * (i % 5) : id.endsWith('cpu') ? 0.01 + 0.001 * (i % 7) : 0))])) };
  const frame = (vals: Record<string, number[]>) => ({ timestamps: [0, 1, 2, 3], series: new Map(ids.map((id) => [id, vals[id] ?? (id.endsWith(':up') ? [1, 1, 1, 1] : id.endsWith('cpu') ? [0.01, 0.01, 0.01, 0.01] : id.endsWith('latency') ? [0.01, 0.01, 0.01, 0.01] : [0, 0, 0, 0])])) });
  // A crash of geo: frontend's errors are the symptom, not geo's own up.
  assert.deepEqual(chooseTarget(normal, frame({ 'geo:up': [1, 0, 0, 0], 'search:errors': [0, 0.5, 0.5, 0.5], 'frontend:errors': [0, 0.3, 0.3, 0.3] }), 1, topo)?.node, 'frontend');
  // A busy loop users do not feel, with a blip on an unrelated service: the cpu series itself.
  const t = chooseTarget(normal, frame({ 'geo:cpu': [0.01, 0.9, 0.9, 0.9], 'user:latency': [0.01, 0.05, 0.01, 0.01] }), 1, topo);
  assert.deepEqual([t?.node, t?.metric], ['geo', 'cpu']);
  assert.equal(chooseTarget(normal, frame({}), 1, topo), null);
});
