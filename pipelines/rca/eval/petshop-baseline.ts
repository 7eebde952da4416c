/**
 * Re-implementation of the PetShop paper's anomaly-traversal baseline (the dataset's
 * `baseline_anomaly_traversal.py` with its default MAD detector), to compare like for like on
 * the data available here. Anomaly score |x − median| / MAD fitted on normal data, threshold 5
 * (a series with zero spread: |x − mean| > 0; MAD 0 with spread: any deviation is infinite);
 * analysed row: the third of the window, or the first later row where the target is anomalous;
 * root causes: anomalous nodes without an anomalous parent that reach the target through
 * anomalous nodes only, scored by the best sum of anomaly scores along such a path.
 */
import type { Frame } from '../frame.ts';
import type { CausalGraphRecord } from '../../graph/index.ts';
import { indexGraph } from '../../graph/index.ts';
import { mad, mean, median, std } from '../stats.ts';

interface Scorer {
  score(x: number): number;
  threshold: number;
}

function fit(values: readonly number[]): Scorer | null {
  const xs = values.filter((v) => Number.isFinite(v));
  if (xs.length < 10) return null;
  if (std(xs) === 0) {
    const m = mean(xs);
    return { score: (x) => Math.abs(x - m), threshold: 0 };
  }
  const med = median(xs);
  const d = mad(xs);
  return { score: (x) => (d === 0 ? (x === med ? 0 : Infinity) : Math.abs(x - med) / d), threshold: 5 };
}

export function baselineRank(graph: CausalGraphRecord, target: string, normal: Frame, failure: Frame): { node: string; score: number }[] {
  const scorers = new Map<string, Scorer>();
  for (const n of graph.nodes) {
    const s = fit(normal.series.get(n.id) ?? []);
    if (s) scorers.set(n.id, s);
  }
  const anomalousAt = (id: string, r: number) => {
    const s = scorers.get(id);
    const v = failure.series.get(id)?.[r];
    if (!s || v === undefined || !Number.isFinite(v)) return null;
    const sc = s.score(v);
    return sc > s.threshold ? sc : null;
  };
  let row = 2;
  for (let r = 2; r < failure.timestamps.length; r++) {
    if (anomalousAt(target, r) !== null) {
      row = r;
      break;
    }
  }
  if (anomalousAt(target, row) === null) return [];
  const scores = new Map<string, number>();
  for (const id of scorers.keys()) {
    const s = anomalousAt(id, row);
    if (s !== null) scores.set(id, s);
  }
  const idx = indexGraph(graph);
  const roots = [...scores.keys()].filter((id) => !(idx.parents.get(id) ?? []).some((p) => scores.has(p)));
  const out: { node: string; score: number }[] = [];
  for (const root of roots) {
    // Best path sum over simple paths root → target through anomalous nodes only.
    let best = -Infinity;
    const onPath = new Set<string>([root]);
    const dfs = (cur: string, sum: number) => {
      if (cur === target) {
        best = Math.max(best, sum);
        return;
      }
      for (const c of idx.children.get(cur) ?? []) {
        if (onPath.has(c) || !scores.has(c)) continue;
        onPath.add(c);
        dfs(c, sum + scores.get(c)!);
        onPath.delete(c);
      }
    };
    dfs(root, scores.get(root)!);
    if (best > -Infinity) out.push({ node: root, score: best });
  }
  return out.sort((a, b) => b.score - a.score || a.node.localeCompare(b.node));
}
