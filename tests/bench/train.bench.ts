/**
 * Argos rule training with the offline provider on NAB's real-data series (the `real*` folders),
 * under the Argos protocol (70/30 per series; the loop fits on the first 70% of the train split
 * and the accuracy guarantee validates on the rest): event and point-adjusted F1 on the test
 * split for base alone, rules alone and base+rules, and training time per series.
 * Speed is reported, never judged. About 15–20 s on the shared 2-core machine.
 */
import { Registry } from 'prom-client';
import { defaultNabPaths, loadCorpus } from '../../pipelines/train/data/corpus.ts';
import type { Series } from '../../pipelines/train/data/series.ts';
import { runArgosEval } from '../../pipelines/train/eval/argos.ts';
import type { LabelFn } from '../../pipelines/train/eval/detector.ts';
import { getDetector } from '../../pipelines/train/eval/registry.ts';
import type { SeriesTrainingReport } from '../../pipelines/train/argos/report.ts';
import { argosRuleTrainer, createTrainingRun } from '../../pipelines/train/argos/run.ts';

export async function run(): Promise<void> {
  const paths = defaultNabPaths();
  const corpus = await loadCorpus(paths.data, paths.labels, { filter: ['real'] });
  const det = getDetector('ewma');
  let memo: { s: Series; l: Uint8Array } | undefined;
  const base: LabelFn = (s) => {
    if (memo?.s !== s) memo = { s, l: det.labels!(s) };
    return memo.l;
  };
  const reports: SeriesTrainingReport[] = [];
  const t0 = performance.now();
  const trainRules = argosRuleTrainer(createTrainingRun({ registry: new Registry(), provider: 'offline' }), base, { seed: 1 }, reports);
  const r = await runArgosEval(corpus, { name: 'ewma', base, trainRules });
  const ms = performance.now() - t0;
  const times = reports.map((x) => x.timeMs).sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const f = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));
  for (const v of ['base', 'rules', 'base+rules'] as const) {
    const s = r.summary[v];
    console.log(`${v}: event F1 ${f(s.eventF1)}, point-adjusted F1 ${f(s.pointAdjustedF1)} over ${s.seriesCounted} series; clean series with alarms ${s.cleanSeriesWithAlarms}`);
  }
  const published = reports.filter((x) => x.published.length > 0).length;
  console.log(`${corpus.length} series, ${published} published rules; training per series mean ${(mean / 1000).toFixed(2)} s, median ${(times[times.length >> 1]! / 1000).toFixed(2)} s, max ${(times.at(-1)! / 1000).toFixed(2)} s; whole run ${(ms / 1000).toFixed(1)} s`);
  console.log(
    `JSON: ${JSON.stringify({
      bench: 'train',
      series: corpus.length,
      published,
      summary: r.summary,
      trainMsMean: Math.round(mean),
      trainMsMax: times.at(-1),
      totalMs: Math.round(ms),
    })}`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
