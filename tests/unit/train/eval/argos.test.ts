import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelsFromScores, runArgosEval } from '../../../../pipelines/train/eval/argos.ts';
import { combineWithRules } from '../../../../pipelines/train/eval/detector.ts';
import type { LabelFn } from '../../../../pipelines/train/eval/detector.ts';
import type { LabelledSeries } from '../../../../pipelines/train/data/series.ts';

// 100 points, spikes at 20 (train) and 80, 90 (test); windows around each.
function series(): LabelledSeries {
  const values = new Float64Array(100).fill(1);
  values[20] = 50;
  values[80] = 50;
  values[90] = 50;
  return {
    name: 's.csv',
    timestamps: Float64Array.from({ length: 100 }, (_, i) => i * 60_000),
    values,
    windows: [{ start: 19, end: 21 }, { start: 79, end: 81 }, { start: 89, end: 91 }],
  };
}
const spikes: LabelFn = (s) => Uint8Array.from(s.values, (v) => (v > 10 ? 1 : 0));
const nothing: LabelFn = (s) => new Uint8Array(s.values.length);
const everything: LabelFn = (s) => new Uint8Array(s.values.length).fill(1);

test('argos: base scored on the test split only, rules reported as absent when none are supplied', async () => {
  const r = await runArgosEval([series()], { name: 'spikes', base: spikes });
  const s = r.series[0]!;
  assert.equal(s.trainLength, 70);
  assert.equal(s.testLength, 30);
  assert.equal(s.testEvents, 2);
  assert.equal(s.variants.base!.event.f1, 1);
  assert.deepEqual([s.variants.base!.point.tp, s.variants.base!.point.fn], [2, 4]);
  assert.equal(s.variants.base!.point.f1, 4 / 8);
  assert.equal(s.variants.rules, null);
  assert.deepEqual(s.variants['base+rules'], s.variants.base);
  assert.equal(r.summary.rules.eventF1, null);
  assert.equal(r.summary.base.eventF1, 1);
  assert.match(r.notes[0]!, /no rules were supplied/);
});

test('argos: injected rules — FP rules remove, FN rules add, FP first', async () => {
  let sawCtx = false;
  const r = await runArgosEval([series()], {
    name: 'everything',
    base: everything,
    trainRules: (_s, ctx) => {
      // rules see only the train labels
      sawCtx = ctx.trainEnd === 70 && ctx.trainLabels.length === 70 && ctx.trainLabels[20] === 1;
      return { fpRules: [spikes], fnRules: [] };
    },
  });
  assert.ok(sawCtx);
  const s = r.series[0]!;
  // everything flagged: 2 TP events, FP runs at test rows 70-78, 82-88, 92-99
  assert.equal(s.variants.base!.event.precision, 2 / 5);
  assert.equal(s.variants['base+rules']!.event.f1, 1);
  assert.equal(s.variants.rules!.event.f1, 0); // FP rules alone flag nothing
  assert.deepEqual(s.ruleCount, { fn: 0, fp: 1 });
});

test('combineWithRules applies FP rules before FN rules', () => {
  const base = Uint8Array.from([1, 1, 0, 0]);
  const fp = Uint8Array.from([0, 1, 1, 1]);
  const fn = Uint8Array.from([1, 0, 0, 1]);
  assert.deepEqual([...combineWithRules(base, [fp], [fn])], [1, 1, 0, 1]);
});

test('argos: a detector that flags nothing scores 0 where there are events', async () => {
  const r = await runArgosEval([series()], { name: 'nothing', base: nothing });
  assert.equal(r.summary.base.eventF1, 0);
});

test('labelsFromScores picks the train threshold with the best event F1', () => {
  const s = series();
  const det = { name: 'v', score: (x: LabelledSeries | { values: Float64Array }) => Float64Array.from(x.values, (v) => (v > 10 ? 0.95 : 0.55)) };
  const trainLabels = new Uint8Array(70);
  trainLabels.fill(1, 19, 22);
  const labels = labelsFromScores(det)(s, { trainEnd: 70, trainLabels });
  assert.deepEqual([...labels].flatMap((v, i) => (v ? [i] : [])), [20, 80, 90]);
});

test('argos means cover series with a labelled test event; alarms on clean series are counted apart', async () => {
  const clean: LabelledSeries = { ...series(), name: 'clean.csv', windows: [] };
  const r = await runArgosEval([series(), clean], { name: 'everything', base: everything });
  assert.equal(r.summary.base.seriesCounted, 1);
  assert.equal(r.summary.base.eventF1, r.series[0]!.variants.base!.event.f1);
  assert.equal(r.summary.base.cleanSeriesWithAlarms, 1);
  assert.equal(r.series[1]!.variants.base!.event.f1, 0);
});
