import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../../pipelines/core/errors.ts';
import { EnsembleDetector, ensembleDefaults, normalTailDecades } from '../../../../pipelines/detect/base/ensemble.ts';
import { DEFAULT_BASE_DETECTOR, createBaseDetector } from '../../../../pipelines/detect/base/index.ts';
import type { BaseResult } from '../../../../pipelines/detect/base/types.ts';
import { mulberry32 } from '../../../../pipelines/core/random.ts';
import { seasonalSpikes } from '../../../../pipelines/train/data/synthetic.ts';

const STEP = 300_000;
const T0 = Date.UTC(2024, 0, 1);

function gauss(seed: number): () => number {
  const r = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

function alarms(det: EnsembleDetector, values: ArrayLike<number>, ts?: ArrayLike<number>): { idx: number[]; results: Map<number, BaseResult> } {
  const idx: number[] = [];
  const results = new Map<number, BaseResult>();
  for (let i = 0; i < values.length; i++) {
    const r = det.update(ts ? ts[i]! : T0 + i * STEP, values[i]!);
    if (r.isAnomaly) {
      idx.push(i);
      results.set(i, r);
    }
  }
  return { idx, results };
}

describe('ensemble detector (the default)', () => {
  it('is the default of every command', () => {
    assert.equal(DEFAULT_BASE_DETECTOR, 'ensemble');
    assert.equal(createBaseDetector(DEFAULT_BASE_DETECTOR).name, 'ensemble');
  });

  it('finds a spike on a noisy series, once, and explains it in words', () => {
    const g = gauss(7);
    const xs = Array.from({ length: 2000 }, () => 100 + 2 * g());
    xs[1500] = 140;
    const { idx, results } = alarms(new EnsembleDetector(), xs);
    assert.deepEqual(idx, [1500]);
    const text = results.get(1500)!.explanation;
    assert.match(text, /^value 140 is (far above|above) /);
    assert.doesNotMatch(text, /\d{5,} (σ|robust)/);
  });

  it('raises no alarm on a flat series, nor on a flat series with small quantized steps', () => {
    assert.deepEqual(alarms(new EnsembleDetector(), new Array(3000).fill(42)).idx, []);
    const r = mulberry32(3);
    // A 0/1 gauge that is usually 0: the novelty and spike scores must not fire on every 1.
    const xs = Array.from({ length: 3000 }, () => (r() < 0.05 ? 1 : 0));
    assert.ok(alarms(new EnsembleDetector(), xs).idx.length <= 1);
  });

  it('does not fire on missing values, and a gap leaves the state as if it were not there', () => {
    const g = gauss(11);
    const xs = Array.from({ length: 2000 }, () => 10 + g());
    const withGaps = xs.map((v, i) => (i >= 1000 && i < 1100 ? Number.NaN : v));
    const a = new EnsembleDetector();
    const b = new EnsembleDetector();
    const ra = alarms(a, withGaps);
    for (let i = 1000; i < 1100; i++) assert.equal(a.update(T0 + i * STEP, Number.NaN).isAnomaly, false);
    // b never sees the NaN rows at all: same alarms, same state afterwards.
    const kept = withGaps.flatMap((v, i) => (Number.isNaN(v) ? [] : [[T0 + i * STEP, v] as const]));
    const idxB: number[] = [];
    let k = 0;
    for (const [t, v] of kept) {
      if (b.update(t, v).isAnomaly) idxB.push(kept.findIndex((x) => x[0] === t));
      k++;
    }
    assert.equal(k, 1900);
    const idxA = ra.idx.map((i) => kept.findIndex((x) => x[0] === T0 + i * STEP));
    assert.deepEqual(idxA, idxB);
    // Same learned state (the reusable result object aside, which holds the last input).
    assert.deepEqual({ ...a, out: null }, { ...b, out: null });
  });

  it('rebuilt by replaying the samples equals the uninterrupted run', () => {
    const s = seasonalSpikes(4);
    const whole = new EnsembleDetector();
    const outWhole: number[] = [];
    for (let i = 0; i < s.values.length; i++) outWhole.push(whole.update(s.timestamps[i]!, s.values[i]!).score);
    // A restart at 2500: a fresh detector replays the first 2500 samples, then goes on.
    const rebuilt = new EnsembleDetector();
    for (let i = 0; i < 2500; i++) rebuilt.update(s.timestamps[i]!, s.values[i]!);
    const outRebuilt: number[] = [];
    for (let i = 2500; i < s.values.length; i++) outRebuilt.push(rebuilt.update(s.timestamps[i]!, s.values[i]!).score);
    assert.deepEqual(outRebuilt, outWhole.slice(2500));
    assert.deepEqual(rebuilt, whole);
  });

  it('keeps bounded state: typed arrays of fixed size, under 8 KiB', () => {
    const d = new EnsembleDetector();
    const s = seasonalSpikes(2, 60);
    // Per-series state: lookup tables shared by every detector (the same object in another one) are not counted.
    const shared = new Set(Object.values(new EnsembleDetector()));
    const sizes = () => Object.values(d).filter((x) => ArrayBuffer.isView(x) && !shared.has(x)).map((x) => (x as Float64Array).byteLength);
    const before = sizes();
    for (let i = 0; i < s.values.length; i++) d.update(s.timestamps[i]!, s.values[i]!);
    assert.deepEqual(sizes(), before);
    const typed = before.reduce((a, b) => a + b, 0);
    assert.ok(typed < 4096, `typed arrays ${typed} B`);
  });

  it('skips repeated and older timestamps', () => {
    const d = new EnsembleDetector();
    for (let i = 0; i < 500; i++) d.update(T0 + i * STEP, 5 + (i % 7));
    const seen = d.seen;
    assert.equal(d.update(T0 + 499 * STEP, 1e9).isAnomaly, false);
    assert.equal(d.update(T0, 1e9).isAnomaly, false);
    assert.equal(d.seen, seen);
  });

  it('seasonal spikes (daily sine, σ 1.5, +25..+35): 5 of 5 found, at most 1 false alarm, seeds 1–8', () => {
    for (let seed = 1; seed <= 8; seed++) {
      const s = seasonalSpikes(seed);
      const { idx } = alarms(new EnsembleDetector(), s.values, s.timestamps);
      const found = s.windows.filter((w) => idx.some((i) => i >= w.start && i <= w.end)).length;
      const falseAlarms = idx.filter((i) => !s.windows.some((w) => i >= w.start && i <= w.end)).length;
      assert.equal(found, 5, `seed ${seed}: found ${found}/5, alarms at ${idx.join(',')}, spikes at ${s.spikes.join(',')}`);
      assert.ok(falseAlarms <= 1, `seed ${seed}: ${falseAlarms} false alarms`);
    }
  });

  it('validates options, naming the key', () => {
    assert.throws(() => new EnsembleDetector({ rest: -1 }), (e: unknown) => e instanceof ConfigError && e.message.includes('ensemble.rest: expected ≥ 0, found -1'));
    assert.equal(new EnsembleDetector({ threshold: 4 }).opts.threshold, 4);
    assert.equal(new EnsembleDetector().opts.threshold, ensembleDefaults.threshold);
  });

  it('normal tail in decades matches known values', () => {
    assert.ok(Math.abs(normalTailDecades(1.6449) - 1.30103) < 0.01); // Q = 0.05
    assert.ok(Math.abs(normalTailDecades(4.2649) - 5) < 0.02); // Q = 1e-5
    assert.ok(Math.abs(normalTailDecades(7.9413) - 15) < 0.05); // Q = 1e-15
  });
});
