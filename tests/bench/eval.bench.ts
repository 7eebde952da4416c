/**
 * Full-corpus NAB evaluation of each scorer, plus the Argos protocol for the default one.
 * Prints wall times and scores; speed is reported, never judged.
 */
import { defaultNabPaths, loadCorpus } from '../../pipelines/train/data/corpus.ts';
import { labelsFromScores, runArgosEval } from '../../pipelines/train/eval/argos.ts';
import { runNabEval } from '../../pipelines/train/eval/nab.ts';
import { DEFAULT_DETECTOR, getDetector } from '../../pipelines/train/eval/registry.ts';
import type { Series } from '../../pipelines/train/data/series.ts';

export async function run(): Promise<void> {
  const paths = defaultNabPaths();
  const t0 = performance.now();
  const corpus = await loadCorpus(paths.data, paths.labels);
  const loadMs = performance.now() - t0;
  const rows = corpus.reduce((a, s) => a + s.values.length, 0);
  console.log(`load: ${corpus.length} series, ${rows} rows in ${loadMs.toFixed(0)} ms`);
  const figures: Record<string, unknown> = { loadMs: Math.round(loadMs), rows };
  for (const name of ['ensemble', 'context', 'likelihood', 'ewma', 'robust-z', 'ensemble:raw', 'ewma:raw', 'robust-z:raw']) {
    const t = performance.now();
    const r = runNabEval(corpus, getDetector(name));
    const ms = performance.now() - t;
    console.log(
      `nab ${name}: standard ${r.summary.standard?.toFixed(1)}, reward_low_FP ${r.summary.reward_low_FP?.toFixed(1)}, reward_low_FN ${r.summary.reward_low_FN?.toFixed(1)}; ` +
        `detect ${r.detectMs} ms (${((r.detectMs * 1000) / rows).toFixed(2)} µs/point), score ${r.scoreMs} ms, total ${ms.toFixed(0)} ms`,
    );
    figures[`nab_${name}`] = { ...r.summary, detectMs: r.detectMs, scoreMs: r.scoreMs, totalMs: Math.round(ms) };
  }
  for (const name of ['ensemble', 'ewma', 'robust-z', 'context']) {
    const t = performance.now();
    const det = getDetector(name);
    const base = det.labels ? (s: Series) => det.labels!(s) : labelsFromScores(det);
    const a = await runArgosEval(corpus, { name, base });
    const ms = performance.now() - t;
    const b = a.summary.base;
    console.log(`argos ${name}${name === DEFAULT_DETECTOR.argos ? ' (default)' : ''}: base event F1 ${b.eventF1?.toFixed(3)}, point F1 ${b.pointF1?.toFixed(3)}, PA F1 ${b.pointAdjustedF1?.toFixed(3)} over ${b.seriesCounted} series in ${ms.toFixed(0)} ms`);
    figures[`argos_${name}`] = { ...b, totalMs: Math.round(ms) };
  }
  console.log(`JSON: ${JSON.stringify({ bench: 'eval', ...figures })}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
