/**
 * A causal graph learned from data alone: PC over the series of one or more metrics on no-incident
 * telemetry. Columns with too little data or no variation are left out (PC cannot test them);
 * missing values are filled with the column median. Edges PC leaves unoriented (its Markov
 * equivalence class does not decide them) are kept in both directions at half confidence, and
 * validation's cycle breaking later picks one.
 */
import type { Frame } from './frame.ts';
import type { CausalGraphRecord, GraphEdge, GraphNode } from '../graph/index.ts';
import { splitNodeId, withVersion } from '../graph/index.ts';
import { pc, type PcOptions, defaultPcOptions } from './pc.ts';
import { median, std } from './stats.ts';

export interface DataMatrix {
  ids: string[];
  rows: number[][];
}

/** Complete matrix of usable columns: ≥ minCoverage finite values and non-zero variance. */
export function dataMatrix(frame: Frame, ids: readonly string[], minCoverage = 0.5): DataMatrix {
  const keep: string[] = [];
  const cols: number[][] = [];
  for (const id of ids) {
    const v = frame.series.get(id);
    if (!v || v.length === 0) continue;
    const f = v.filter((x) => Number.isFinite(x));
    if (f.length < minCoverage * v.length || f.length < 10 || std(f) === 0) continue;
    const m = median(f);
    keep.push(id);
    cols.push(v.map((x) => (Number.isFinite(x) ? x : m)));
  }
  const n = frame.timestamps.length;
  const rows = Array.from({ length: n }, (_, t) => cols.map((c) => c[t]!));
  return { ids: keep, rows };
}

export function learnGraph(name: string, frame: Frame, ids: readonly string[], opts: PcOptions = defaultPcOptions): { graph: CausalGraphRecord; tests: number; undirected: number } {
  const dm = dataMatrix(frame, ids);
  const nodes: GraphNode[] = ids.filter((id) => frame.series.has(id)).map((id) => ({ id, ...splitNodeId(id), observed: true }));
  if (dm.ids.length < 2) return { graph: withVersion({ name, nodes, edges: [], createdAtMs: 0, source: 'pc' }), tests: 0, undirected: 0 };
  const res = pc(dm.rows, opts);
  const edges: GraphEdge[] = [];
  let undirected = 0;
  const p = dm.ids.length;
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < p; j++) {
      if (i === j || !res.pattern[i]![j]) continue;
      const both = res.pattern[j]![i]!;
      if (both && i < j) undirected++;
      const r = res.strength.get(i < j ? `${i},${j}` : `${j},${i}`) ?? 0;
      edges.push({
        from: dm.ids[i]!,
        to: dm.ids[j]!,
        provenance: 'DATA',
        confidence: Math.round((both ? 0.5 : 1) * Math.min(1, 0.5 + r) * 1000) / 1000,
        reason: both ? `PC: dependent given every tested set (min |partial r| ${r.toFixed(2)}), direction undecided` : `PC: oriented by v-structure/Meek rules (min |partial r| ${r.toFixed(2)})`,
      });
    }
  }
  return { graph: withVersion({ name, nodes, edges, createdAtMs: 0, source: 'pc' }), tests: res.tests, undirected };
}
