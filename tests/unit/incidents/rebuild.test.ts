import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Anomaly, Incident } from '../../../pipelines/core/records.ts';
import { correlateAll } from '../../../pipelines/incidents/correlate.ts';
import { BoundedSet, componentDependencies, dependencyGraphOf, lifecycleKey, rebuildCorrelator } from '../../../pipelines/incidents/rebuild.ts';
import { withVersion } from '../../../pipelines/graph/index.ts';

const S = 1000;
const graph = dependencyGraphOf([['web', 'api'], ['api', 'db']]);
const opts = { windowMs: 10 * S, quietMs: 5 * S, maxHops: 1, componentLabels: ['component', 'service'] };

function anomaly(component: string, t: number): Anomaly {
  return { id: `${component}@${t}`, fingerprint: component, labels: { component }, timestampMs: t * S, value: 1, ruleId: null, ruleVersion: null, ruleKind: null, severity: 'warning', detector: 'x', baseScore: 5, explanation: '', clauses: [], detectedAtMs: 0 };
}

test('component dependencies come from cross-component edges of a causal graph', () => {
  const n = (c: string, m: string) => ({ id: `${c}:${m}`, component: c, metric: m, observed: true });
  const e = (from: string, to: string) => ({ from, to, provenance: 'DOCS' as const, confidence: 1, reason: '' });
  const g = withVersion({ name: 'g', nodes: [n('db', 'latency'), n('api', 'latency'), n('api', 'cpu'), n('lonely', 'up')], edges: [e('db:latency', 'api:latency'), e('api:cpu', 'api:latency')], createdAtMs: 0, source: 't' });
  const d = componentDependencies(g);
  assert.deepEqual([...d.get('db')!], ['api']);
  assert.deepEqual([...d.get('api')!], ['db'], 'an edge inside a component adds no dependency');
  assert.deepEqual([...d.get('lonely')!], [], 'a component without cross edges is still known');
  assert.equal(dependencyGraphOf(undefined).size, 0);
});

test('lifecycle keys: OPEN and RESOLVED once per incident, UPDATED by what it announces', () => {
  const base: Incident = { id: 'inc-1', status: 'UPDATED', openedAtMs: 0, updatedAtMs: 1, resolvedAtMs: null, severity: 'warning', components: ['b', 'a'], anomalyIds: [], anomalyCount: 2, summary: 'x' };
  assert.equal(lifecycleKey(base), lifecycleKey({ ...base, components: ['a', 'b'], summary: 'other text', updatedAtMs: 9 }));
  assert.notEqual(lifecycleKey(base), lifecycleKey({ ...base, anomalyCount: 4 }));
  assert.equal(lifecycleKey({ ...base, status: 'RESOLVED', resolvedAtMs: 5 }), 'inc-1|RESOLVED');
  assert.equal(lifecycleKey({ ...base, status: 'OPEN' }), 'inc-1|OPEN');
});

test('bounded set forgets the oldest first', () => {
  const s = new BoundedSet(2);
  s.add('a');
  s.add('b');
  s.add('a');
  s.add('c');
  assert.equal(s.size, 2);
  assert.ok(!s.has('a') && s.has('b') && s.has('c'));
});

test('rebuild after a restart: continuing gives the records an uninterrupted run gives', () => {
  const first = [anomaly('db', 0), anomaly('api', 1), anomaly('web', 2)];
  const rest = [anomaly('web', 3), anomaly('api', 4), anomaly('db', 20)];
  const uninterrupted = correlateAll(graph, [...first, ...rest], opts);
  const published = correlateAll(graph, first, opts);
  const c = rebuildCorrelator(graph, opts, { processed: first, published });
  const continued: Incident[] = [];
  for (const a of rest) continued.push(...c.ingest(a));
  assert.deepEqual([...published, ...continued], uninterrupted);
});

test('rebuild closes incidents the topic shows resolved (by a timer the replay cannot see)', () => {
  const processed = [anomaly('db', 0), anomaly('api', 1)];
  const published = correlateAll(graph, processed, opts);
  const id = published[0]!.id;
  const resolved: Incident = { ...published.at(-1)!, status: 'RESOLVED', resolvedAtMs: 6 * S };
  const c = rebuildCorrelator(graph, opts, { processed, published: [...published, resolved] });
  assert.deepEqual(c.openIncidents(), []);
  // A later anomaly on the same components opens a new incident, not the resolved one.
  const next = c.ingest(anomaly('api', 7));
  assert.equal(next[0]!.status, 'OPEN');
  assert.notEqual(next[0]!.id, id);
  // Without the RESOLVED record the replayed state still holds the incident open.
  assert.equal(rebuildCorrelator(graph, opts, { processed, published }).openIncidents().length, 1);
});

test('rebuild keeps the replay watermark: records of anomalies not yet processed do not resolve early', () => {
  const processed = [anomaly('db', 0)];
  const later: Incident = { id: 'inc-later', status: 'OPEN', openedAtMs: 100 * S, updatedAtMs: 100 * S, resolvedAtMs: null, severity: 'warning', components: ['x'], anomalyIds: [], anomalyCount: 1, summary: '' };
  const c = rebuildCorrelator(graph, opts, { processed, published: [later] });
  const out = c.ingest(anomaly('api', 2));
  assert.deepEqual(out.map((i) => i.status), ['UPDATED'], 'joins the open incident instead of resolving it');
});
