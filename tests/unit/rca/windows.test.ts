import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MetricBatch } from '../../../pipelines/core/records.ts';
import { MetricWindows, telemetryFor } from '../../../pipelines/rca/windows.ts';

function batch(fp: string, labels: Record<string, string>, pts: [number, number][], stale: number[] = []): MetricBatch {
  return { fingerprint: fp, labels, samples: pts.map(([t, v]) => ({ timestampMs: t, value: v, stale: stale.includes(t) })), source: 't', receivedAtMs: 0, exemplarsDropped: 0, histogramsDropped: 0 };
}

test('node ids from labels: component then service/job, metric from signal then __name__', () => {
  const w = new MetricWindows();
  assert.equal(w.nodeOf({ component: 'geo', signal: 'latency', __name__: 'lab:latency' }), 'geo:latency');
  assert.equal(w.nodeOf({ service: 'geo', __name__: 'http_requests' }), 'geo:http_requests');
  assert.equal(w.nodeOf({ job: 'geo', __name__: 'up' }), 'geo:up');
  assert.equal(w.nodeOf({ __name__: 'up' }), null, 'no component: not a graph node');
  const custom = new MetricWindows({ componentLabels: ['app'], metricLabels: ['kind'] });
  assert.equal(custom.nodeOf({ app: 'a', kind: 'k', component: 'x', signal: 'y' }), 'a:k');
});

test('samples align to the step, replicas of a node are averaged, stale and NaN samples skipped', () => {
  const w = new MetricWindows({ stepMs: 1000, fillMs: 0 });
  const l = { component: 'geo', signal: 'latency' };
  w.add(batch('r1', l, [[1000, 1], [2010, 2], [3000, NaN]]));
  w.add(batch('r2', l, [[990, 3], [2000, 4], [3000, 9]], [3000]));
  w.add(batch('c', { component: 'geo', signal: 'cpu' }, [[3000, 0.5]]));
  const f = w.frame();
  assert.deepEqual(f.timestamps, [1000, 2000, 3000]);
  assert.deepEqual(f.series.get('geo:latency')!.slice(0, 2), [2, 3]);
  assert.ok(Number.isNaN(f.series.get('geo:latency')![2]!));
  assert.deepEqual(f.series.get('geo:cpu')!.map((v) => (Number.isNaN(v) ? null : v)), [null, null, 0.5]);
  assert.deepEqual(w.nodeIds(), ['geo:cpu', 'geo:latency']);
});

test('windows are bounded by age, by points and by node count', () => {
  const w = new MetricWindows({ stepMs: 1, windowMs: 100, maxPointsPerSeries: 50, maxNodes: 2 });
  const pts: [number, number][] = Array.from({ length: 1000 }, (_, i) => [i, i]);
  for (let i = 0; i < pts.length; i += 10) w.add(batch('a', { component: 'a', signal: 's' }, pts.slice(i, i + 10)));
  const f = w.frame();
  assert.ok(f.timestamps.length <= 101, `age bound (${f.timestamps.length})`);
  assert.equal(f.timestamps.at(-1), 999);
  const many = new MetricWindows({ stepMs: 1, windowMs: 10_000, maxPointsPerSeries: 50 });
  many.add(batch('a', { component: 'a', signal: 's' }, pts.slice(0, 120).reverse()));
  assert.equal(many.pointCount(), 50, 'point bound, out-of-order input');
  assert.equal(many.frame().timestamps[0], 70, 'the newest points are kept');
  w.add(batch('b', { component: 'b', signal: 's' }, [[999, 1]]));
  w.add(batch('c', { component: 'c', signal: 's' }, [[999, 1]]));
  assert.deepEqual(w.nodeIds(), ['a:s', 'b:s']);
  assert.equal(w.droppedNodes, 1);
});

test('telemetry split: normal history before the incident minus a gap, the incident window from its start', () => {
  const w = new MetricWindows({ stepMs: 1000 });
  w.add(batch('a', { component: 'a', signal: 's' }, Array.from({ length: 20 }, (_, i) => [i * 1000, i] as [number, number])));
  const { normal, failure } = telemetryFor(w, 10_200, 3000);
  assert.equal(normal.timestamps.at(-1), 7000);
  assert.equal(failure.timestamps[0], 10_000, 'the first anomalous sample, aligned, is in the incident window');
  assert.equal(failure.timestamps.at(-1), 19_000);
});

test('bad window options are rejected with their keys', () => {
  assert.throws(() => new MetricWindows({ stepMs: 0 }), /rca\.stepMs/);
  assert.throws(() => new MetricWindows({ metricLabels: [] }), /rca\.metricLabels/);
});

test('a series recorded in another phase fills the rows it misses from its latest sample, up to fillMs', () => {
  const w = new MetricWindows({ stepMs: 1000, fillMs: 2000 });
  // a: every step; b: jitter around the rounding boundary leaves it without a sample at 3000 and 4000; then it stops.
  w.add(batch('a', { component: 'a', signal: 's' }, [1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000].map((t) => [t, 1] as [number, number])));
  w.add(batch('b', { component: 'b', signal: 's' }, [[1000, 5], [2499, 6], [5000, 7]]));
  const b = w.frame().series.get('b:s')!.map((v) => (Number.isNaN(v) ? null : v));
  assert.deepEqual(b, [5, 6, 6, 6, 7, 7, 7, null, null], 'held for 2 s, then NaN (stale)');
  const strict = new MetricWindows({ stepMs: 1000, fillMs: 0 });
  strict.add(batch('b', { component: 'b', signal: 's' }, [[1000, 5], [3000, 7]]));
  strict.add(batch('a', { component: 'a', signal: 's' }, [[2000, 1]]));
  assert.ok(Number.isNaN(strict.frame().series.get('b:s')![1]!));
});
