import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HOLDOUT_GRID, fnv1a32, holdoutHalf, runArgosHoldout } from '../../../../pipelines/train/eval/holdout.ts';
import type { GridPoint, RuleTrainerFactory } from '../../../../pipelines/train/eval/holdout.ts';
import type { LabelFn } from '../../../../pipelines/train/eval/detector.ts';
import type { LabelledSeries } from '../../../../pipelines/train/data/series.ts';
import { defaultTrainOptions } from '../../../../pipelines/train/argos/trainer.ts';
import { renderMarkdown, renderTerminal } from '../../../../pipelines/train/eval/report.ts';

test('the halves come from a fixed FNV-1a hash of the series path', () => {
  // FNV-1a 32-bit reference vectors.
  assert.equal(fnv1a32(''), 0x811c9dc5);
  assert.equal(fnv1a32('a'), 0xe40c292c);
  assert.equal(fnv1a32('foobar'), 0xbf9cf968);
  // NAB series: fixed once and for all (changing the hash would change every held-out figure).
  assert.equal(holdoutHalf('realKnownCause/nyc_taxi.csv'), 'reporting');
  assert.equal(holdoutHalf('realTweets/Twitter_volume_PFE.csv'), 'tuning');
  assert.equal(holdoutHalf('realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv'), 'tuning');
  assert.equal(holdoutHalf('realTweets/Twitter_volume_CVS.csv'), 'reporting');
  assert.equal(HOLDOUT_GRID[0]!.label, 'gate proven-vetoes, min-support 1, validation 0.3, fp-evidence off, fp-relative on, range-rules both', 'the trainer default comes first (ties keep it)');
  const d = defaultTrainOptions;
  assert.deepEqual(HOLDOUT_GRID[0]!.options, { gate: d.gate, minSupport: d.minSupport, validationFraction: d.validationFraction, fpEvidence: d.fpEvidence, fpRelative: d.fpRelative, rangeRules: d.rangeRules });
  assert.equal(new Set(HOLDOUT_GRID.map((g) => g.label)).size, HOLDOUT_GRID.length);
});

// 100 points with spikes at 20 (train), 80 and 90 (test), windows around each.
function series(name: string): LabelledSeries {
  const values = new Float64Array(100).fill(1);
  for (const i of [20, 80, 90]) values[i] = 50;
  return { name, timestamps: Float64Array.from({ length: 100 }, (_, i) => i * 60_000), values, windows: [{ start: 19, end: 21 }, { start: 79, end: 81 }, { start: 89, end: 91 }] };
}
const spikes: LabelFn = (s) => Uint8Array.from(s.values, (v) => (v > 10 ? 1 : 0));
const nothing: LabelFn = (s) => new Uint8Array(s.values.length);

/**
 * Two grid points over 12 series: A helps only on the tuning half, B only on the reporting half.
 * `calls` records which point trained which series.
 */
function twoPointSetup() {
  const names = Array.from({ length: 12 }, (_, i) => `folder/s${i}.csv`);
  const tuning = names.filter((n) => holdoutHalf(n) === 'tuning');
  const reporting = names.filter((n) => holdoutHalf(n) === 'reporting');
  const grid: GridPoint[] = [
    { label: 'B', options: { minSupport: 2 } },
    { label: 'A', options: { minSupport: 1 } },
  ];
  const calls: Array<{ label: string; name: string }> = [];
  const trainer: RuleTrainerFactory = (options) => async (s) => {
    const label = options.minSupport === 1 ? 'A' : 'B';
    calls.push({ label, name: s.name });
    const helps = (label === 'A') === (holdoutHalf(s.name) === 'tuning');
    return { fnRules: helps ? [spikes] : [], fpRules: [] };
  };
  return { names, tuning, reporting, grid, calls, trainer };
}

test('options are chosen on the tuning half only and reported on the other half', async () => {
  const { names, tuning, reporting, grid, calls, trainer } = twoPointSetup();
  const corpus = names.map(series);
  assert.ok(tuning.length > 0 && reporting.length > 0, 'both halves are used');
  // Option A helps on the tuning half only, B on the reporting half only: an honest protocol
  // must pick A (it cannot see B's gain) and then report A's lack of gain.
  const stages: string[] = [];
  const r = await runArgosHoldout(corpus, { name: 'nothing', base: nothing }, trainer, { grid, onStage: (x) => stages.push(x) });
  assert.equal(r.holdout.chosen!.label, 'A');
  assert.deepEqual(r.holdout.grid!.map((g) => [g.label, g.deltaEventF1]), [['B', 0], ['A', 1]]);
  // Every grid run saw only tuning series; reporting series were trained once, with A.
  for (const c of calls.filter((c) => reporting.includes(c.name))) assert.equal(c.label, 'A');
  assert.equal(calls.filter((c) => reporting.includes(c.name)).length, reporting.length);
  assert.equal(calls.filter((c) => tuning.includes(c.name)).length, tuning.length * grid.length);
  assert.equal(r.holdout.delta.reporting.eventF1, 0);
  assert.equal(r.holdout.delta.tuning.eventF1, 1);
  assert.ok(Math.abs(r.holdout.delta.whole.eventF1! - tuning.length / names.length) < 1e-12);
  assert.deepEqual(r.summary, r.holdout.summaries.reporting, 'the summary is the reporting half');
  assert.deepEqual(r.series.map((s) => s.name), names, 'per-series results keep corpus order');
  assert.deepEqual(r.series.map((s) => s.half), names.map(holdoutHalf));
  assert.match(r.notes[0]!, /summary is the REPORTING half's/);
  assert.equal(stages.length, grid.length + 1);
  const md = renderMarkdown(r);
  assert.match(md, /## Held-out protocol/);
  assert.match(md, /\| A \| \+1\.000 \|.*\| \* \|/);
  assert.ok(renderTerminal(r).some((l) => /^reporting\s+\d+\s+\d+/.test(l)));
});

test('cross (2-fold): each half is reported with options chosen on the other half', async () => {
  // A helps only on the tuning half, B only on the reporting half: each direction picks the point
  // that helps where it chooses and reports it where it does not help.
  const { names, tuning, reporting, grid, calls, trainer } = twoPointSetup();
  const r = await runArgosHoldout(names.map(series), { name: 'nothing', base: nothing }, trainer, { grid, cross: true });
  assert.equal(r.holdout.chosen!.label, 'A');
  assert.equal(r.holdout.cross!.chosen.label, 'B');
  assert.deepEqual(r.holdout.cross!.grid.map((g) => [g.label, g.deltaEventF1]), [['B', 1], ['A', 0]]);
  assert.equal(r.holdout.cross!.delta.tuning.eventF1, 0, 'B does nothing on the tuning half');
  assert.equal(r.holdout.cross!.delta.twoFold.eventF1, 0, 'honest: nothing chosen on one half helps the other');
  assert.deepEqual(r.summary, r.holdout.cross!.summaries.twoFold);
  assert.equal(r.holdout.cross!.summaries.twoFold.base.seriesCounted, names.length);
  // Tuning series: the tuning grid (A, B) and once more with B; reporting series: A, then the grid.
  for (const n of tuning) assert.deepEqual(calls.filter((c) => c.name === n).map((c) => c.label), ['B', 'A', 'B']);
  for (const n of reporting) assert.deepEqual(calls.filter((c) => c.name === n).map((c) => c.label), ['A', 'B', 'A']);
  assert.match(r.notes[0]!, /2-fold/);
  assert.match(renderMarkdown(r), /\| two-fold \| 12 \| 12 \|/);
});

test('without rule training the halves are still reported apart and nothing is chosen', async () => {
  const names = Array.from({ length: 6 }, (_, i) => `x/t${i}.csv`);
  const r = await runArgosHoldout(names.map(series), { name: 'spikes', base: spikes }, undefined);
  assert.equal(r.holdout.grid, null);
  assert.equal(r.holdout.chosen, null);
  assert.equal(r.holdout.summaries.whole.base.eventF1, 1);
  assert.equal(r.holdout.summaries.whole.base.seriesCounted, 6);
  assert.equal(r.holdout.summaries.reporting.base.seriesCounted + r.holdout.summaries.tuning.base.seriesCounted, 6);
});
