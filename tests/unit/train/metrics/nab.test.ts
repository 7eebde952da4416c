import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  NAB_PROFILES,
  nabLayout,
  nabNormalize,
  nabNullRaw,
  nabPerfectRaw,
  nabScoreDetections,
  nabSweep,
  probationLength,
  scaledSigmoid,
  thresholdScores,
} from '../../../../pipelines/train/metrics/nab.ts';

const std = NAB_PROFILES.standard;
const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);

// One file of 100 rows: probation is rows 0..14, one window at rows 40..49 (width 10).
const layout = nabLayout(100, [{ start: 40, end: 49 }]);
const det = (...rows: number[]) => {
  const d = new Uint8Array(100);
  for (const r of rows) d[r] = 1;
  return d;
};
// σs(-1) = 2 / (1 + e^-5) - 1 = 0.9866142981514305
const MAX_TP = 0.9866142981514305;

test('profiles carry NAB config/profiles.json weights', () => {
  assert.deepEqual(NAB_PROFILES.standard, { tpWeight: 1, fpWeight: 0.11, fnWeight: 1, tnWeight: 1 });
  assert.equal(NAB_PROFILES.reward_low_FP.fpWeight, 0.22);
  assert.equal(NAB_PROFILES.reward_low_FN.fnWeight, 2);
});

test('scaled sigmoid matches the values NAB documents', () => {
  close(scaledSigmoid(-1), 0.98661, 1e-5);
  close(scaledSigmoid(-0.5), 0.84828, 1e-5);
  close(scaledSigmoid(0), 0);
  close(scaledSigmoid(1), -0.98661, 1e-5);
  assert.equal(scaledSigmoid(3), -1);
});

test('probationary period is 15% capped at 750 rows', () => {
  assert.equal(probationLength(100), 15);
  assert.equal(Math.round(probationLength(22695)), 750);
  assert.equal(probationLength(4032), 604);
});

test('a detection on the first row of a window earns exactly the tp weight', () => {
  const s = nabScoreDetections(layout, det(40), std);
  close(s.score, 1.0);
  assert.equal(s.windowsDetected, 1);
});

test('a detection on the last row of a window earns tp * σs(-1/width) / σs(-1)', () => {
  // position -(49 - 49 + 1) / 10 = -0.1; σs(-0.1) = 2 / (1 + e^-0.5) - 1 = 0.2449186624
  const s = nabScoreDetections(layout, det(49), std);
  close(s.score, 0.2449186624037092 / MAX_TP);
  close(s.score, 0.24824, 1e-5);
});

test('only the earliest detection in a window counts', () => {
  // row 45: position -0.5 → σs = 0.8482836399575129
  const s = nabScoreDetections(layout, det(45, 46, 49), std);
  close(s.score, 0.8482836399575129 / MAX_TP);
  assert.equal(s.tp, 3);
});

test('no detection costs fn weight per window', () => {
  close(nabScoreDetections(layout, det(), std).score, -1);
  close(nabScoreDetections(layout, det(), NAB_PROFILES.reward_low_FN).score, -2);
});

test('a false positive before any window costs the full fp weight', () => {
  close(nabScoreDetections(layout, det(20), std).score, -1 - 0.11);
  close(nabScoreDetections(layout, det(20), NAB_PROFILES.reward_low_FP).score, -1 - 0.22);
});

test('a false positive after a window is weighted by σs of its distance past the window end', () => {
  // row 59: (59 - 49) / (10 - 1) = 1.111..; σs = 2 / (1 + e^5.5556) - 1 = -0.9923..
  const expected = 2 / (1 + Math.exp(5 * (10 / 9))) - 1;
  close(expected, -0.99229, 1e-5);
  close(nabScoreDetections(layout, det(40, 59), std).score, 1 + 0.11 * expected);
  // right after the window the penalty is small: row 50 → σs(1/9) = -0.2736
  close(nabScoreDetections(layout, det(40, 50), std).score, 1 + 0.11 * (2 / (1 + Math.exp(5 / 9)) - 1));
  // three window widths later it is the full weight
  close(nabScoreDetections(layout, det(40, 95), std).score, 1 - 0.11);
});

test('detections in the probationary period are ignored', () => {
  close(nabScoreDetections(layout, det(0, 5, 14), std).score, -1);
  close(nabScoreDetections(layout, det(0, 5, 14, 40), std).score, 1);
  assert.equal(nabScoreDetections(layout, det(0, 5, 14), std).fp, 0);
});

test('a window inside the probationary period is neither TP nor FN', () => {
  const l = nabLayout(100, [{ start: 2, end: 5 }]);
  assert.equal(l.scoredWindows, 0);
  close(nabScoreDetections(l, det(), std).score, 0);
});

test('null and perfect anchors normalize to 0 and 100', () => {
  const layouts = [layout, nabLayout(200, [{ start: 50, end: 59 }, { start: 120, end: 139 }])];
  const nullRaw = nabNullRaw(layouts, std);
  const perfectRaw = nabPerfectRaw(layouts, std);
  assert.equal(nullRaw, -3);
  assert.equal(perfectRaw, 3);
  const perfect = layouts.map((l) => nabScoreDetections(l, Uint8Array.from({ length: l.length }, (_, i) => (l.windows.some((w) => w.start === i) ? 1 : 0)), std).score);
  close(nabNormalize(perfect[0]! + perfect[1]!, nullRaw, perfectRaw)!, 100);
  close(nabNormalize(nullRaw, nullRaw, perfectRaw)!, 0);
});

test('sweep picks the best corpus threshold and treats it as inclusive', () => {
  const scores = new Float64Array(100);
  scores[40] = 0.9; // TP at window start
  scores[20] = 0.8; // FP before the window
  scores[70] = 0.8; // FP after the window
  const [r] = nabSweep([{ layout, scores }], [std]);
  assert.equal(r!.threshold, 0.9);
  close(r!.raw, 1);
  // with only FPs above the TP, detecting nothing beats it when fn is cheap... and the TP is worth it
  const s2 = new Float64Array(100);
  s2[20] = 1;
  s2[21] = 1;
  s2[40] = 0.5;
  const [a] = nabSweep([{ layout, scores: s2 }], [std]);
  assert.equal(a!.threshold, 0.5);
  close(a!.raw, 1 - 0.22);
});

test('sweep finds nothing-detected when every detection hurts', () => {
  const scores = new Float64Array(100).fill(0.5);
  const [r] = nabSweep([{ layout: nabLayout(100, []), scores }], [std]);
  assert.equal(r!.threshold, 1.1);
  assert.equal(r!.raw, 0);
});

test('sweep equals the best direct score over all thresholds (property)', () => {
  const file = fc
    .record({ n: fc.integer({ min: 20, max: 80 }), w: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 8 })), { maxLength: 3 }) })
    .chain(({ n, w }) =>
      fc.record({
        n: fc.constant(n),
        windows: fc.constant(
          w
            .map(([s, len]) => ({ start: s % n, end: Math.min(n - 1, (s % n) + len - 1) }))
            .sort((a, b) => a.start - b.start)
            .filter((x, i, arr) => i === 0 || x.start > arr[i - 1]!.end),
        ),
        scores: fc.array(fc.constantFrom(0, 0.25, 0.5, 0.75, 1), { minLength: n, maxLength: n }),
      }),
    );
  fc.assert(
    fc.property(fc.array(file, { minLength: 1, maxLength: 3 }), (files) => {
      const inputs = files.map((f) => ({ layout: nabLayout(f.n, f.windows.filter((w, i, a) => i === 0 || w.start > a[i - 1]!.end)), scores: f.scores }));
      for (const cost of Object.values(NAB_PROFILES)) {
        const [r] = nabSweep(inputs, [cost]);
        let best = -Infinity;
        for (const t of [1.1, 1, 0.75, 0.5, 0.25, 0]) {
          const total = inputs.reduce((a, f) => a + nabScoreDetections(f.layout, thresholdScores(f.scores, t), cost).score, 0);
          if (total > best + 1e-12) best = total;
        }
        close(r!.raw, best, 1e-9);
        const atBest = inputs.reduce((a, f) => a + nabScoreDetections(f.layout, thresholdScores(f.scores, r!.threshold), cost).score, 0);
        close(atBest, r!.raw, 1e-9);
      }
    }),
    { numRuns: 200 },
  );
});
