import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RollingStats, normalTail } from '../../../../pipelines/train/detectors/rolling.ts';
import { AnomalyLikelihood, RestPeriod, SpatialNovelty } from '../../../../pipelines/train/detectors/anomaly-likelihood.ts';
import { ContextSurprise, contextScores } from '../../../../pipelines/train/detectors/context.ts';
import { likelihoodScores } from '../../../../pipelines/train/detectors/likelihood.ts';


test('rolling stats equal a direct computation over the last window', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 10 }), (xs, w) => {
      const r = new RollingStats(w);
      for (const x of xs) r.push(x);
      const last = xs.slice(-w);
      const m = last.reduce((a, b) => a + b, 0) / last.length;
      const v = last.length < 2 ? 0 : last.reduce((a, b) => a + (b - m) ** 2, 0) / last.length;
      assert.ok(Math.abs(r.mean() - m) < 1e-6);
      assert.ok(Math.abs(r.variance() - v) < 1e-4 * Math.max(1, v));
    }),
  );
});

test('normal tail matches known values', () => {
  assert.ok(Math.abs(normalTail(0) - 0.5) < 1e-7);
  assert.ok(Math.abs(normalTail(1.959964) - 0.025) < 1e-6);
  assert.ok(Math.abs(normalTail(-1.959964) - 0.975) < 1e-6);
  assert.ok(Math.abs(normalTail(3) - 0.0013499) < 1e-6);
});

test('rest period reports only the onset of a burst of high scores', () => {
  const r = new RestPeriod(3, 0.5);
  const out = [0.1, 0.9, 0.8, 0.9, 0.2, 0.2, 0.2, 0.2, 0.7].map((s) => r.update(s));
  // 0.9 at 1 is reported; 2..3 follow a high score; 4..6 are within 3 points of the high at 3; 7 is quiet
  assert.deepEqual(out, [0.1, 0.9, 0, 0, 0, 0, 0, 0.2, 0.7]);
});

test('spatial novelty fires beyond the seen range plus tolerance, after learning', () => {
  const s = new SpatialNovelty(0.1, 2);
  // after 10.5 a new high must pass 10.5 + 1.05; after 11.5, 11.5 + 1.15
  assert.deepEqual([0, 10, 5, 10.5, 11.5, 12.7, -2].map((v) => s.update(v)), [false, false, false, false, false, true, true]);
});

test('anomaly likelihood stays low on stationary noise and jumps on a burst', () => {
  const a = new AnomalyLikelihood(3, 500, 50);
  let seed = 1;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  let maxQuiet = 0;
  for (let i = 0; i < 600; i++) maxQuiet = Math.max(maxQuiet, i > 100 ? a.update(rnd()) : (a.update(rnd()), 0));
  let burst = 0;
  for (let i = 0; i < 3; i++) burst = a.update(20);
  assert.ok(maxQuiet < 0.5, `quiet max ${maxQuiet}`);
  assert.ok(burst > 0.9, `burst ${burst}`);
});

test('context surprise learns a repeating pattern and is surprised by a new transition', () => {
  const c = new ContextSurprise({ levels: 4, maxOrder: 1, alpha: 0.1, min: 0, max: 4 });
  let last = 0;
  for (let i = 0; i < 200; i++) last = c.update([0.5, 1.5, 2.5][i % 3]!);
  const novel = c.update(3.5);
  // blended over orders 0 and 1: order 0 still pays -log(1/3) for a 3-level cycle, order 1 ~0
  assert.ok(last < 0.6, `learned surprise ${last}`);
  assert.ok(novel > 5, `novel surprise ${novel}`);
});

// 5-minute samples with a daily cycle (288 per day).
function daily(n: number, spikeAt: number): { timestamps: Float64Array; values: Float64Array } {
  return {
    timestamps: Float64Array.from({ length: n }, (_, i) => Date.UTC(2014, 0, 1) + i * 300_000),
    values: Float64Array.from({ length: n }, (_, i) => 10 + 5 * Math.sin((2 * Math.PI * i) / 288) + ((i * 7919) % 13) / 13 + (i === spikeAt ? 40 : 0)),
  };
}

test('every scorer returns one score in [0, 1] per point, deterministically', () => {
  const v = daily(3000, 2000);
  for (const f of [contextScores, (x: typeof v) => likelihoodScores(x.values)]) {
    const a = f(v);
    assert.equal(a.length, v.values.length);
    assert.ok(a.every((s) => s >= 0 && s <= 1));
    assert.deepEqual(f(v), a);
  }
});

test('time of day: a level usual at noon is surprising at 3 am', async () => {
  const { ContextSurprise, TimeOfDaySurprise } = await import('../../../../pipelines/train/detectors/context.ts');
  const tod = new TimeOfDaySurprise(new ContextSurprise({ levels: 4, maxOrder: 0, alpha: 0.1, min: 0, max: 4 }), 0.1, 4);
  for (let d = 0; d < 30; d++) {
    tod.update(Date.UTC(2014, 0, 1 + d, 12), 3.5);
    tod.update(Date.UTC(2014, 0, 1 + d, 3), 0.5);
  }
  assert.ok(tod.update(Date.UTC(2014, 1, 1, 12), 3.5) < 0.1);
  assert.ok(tod.update(Date.UTC(2014, 1, 1, 3), 3.5) > 4);
});

test('context scorer puts its highest score on a spike in a daily pattern, once the first cycle is learned', () => {
  const s = contextScores(daily(3000, 2000));
  let arg = 288;
  for (let i = 288; i < s.length; i++) if (s[i]! > s[arg]!) arg = i;
  assert.equal(arg, 2000);
  assert.ok(s[2000]! >= 0.5);
});
