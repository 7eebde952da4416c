import { test } from 'node:test';
import assert from 'node:assert/strict';
import { streamingScores } from '../../../../pipelines/train/eval/detector.ts';
import { getDetector } from '../../../../pipelines/train/eval/registry.ts';
import type { Series } from '../../../../pipelines/train/data/series.ts';

test('streaming adapter feeds increasing timestamps only and keeps positions', () => {
  const seen: number[] = [];
  const series: Series = { name: 's', timestamps: Float64Array.from([1, 2, 2, 1, 3]), values: Float64Array.from([10, 20, 30, 40, 50]) };
  const r = streamingScores(() => ({ update: (_t: number, v: number) => (seen.push(v), { score: v / 10, isAnomaly: v === 50 }) }), series);
  assert.deepEqual(seen, [10, 20, 50]);
  assert.equal(r.dropped, 2);
  assert.deepEqual([...r.scores], [1, 1, 0, 0, 1]);
  assert.deepEqual([...r.labels], [0, 0, 0, 0, 1]);
});

test("pipelines/detect's base detectors plug in: flags become labels, flagged scores land in (0.5, 1]", () => {
  const n = 2000;
  const values = Float64Array.from({ length: n }, (_, i) => 10 + ((i * 7919) % 17) / 17 + (i === 1500 ? 100 : 0));
  const series: Series = { name: 's', timestamps: Float64Array.from({ length: n }, (_, i) => 1.4e12 + i * 300_000), values };
  for (const name of ['robust-z', 'ewma']) {
    const d = getDetector(name);
    const labels = d.labels!(series);
    const scores = d.score(series);
    assert.equal(labels[1500], 1, `${name} flags the spike`);
    for (let i = 0; i < n; i++) {
      if (labels[i]) assert.ok(scores[i]! > 0.5 && scores[i]! <= 1);
      else assert.equal(scores[i], 0);
    }
    const raw = getDetector(`${name}:raw`).score(series);
    assert.ok(raw.every((x) => x >= 0 && x <= 1));
    assert.ok(raw[1500]! > 0.5);
  }
});
