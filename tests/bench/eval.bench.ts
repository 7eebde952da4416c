/**
 * Full-corpus NAB evaluation of each scorer, plus the Argos protocol for the default one.
 * Prints wall times and scores; speed is reported, never judged.
 */
import { defaultNabPaths, loadCorpus } from '../../pipelines/train/data/corpus.ts';
import { labelsFromScores, runArgosEval } from '../../pipelines/train/eval/argos.ts';
import { runNabEval } from '../../pipelines/train/eval/nab.ts';
import { DEFAULT_DETECTOR, getDetector } from '../../pipelines/train/eval/registry.ts';

export async function run(): Promise<void> {
  const paths = defaultNabPaths();
  const t0 = performance.now();
  const corpus = await loadCorpus(paths.data, paths.labels);
  const loadMs = performance.now() - t0;
  const rows = corpus.reduce((a, s) => a + s.values.length, 0);
  console.log(`load: ${corpus.length} series, ${rows} rows in ${loadMs.toFixed(0)} ms`);
  const figures: Record<string, unknown> = { loadMs: Math.round(loadMs), rows };
  for (const name of ['context', 'likelihood', 'zscore']) {
    const t = performance.now();
    const r = runNabEval(corpus, getDetector(name));
    const ms = performance.now() - t;
    console.log(
      `nab ${name}: standard ${r.summary.standard?.toFixed(1)}, reward_low_FP ${r.summary.reward_low_FP?.toFixed(1)}, reward_low_FN ${r.summary.reward_low_FN?.toFixed(1)}; ` +
        `detect ${r.detectMs} ms (${((r.detectMs * 1000) / rows).toFixed(2)} µs/point), score ${r.scoreMs} ms, total ${ms.toFixed(0)} ms`,
    );
    figures[`nab_${name}`] = { ...r.summary, detectMs: r.detectMs, scoreMs: r.scoreMs, totalMs: Math.round(ms) };
  }
  const t = performance.now();
  const det = getDetector(DEFAULT_DETECTOR);
  const a = await runArgosEval(corpus, { name: det.name, base: labelsFromScores(det) });
  const ms = performance.now() - t;
  console.log(`argos ${det.name}: base event F1 ${a.summary.base.eventF1?.toFixed(3)}, point F1 ${a.summary.base.pointF1?.toFixed(3)}, PA F1 ${a.summary.base.pointAdjustedF1?.toFixed(3)} over ${a.summary.base.seriesCounted} series in ${ms.toFixed(0)} ms`);
  figures[`argos_${det.name}`] = { ...a.summary.base, totalMs: Math.round(ms) };
  console.log(`JSON: ${JSON.stringify({ bench: 'eval', ...figures })}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
