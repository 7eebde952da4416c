/**
 * RCA stage costs on the PetShop low-traffic scenario: offline graph synthesis (44 agents, data
 * validation), PC on one metric's no-issue data, and ranking one incident with each method.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { datasetsRoot, loadScenario } from '../../pipelines/rca/eval/petshop-data.ts';
import { startRowFor } from '../../pipelines/rca/eval/petshop-eval.ts';
import { subgraphByMetric } from '../../pipelines/graph/index.ts';
import { loadCatalogDir } from '../../pipelines/rca/io.ts';
import { learnGraph } from '../../pipelines/rca/learn.ts';
import { rankCauses, rankMethods } from '../../pipelines/rca/rca.ts';
import { OfflineJudge } from '../../pipelines/rca/synth/offline-judge.ts';
import { synthesizeGraph } from '../../pipelines/rca/synth/synthesize.ts';
import { petshopCatalogDir } from '../../pipelines/rca/cli.ts';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

export async function run(): Promise<void> {
  const s = loadScenario(join(datasetsRoot(), 'petshop', 'low_traffic'));
  const normal = s.normal!;
  const catalog = loadCatalogDir(petshopCatalogDir);
  const synthMs: number[] = [];
  let graph = null as Awaited<ReturnType<typeof synthesizeGraph>>['graph'] | null;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    graph = (await synthesizeGraph({ name: 'bench', catalog, observed: new Set(normal.series.keys()), judge: new OfflineJudge(), data: normal })).graph;
    synthMs.push(performance.now() - t0);
  }
  const pcMs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    learnGraph('pc', normal, [...normal.series.keys()].filter((k) => k.endsWith(':latency')));
    pcMs.push(performance.now() - t0);
  }
  const lat = subgraphByMetric(graph!, 'latency');
  const issue = s.issues.find((x) => x.targetMetric === 'latency')!;
  const rankMs: Record<string, number> = {};
  for (const method of rankMethods) {
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      rankCauses({ incidentId: 'b', graph: lat, target: 'PetSite:latency', telemetry: { normal, failure: issue.failure }, startRow: startRowFor(issue.failure, issue.targetTimestampMs), method });
      times.push(performance.now() - t0);
    }
    rankMs[method] = median(times);
  }
  console.log(`offline synthesis with data validation (172 nodes): median ${median(synthMs).toFixed(0)} ms over 3`);
  console.log(`PC on ${[...normal.series.keys()].filter((k) => k.endsWith(':latency')).length} latency series × ${normal.timestamps.length} rows: median ${median(pcMs).toFixed(0)} ms over 3`);
  for (const [m, v] of Object.entries(rankMs)) console.log(`rank one incident (${m}): median ${v.toFixed(1)} ms over 10`);
  console.log(`JSON: ${JSON.stringify({ bench: 'rca', synthesisMs: median(synthMs), pcMs: median(pcMs), rankMs })}`);
}
