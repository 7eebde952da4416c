/**
 * Clockwork vs FIFO under open-loop Poisson load (see pipelines/inference/bench/benchmark.ts).
 * Writes docs/inference-bench.md, docs/inference-bench.json and docs/inference-goodput.png.
 */
import { fileURLToPath } from 'node:url';
import { formatTable, runInferenceBenchmark } from '../../pipelines/inference/bench/benchmark.ts';

export async function run(): Promise<void> {
  const docs = fileURLToPath(new URL('../../docs', import.meta.url));
  const r = await runInferenceBenchmark({ outDir: docs, workers: Number(process.env['PANOPTES_BENCH_WORKERS'] ?? 1) });
  for (const line of formatTable(r)) console.log(line);
  console.log(`JSON: ${JSON.stringify({ bench: 'inference', capacityRps: r.capacityRps, workers: r.workers, points: r.points, prediction: r.prediction, elapsedS: r.elapsedS })}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
