import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultNabPaths, loadCorpus } from '../../../../pipelines/train/data/corpus.ts';
import { runNabEval } from '../../../../pipelines/train/eval/nab.ts';
import { getDetector } from '../../../../pipelines/train/eval/registry.ts';
import type { LabelledSeries } from '../../../../pipelines/train/data/series.ts';

const nab = defaultNabPaths();
const close = (a: number | null, b: number) => assert.ok(a !== null && Math.abs(a - b) < 1e-9, `${a} != ${b}`);

let corpus: LabelledSeries[] | undefined;
async function full(): Promise<LabelledSeries[]> {
  corpus ??= await loadCorpus(nab.data, nab.labels);
  return corpus;
}

test('the NAB corpus loads: 58 series, 116 windows', async () => {
  const c = await full();
  assert.equal(c.length, 58);
  assert.equal(c.reduce((a, s) => a + s.windows.length, 0), 116);
});

test('null detector normalizes to 0 and perfect detector to 100 on one real NAB file', async () => {
  const one = (await full()).filter((s) => s.name === 'realKnownCause/nyc_taxi.csv');
  assert.equal(one[0]!.windows.length, 5);
  const nul = runNabEval(one, getDetector('null'));
  const perfect = runNabEval(one, getDetector('oracle'));
  for (const p of ['standard', 'reward_low_FP', 'reward_low_FN'] as const) {
    close(nul.summary[p], 0);
    close(perfect.summary[p], 100);
  }
  close(perfect.profiles.standard.raw, 5);
  close(nul.profiles.reward_low_FN.raw, -10);
});

test('null and perfect anchors hold on the whole corpus', async () => {
  const c = await full();
  const nul = runNabEval(c, getDetector('null'));
  const perfect = runNabEval(c, getDetector('oracle'));
  for (const p of ['standard', 'reward_low_FP', 'reward_low_FN'] as const) {
    close(nul.summary[p], 0);
    close(perfect.summary[p], 100);
  }
  close(nul.profiles.standard.raw, -116);
  close(perfect.profiles.standard.perfectRaw, 116);
});

test('per-series raw scores at the corpus threshold add up to the swept corpus score', async () => {
  const c = (await full()).filter((s) => s.name.startsWith('realKnownCause/'));
  const r = runNabEval(c, getDetector('likelihood'));
  for (const p of ['standard', 'reward_low_FP', 'reward_low_FN'] as const) {
    const sum = r.series.reduce((a, s) => a + s.profiles[p].score, 0);
    assert.ok(Math.abs(sum - r.profiles[p].raw) < 1e-6, `${p}: ${sum} vs ${r.profiles[p].raw}`);
  }
});

test('scores outside [0, 1] are refused with the series and row', async () => {
  const c = (await full()).slice(0, 1);
  assert.throws(() => runNabEval(c, { name: 'bad', score: (s) => new Float64Array(s.values.length).fill(2) }), {
    code: 'PANOPTES_INPUT',
    message: /bad on artificialNoAnomaly\/art_daily_no_noise\.csv: anomaly score at row 0 is 2/,
  });
});

test('the default context scorer keeps its NAB standard score at or above 65 on the full corpus', async () => {
  const r = runNabEval(await full(), getDetector('context'));
  assert.ok(r.summary.standard! >= 65, `standard ${r.summary.standard}`);
  assert.ok(r.summary.reward_low_FN! >= r.summary.reward_low_FP!, 'FN-reward profile scores above the FP-reward one for a sparse detector');
});

test("NAB's point labels (combined_labels.json) give the published windows, except the file NAB's labeler hard-codes", async () => {
  const fromPoints = await loadCorpus(nab.data, nab.labels.replace('combined_windows.json', 'combined_labels.json'));
  const windows = await full();
  const differing = windows.filter((s, i) => JSON.stringify(s.windows) !== JSON.stringify(fromPoints[i]!.windows)).map((s) => s.name);
  assert.deepEqual(differing, ['realAWSCloudwatch/iio_us-east-1_i-a2eb1cd9_NetworkIn.csv']);
});
