import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { correlateAll, dependencyGraphFromEdges, IncidentCorrelator, incidentId, validateCorrelatorOptions } from '../../../pipelines/incidents/correlate.ts';
import type { Anomaly, Severity } from '../../../pipelines/core/records.ts';
import { ConfigError } from '../../../pipelines/core/errors.ts';

const MIN = 60_000;
// web → api → db, api → cache; billing is unrelated.
const graph = dependencyGraphFromEdges([['web', 'api'], ['api', 'db'], ['api', 'cache']]);

function anomaly(service: string, tMin: number, severity: Severity = 'warning', metric = 'latency'): Anomaly {
  return {
    id: `${service}/${metric}@${tMin}`,
    fingerprint: `${service}/${metric}`,
    labels: { service, __name__: metric },
    timestampMs: tMin * MIN,
    value: 1,
    ruleId: 'r1',
    ruleVersion: 'v1',
    ruleKind: 'FN',
    severity,
    detector: 'mad',
    baseScore: 5,
    explanation: '',
    clauses: [],
    detectedAtMs: 0,
  };
}

const opts = { windowMs: 10 * MIN, quietMs: 15 * MIN, maxHops: 1 };

test('anomalies on connected components within the window form one incident', () => {
  const events = correlateAll(graph, [anomaly('db', 0), anomaly('api', 2), anomaly('web', 4)], opts);
  assert.deepEqual(events.map((e) => e.status), ['OPEN', 'UPDATED', 'UPDATED']);
  const last = events.at(-1)!;
  assert.deepEqual(last.components, ['api', 'db', 'web']);
  assert.equal(last.anomalyCount, 3);
  assert.equal(new Set(events.map((e) => e.id)).size, 1);
  assert.equal(last.id, incidentId(anomaly('db', 0)));
});

test('unconnected components and anomalies outside the window open separate incidents', () => {
  const events = correlateAll(graph, [anomaly('db', 0), anomaly('billing', 1), anomaly('db', 30)], opts);
  const opened = events.filter((e) => e.status === 'OPEN');
  assert.equal(opened.length, 3);
  assert.deepEqual(opened.map((e) => e.components[0]), ['db', 'billing', 'db']);
});

test('components two hops apart join only with maxHops 2, or through a component in between', () => {
  assert.equal(correlateAll(graph, [anomaly('db', 0), anomaly('web', 1)], opts).filter((e) => e.status === 'OPEN').length, 2);
  assert.equal(correlateAll(graph, [anomaly('db', 0), anomaly('web', 1)], { ...opts, maxHops: 2 }).filter((e) => e.status === 'OPEN').length, 1);
});

test('an anomaly connecting two open incidents merges them into the older one', () => {
  const events = correlateAll(graph, [anomaly('db', 0), anomaly('web', 1), anomaly('api', 2)], opts);
  const resolved = events.filter((e) => e.status === 'RESOLVED');
  assert.equal(resolved.length, 1);
  assert.match(resolved[0]!.summary, /^merged into inc-/);
  const last = events.at(-1)!;
  assert.equal(last.status, 'UPDATED');
  assert.deepEqual(last.components, ['api', 'db', 'web']);
  assert.equal(last.anomalyCount, 3);
  assert.equal(last.id, incidentId(anomaly('db', 0)));
});

test('lifecycle: resolved after the quiet period, by event time or advance()', () => {
  const c = new IncidentCorrelator(graph, opts);
  const [open] = c.ingest(anomaly('db', 0));
  assert.equal(open!.status, 'OPEN');
  assert.deepEqual(c.advance(14 * MIN), []);
  const [resolved] = c.advance(15 * MIN);
  assert.equal(resolved!.status, 'RESOLVED');
  assert.equal(resolved!.resolvedAtMs, 15 * MIN);
  assert.deepEqual(c.openIncidents(), []);
  // A later anomaly first resolves what went quiet, then opens anew.
  const c2 = new IncidentCorrelator(graph, opts);
  c2.ingest(anomaly('db', 0));
  const ev = c2.ingest(anomaly('db', 40));
  assert.deepEqual(ev.map((e) => e.status), ['RESOLVED', 'OPEN']);
});

test('severity escalates to the highest seen and announces an update', () => {
  const events = correlateAll(graph, [anomaly('db', 0, 'info'), anomaly('db', 1, 'critical')], opts);
  assert.equal(events.at(-1)!.status, 'UPDATED');
  assert.equal(events.at(-1)!.severity, 'critical');
});

test('replay is idempotent: same anomalies in, same incidents out; duplicates ignored', () => {
  const input = [anomaly('db', 0), anomaly('api', 3), anomaly('billing', 5), anomaly('web', 6, 'critical'), anomaly('db', 60)];
  const a = correlateAll(graph, input, opts, 200 * MIN);
  const b = correlateAll(graph, [...input].reverse(), opts, 200 * MIN);
  assert.deepEqual(a, b);
  const reg = new Registry();
  const c = new IncidentCorrelator(graph, opts, reg);
  const first = c.ingest(input[0]!);
  assert.equal(first.length, 1);
  assert.deepEqual(c.ingest(input[0]!), []);
});

test('snapshot and restore continue the same incidents', () => {
  const c = new IncidentCorrelator(graph, opts);
  c.ingest(anomaly('db', 0));
  const c2 = new IncidentCorrelator(graph, opts);
  c2.restore(JSON.parse(JSON.stringify(c.snapshot())));
  const ev = c2.ingest(anomaly('api', 2));
  assert.equal(ev[0]!.status, 'UPDATED');
  assert.equal(ev[0]!.id, incidentId(anomaly('db', 0)));
  assert.deepEqual(c2.ingest(anomaly('db', 0)), []);
});

test('the anomaly-id list is bounded while the count keeps counting', () => {
  const many = Array.from({ length: 20 }, (_, i) => anomaly('db', i * 0.1));
  const c = new IncidentCorrelator(graph, { ...opts, maxAnomalyIds: 5 });
  for (const a of many) c.ingest(a);
  const [inc] = c.openIncidents();
  assert.equal(inc!.anomalyIds.length, 5);
  assert.equal(inc!.anomalyCount, 20);
});

test('bad options are rejected naming the key', () => {
  assert.throws(() => validateCorrelatorOptions({ windowMs: -1 }), (e: unknown) => e instanceof ConfigError && /incidents\.windowMs: expected an integer ≥ 1/.test(e.message));
  assert.throws(() => validateCorrelatorOptions({ componentLabels: [] }), /incidents\.componentLabels/);
});
