/**
 * Drives the PetShop evaluation over a folder in the PetShop layout: loads scenarios, builds the
 * requested graphs (dataset truth, PC on no-issue data, offline Atlas synthesis from the catalog
 * and the same data) and runs the protocol of petshop-eval.ts for each.
 */
import { join } from 'node:path';
import type { Frame } from '../frame.ts';
import { subgraphByMetric } from '../../graph/index.ts';
import { loadCatalogDir } from '../io.ts';
import { learnGraph } from '../learn.ts';
import type { RankOptions } from '../rank/scores.ts';
import { OfflineJudge } from '../synth/offline-judge.ts';
import { synthesizeGraph } from '../synth/synthesize.ts';
import { listScenarios, loadScenario } from './petshop-data.ts';
import { defaultEvalOptions, evaluateScenario, poolFrames, truthGraph, type EvalMethod, type EvalRow, type GraphKind, type GraphProvider, type IssueResult } from './petshop-eval.ts';

export interface RunEvalOptions {
  dataset: string;
  graphs: GraphKind[];
  methods: EvalMethod[];
  catalogDir: string;
  split: string;
  specificityWindow: number;
  rank?: Partial<RankOptions>;
  progress?: (line: string) => void;
}

export async function runPetshopEval(o: RunEvalOptions): Promise<{ rows: EvalRow[]; details: IssueResult[] }> {
  const progress = o.progress ?? (() => {});
  const names = listScenarios(o.dataset);
  const scenarios = names.map((n) => {
    progress(`loading ${n}`);
    return loadScenario(join(o.dataset, n), o.split);
  });
  const withNormal = scenarios.filter((s) => s.normal);
  const catalog = o.graphs.includes('synth') ? loadCatalogDir(o.catalogDir) : null;
  const rows: EvalRow[] = [];
  const details: IssueResult[] = [];
  for (const s of scenarios) {
    if (s.issues.length === 0) {
      progress(`${s.name}: no issues in split ${o.split}, skipped`);
      continue;
    }
    // Scenarios shipped without no-issue data borrow the others' (pooled); specificity is then n/a.
    const normal: Frame | null = s.normal ?? (withNormal.length > 0 ? poolFrames(withNormal.map((x) => x.normal!)) : null);
    if (!normal) {
      progress(`${s.name}: no no-issue data here or in any other scenario, skipped`);
      continue;
    }
    const normalFrom = s.normal ? 'own' : `pooled(${withNormal.map((x) => x.name).join('+')})`;
    for (const kind of o.graphs) {
      const provider: GraphProvider =
        kind === 'truth'
          ? (metric) => truthGraph(s.callGraph, metric)
          : kind === 'data'
            ? (metric, nf) => learnGraph(`${s.name}-pc-${metric}`, nf, [...nf.series.keys()].filter((k) => k.endsWith(`:${metric}`))).graph
            : async (metric, nf) => {
                const { graph } = await synthesizeGraph({ name: `${s.name}-synth`, catalog: catalog!, observed: new Set(nf.series.keys()), judge: new OfflineJudge(), data: nf });
                return subgraphByMetric(graph, metric);
              };
      const r = await evaluateScenario(s, normal, normalFrom, kind, provider, { ...defaultEvalOptions, methods: o.methods, rank: o.rank, specificityWindow: o.specificityWindow }, s.normal !== null, progress);
      rows.push(...r.rows);
      details.push(...r.details.map((d) => ({ ...d, graph: kind })));
    }
  }
  return { rows, details };
}
