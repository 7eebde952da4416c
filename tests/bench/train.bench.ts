/**
 * Argos rule training with the offline provider on NAB's real-data series (the `real*` folders),
 * under the Argos protocol (70/30 per series; the loop fits on the first 70% of the train split
 * and the accuracy guarantee validates on the rest): event and point-adjusted F1 on the test
 * split for base alone, rules alone and base+rules, and training time per series; then the same
 * with range rules off (what the agents' loop alone adds).
 * Then the held-out protocol (`eval --holdout`): training options chosen on the tuning half of the
 * series (fixed hash of the path), base+rules − base reported on the other half.
 * All of it for the default base detector (ensemble, its rest replayed after the FP vetoes as
 * online), then for ewma (the previous default), in one run.
 * Speed is reported, never judged. About 3 min on a quiet 2-core machine.
 */
import { Registry } from 'prom-client';
import { defaultNabPaths, loadCorpus } from '../../pipelines/train/data/corpus.ts';
import type { LabelledSeries, Series } from '../../pipelines/train/data/series.ts';
import { DEFAULT_BASE_DETECTOR } from '../../pipelines/detect/base/index.ts';
import { runArgosEval } from '../../pipelines/train/eval/argos.ts';
import { HOLDOUT_GRID, runArgosHoldout } from '../../pipelines/train/eval/holdout.ts';
import type { BaseFn, BaseOutput } from '../../pipelines/train/eval/detector.ts';
import { getDetector } from '../../pipelines/train/eval/registry.ts';
import type { SeriesTrainingReport } from '../../pipelines/train/argos/report.ts';
import { argosRuleTrainer, createTrainingRun } from '../../pipelines/train/argos/run.ts';
import { trainDefaultsFor } from '../../pipelines/train/argos/trainer.ts';

export async function run(): Promise<void> {
  const paths = defaultNabPaths();
  const corpus = await loadCorpus(paths.data, paths.labels, { filter: ['real'] });
  // The default base first, then ewma (the previous default) for comparison.
  for (const name of [DEFAULT_BASE_DETECTOR, 'ewma']) await runFor(name, corpus);
}

async function runFor(name: string, corpus: LabelledSeries[]): Promise<void> {
  const det = getDetector(name);
  // The training defaults `train --base NAME` and `eval --detector NAME` use (BASE_TRAIN_DEFAULTS).
  const defaults = trainDefaultsFor(name);
  // The base's trace (alarm candidates + rest): rules combine with it exactly as online.
  const memo = new WeakMap<Series, BaseOutput>();
  const base: BaseFn = (s) => {
    let l = memo.get(s);
    if (!l) memo.set(s, (l = det.trace!(s)));
    return l;
  };
  const reports: SeriesTrainingReport[] = [];
  const t0 = performance.now();
  const trainRules = argosRuleTrainer(createTrainingRun({ registry: new Registry(), provider: 'offline' }), base, { ...defaults, seed: 1 }, reports);
  const r = await runArgosEval(corpus, { name, base, trainRules });
  const ms = performance.now() - t0;
  const times = reports.map((x) => x.timeMs).sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const f = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));
  for (const v of ['base', 'rules', 'base+rules'] as const) {
    const s = r.summary[v];
    console.log(`base ${name}, ${v}: event F1 ${f(s.eventF1)}, point-adjusted F1 ${f(s.pointAdjustedF1)} over ${s.seriesCounted} series; clean series with alarms ${s.cleanSeriesWithAlarms}`);
  }
  const published = reports.filter((x) => x.published.length > 0).length;
  console.log(`base ${name}: ${corpus.length} series, ${published} published rules; training per series mean ${(mean / 1000).toFixed(2)} s, median ${(times[times.length >> 1]! / 1000).toFixed(2)} s, max ${(times.at(-1)! / 1000).toFixed(2)} s; whole run ${(ms / 1000).toFixed(1)} s`);
  console.log(
    `JSON: ${JSON.stringify({
      bench: 'train',
      base: name,
      series: corpus.length,
      published,
      summary: r.summary,
      trainMsMean: Math.round(mean),
      trainMsMax: times.at(-1),
      totalMs: Math.round(ms),
    })}`,
  );
  // The same run without range rules: what the agents' loop alone adds.
  const loopOnly = await runArgosEval(corpus, { name, base, trainRules: argosRuleTrainer(createTrainingRun({ registry: new Registry(), provider: 'offline' }), base, { ...defaults, seed: 1, rangeRules: 'off' }, []) });
  const lo = loopOnly.summary;
  console.log(`base ${name}, range rules off (the agents' loop alone): base+rules event F1 ${f(lo['base+rules'].eventF1)} vs base ${f(lo.base.eventF1)} (Δ ${f((lo['base+rules'].eventF1 ?? 0) - (lo.base.eventF1 ?? 0))}); point-adjusted F1 ${f(lo['base+rules'].pointAdjustedF1)}`);
  console.log(`JSON: ${JSON.stringify({ bench: 'train-loop-only', base: name, summary: lo })}`);
  const h0 = performance.now();
  const run = createTrainingRun({ registry: new Registry(), provider: 'offline' });
  const h = await runArgosHoldout(corpus, { name, base }, (options) => argosRuleTrainer(run, base, { ...defaults, seed: 1, ...options }, []));
  const d = h.holdout.delta;
  console.log(
    `base ${name}, holdout (seed 1): chosen on the tuning half (${h.holdout.tuningSeries.length} series, ${HOLDOUT_GRID.length} grid points): ${h.holdout.chosen!.label}; ` +
      `base+rules − base event F1: reporting ${f(d.reporting.eventF1)} (${h.holdout.summaries.reporting.base.seriesCounted} series counted), tuning ${f(d.tuning.eventF1)}, whole ${f(d.whole.eventF1)}; ${((performance.now() - h0) / 1000).toFixed(1)} s`,
  );
  console.log(`JSON: ${JSON.stringify({ bench: 'train-holdout', base: name, chosen: h.holdout.chosen, delta: d, summaries: h.holdout.summaries })}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
