/**
 * Drives the PetShop evaluation over a folder in the PetShop layout: loads scenarios, builds the
 * requested graphs (dataset truth, PC on no-issue data, offline Atlas synthesis from the catalog
 * and the same data) and runs the protocol of petshop-eval.ts for each.
 */
import { join } from 'node:path';
import type { Frame } from '../frame.ts';
import { subgraphByMetric, type CausalGraphRecord } from '../../graph/index.ts';
import { edgeAgreement, type EdgeAgreement } from './edges.ts';
import { choose, describeConfig, pool, standingDefault, type TuneConfig, type TuneScore } from './tune.ts';
import { loadCatalogDir } from '../io.ts';
import { learnGraph } from '../learn.ts';
import type { RankOptions } from '../rank/scores.ts';
import { OfflineJudge } from '../synth/offline-judge.ts';
import { synthesizeGraph } from '../synth/synthesize.ts';
import { defaultDataValidationOptions } from '../synth/validate-data.ts';
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
  /** Also measure each graph's component edges against the scenario's call graph (edges.ts). */
  edges?: boolean;
  /** synth: add PC-oriented edges between components the catalog does not link (default: validate-data.ts's). */
  dataEdges?: boolean;
}

export interface EdgeRow extends EdgeAgreement {
  scenario: string;
  graph: GraphKind;
  /** The metric's subgraph, or `all` (synth: every metric, cross-metric edges included). */
  metric: string;
}

/** Runs the tuning grid on one split (tune.ts's protocol); graphs are built once and shared. */
export async function runTune(o: Omit<RunEvalOptions, 'methods' | 'rank'> & { grid: TuneConfig[]; minSpecificity: number; alpha?: number }): Promise<{ scores: TuneScore[]; chosen: TuneScore | null }> {
  const memo = new Map<string, Promise<CausalGraphRecord>>();
  const scores: TuneScore[] = [];
  for (const [i, config] of o.grid.entries()) {
    const { rows, details } = await runPetshopEval({ ...o, methods: [config.method], rank: config.rank, ...(config.dataEdges === undefined ? {} : { dataEdges: config.dataEdges }), progress: () => {}, graphMemo: memo });
    // One order for every configuration (one graph kind and one method per run): scenario, issue, symptom metric.
    const key = (d: { scenario: string; issue: string; metric: string }) => `${d.scenario}\u0000${d.issue}\u0000${d.metric}`;
    const hits = [...details].sort((a, b) => key(a).localeCompare(key(b))).map((d) => d.top1);
    const s = { ...pool(config, rows), hits };
    scores.push(s);
    o.progress?.(`[${i + 1}/${o.grid.length}] ${describeConfig(config)}: top1 ${s.top1.toFixed(3)} top3 ${s.top3.toFixed(3)} specificity ${s.specificity === null ? 'n/a' : s.specificity.toFixed(3)} (${s.issues} issues)`);
  }
  return { scores, chosen: choose(scores, o.minSpecificity, standingDefault, o.alpha) };
}

export async function runPetshopEval(o: RunEvalOptions & { graphMemo?: Map<string, Promise<CausalGraphRecord>> }): Promise<{ rows: EvalRow[]; details: IssueResult[]; edges: EdgeRow[] }> {
  const progress = o.progress ?? (() => {});
  const edges: EdgeRow[] = [];
  const memo = o.graphMemo ?? new Map<string, Promise<CausalGraphRecord>>();
  const memoized = (key: string, make: GraphProvider): GraphProvider => (metric, nf) => {
    const k = `${key}|${metric}|${nf.timestamps.length}|${nf.timestamps[0] ?? ''}`;
    if (!memo.has(k)) memo.set(k, Promise.resolve(make(metric, nf)));
    return memo.get(k)!;
  };
  const names = listScenarios(o.dataset);
  const scenarios = names.map((n) => {
    progress(`loading ${n}`);
    return loadScenario(join(o.dataset, n), o.split);
  });
  const withNormal = scenarios.filter((s) => s.normal);
  const catalog = o.graphs.includes('synth') ? loadCatalogDir(o.catalogDir) : null;
  const dataEdges = o.dataEdges ?? defaultDataValidationOptions.addDataEdges !== 'none';
  const synth = (name: string, nf: Frame) => synthesizeGraph({ name, catalog: catalog!, observed: new Set(nf.series.keys()), judge: new OfflineJudge(), data: nf, dataValidation: { addDataEdges: dataEdges ? 'oriented' : 'none' } });
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
      const provider: GraphProvider = memoized(`${s.name}|${kind}${kind === 'synth' ? `|dataEdges=${dataEdges}` : ''}`,
        kind === 'truth'
          ? (metric) => truthGraph(s.callGraph, metric)
          : kind === 'data'
            ? (metric, nf) => learnGraph(`${s.name}-pc-${metric}`, nf, [...nf.series.keys()].filter((k) => k.endsWith(`:${metric}`))).graph
            : async (metric, nf) => {
                const { graph } = await synth(`${s.name}-synth`, nf);
                return subgraphByMetric(graph, metric);
              });
      const r = await evaluateScenario(s, normal, normalFrom, kind, provider, { ...defaultEvalOptions, methods: o.methods, rank: o.rank, specificityWindow: o.specificityWindow }, s.normal !== null, progress);
      rows.push(...r.rows);
      details.push(...r.details.map((d) => ({ ...d, graph: kind })));
      if (o.edges) {
        for (const metric of [...new Set(s.issues.map((i) => i.targetMetric))].sort()) edges.push({ scenario: s.name, graph: kind, metric, ...edgeAgreement(await provider(metric, normal), s.callGraph) });
        if (kind === 'synth') {
          const { graph } = await synth(`${s.name}-synth`, normal);
          edges.push({ scenario: s.name, graph: kind, metric: 'all', ...edgeAgreement(graph, s.callGraph) });
        }
      }
    }
  }
  return { rows, details, edges };
}
