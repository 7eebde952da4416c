/**
 * Random-walk ranking (MicroCause/CloudRanger style): a walker starts at the target and moves
 * toward causes, preferring more anomalous parents; it may step back toward effects (ρ) or stay
 * where no parent is more anomalous than the current node. The stationary visit probability,
 * computed exactly by power iteration (so results are deterministic), ranks the candidates.
 */
import type { Frame } from '../frame.ts';
import type { GraphIndex } from '../../graph/index.ts';
import { ancestors, causalPath } from './scores.ts';
import type { Candidate } from './traversal.ts';

export function randomWalkRank(
  idx: GraphIndex,
  target: string,
  at: Map<string, number>,
  _normal: Frame,
  _failure: Frame,
  _row: number,
  nodeThreshold: number,
  rho = 0.2,
  restart = 0.1,
): Candidate[] {
  const nodes = [target, ...[...ancestors(idx, target)].sort()];
  const pos = new Map(nodes.map((n, i) => [n, i]));
  const a = (id: string) => Math.min(at.get(id) ?? 0, 1000) / 1000 + 1e-6;
  const trans: { to: number; w: number }[][] = nodes.map((u) => {
    const out: { to: number; w: number }[] = [];
    for (const p of idx.parents.get(u) ?? []) if (pos.has(p)) out.push({ to: pos.get(p)!, w: a(p) });
    for (const c of idx.children.get(u) ?? []) if (pos.has(c)) out.push({ to: pos.get(c)!, w: rho * a(c) });
    const bestParent = Math.max(0, ...(idx.parents.get(u) ?? []).filter((p) => pos.has(p)).map(a));
    out.push({ to: pos.get(u)!, w: Math.max(0, a(u) - bestParent) + 1e-9 });
    const total = out.reduce((s, e) => s + e.w, 0);
    return out.map((e) => ({ to: e.to, w: e.w / total }));
  });
  let pr: number[] = nodes.map((_, i) => (i === 0 ? 1 : 0));
  for (let it = 0; it < 200; it++) {
    const next = nodes.map((_, i) => (i === 0 ? restart : 0));
    pr.forEach((mass, u) => {
      for (const e of trans[u]!) next[e.to]! += (1 - restart) * mass * e.w;
    });
    const delta = next.reduce((s, v, i) => s + Math.abs(v - pr[i]!), 0);
    pr = next;
    if (delta < 1e-12) break;
  }
  const anomalous = (id: string) => id === target || (at.get(id) ?? 0) >= nodeThreshold;
  return nodes
    .map((id, i) => ({ id, p: pr[i]! }))
    .filter((x) => anomalous(x.id))
    .map((x) => ({ node: x.id, score: x.p, path: causalPath(idx, x.id, target, anomalous), why: `visit probability ${x.p.toFixed(3)} of a walk toward anomalous causes` }))
    .sort((x, y) => y.score - x.score || x.node.localeCompare(y.node));
}
