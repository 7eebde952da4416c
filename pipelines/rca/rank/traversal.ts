/**
 * Anomaly traversal (the PetShop baseline's idea, after CauseInfer): start at the anomalous target,
 * walk to anomalous ancestors along the causal graph, and call the ones with no anomalous parent
 * root causes, ranked by their own anomaly score. Anomalous ancestors that do have an anomalous
 * parent follow, below every root, so top-3 still sees them.
 */
import type { GraphIndex } from '../../graph/index.ts';
import { causalPath } from './scores.ts';

export interface Candidate {
  node: string;
  score: number;
  path: string[];
  /** Why it ranks where it does, in words. */
  why: string;
}

export function traversalRank(idx: GraphIndex, target: string, at: Map<string, number>, nodeThreshold: number): Candidate[] {
  const anomalous = (id: string) => id === target || (at.get(id) ?? 0) >= nodeThreshold;
  const reached = new Set<string>([target]);
  const stack = [target];
  while (stack.length > 0) {
    const cur = stack.pop()!;
    for (const p of idx.parents.get(cur) ?? []) {
      if (reached.has(p) || !anomalous(p)) continue;
      reached.add(p);
      stack.push(p);
    }
  }
  const roots: Candidate[] = [];
  const inner: Candidate[] = [];
  for (const id of reached) {
    const own = at.get(id) ?? 0;
    const anomalousParents = (idx.parents.get(id) ?? []).filter((p) => p !== target && anomalous(p));
    const path = causalPath(idx, id, target, anomalous);
    if (anomalousParents.length === 0) roots.push({ node: id, score: own, path, why: 'anomalous, no anomalous cause upstream' });
    else inner.push({ node: id, score: own, path, why: `anomalous, but so are its causes ${anomalousParents.join(', ')}` });
  }
  const byScore = (a: Candidate, b: Candidate) => b.score - a.score || a.node.localeCompare(b.node);
  roots.sort(byScore);
  inner.sort(byScore);
  // Keep scores monotone with rank: an inner node never outscores the weakest root.
  const floor = roots.length > 0 ? roots[roots.length - 1]!.score : Infinity;
  return [...roots, ...inner.map((c) => ({ ...c, score: Math.min(c.score, floor * 0.999) }))];
}
