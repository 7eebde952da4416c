/**
 * Distribution-change attribution (Atlas's localization, in its simplest form): a node is a root
 * cause when its own mechanism changed, i.e. its value is not explained by its parents. Each node
 * gets a linear model of itself on its causal parents fitted on normal data; on the failure row the
 * residual, in units of the normal residuals' robust scale and counted in the metric's bad
 * direction, is the node's attribution. A node whose anomaly its parents explain scores low; the
 * node where the change entered scores high.
 */
import type { Frame } from '../frame.ts';
import type { GraphIndex } from '../../graph/index.ts';
import { splitNodeId } from '../../graph/index.ts';
import { mad, median, ols, std } from '../stats.ts';
import { metricDirection } from './anomaly.ts';
import { ancestors, causalPath } from './scores.ts';
import type { Candidate } from './traversal.ts';

export interface Mechanism {
  parents: string[];
  coef: number[];
  /** Robust scale of the normal residuals. */
  scale: number;
  /** Medians used to fill missing values of each parent. */
  fill: number[];
  fillSelf: number;
}

function med(xs: readonly number[]): number {
  const f = xs.filter((x) => Number.isFinite(x));
  return f.length === 0 ? 0 : median(f);
}

/**
 * Fits node ~ parents on normal data. A parent of the same metric gets a prior slope of 1 (a
 * callee's latency adds to its caller's, its failures surface as the caller's): normal data often
 * cannot identify that slope (an availability that never left 100%), and without the prior the
 * child of a failing component would keep the whole change as its own.
 */
export function fitMechanism(normal: Frame, node: string, parents: readonly string[]): Mechanism | null {
  const y = normal.series.get(node);
  if (!y) return null;
  const ps = parents.filter((p) => normal.series.has(p));
  const fill = ps.map((p) => med(normal.series.get(p)!));
  const fillSelf = med(y);
  const rows: number[] = [];
  for (let t = 0; t < y.length; t++) if (Number.isFinite(y[t]!)) rows.push(t);
  if (rows.length < Math.max(10, ps.length + 5)) return null;
  const ys = rows.map((t) => y[t]!);
  const xs = ps.map((p, k) => rows.map((t) => {
    const v = normal.series.get(p)![t]!;
    return Number.isFinite(v) ? v : fill[k]!;
  }));
  const metric = splitNodeId(node).metric;
  const prior = ps.map((p) => (splitNodeId(p).metric === metric ? 1 : 0));
  // Per-parent penalty: 1% of the child's variance (normal data is noisy and dilutes slopes toward 0,
  // the prior pulls pass-through edges back toward 1), and never zero, so a parent that never
  // varied keeps its prior instead of an arbitrary slope.
  const vy = std(ys) ** 2;
  const ridge = xs.map((x) => Math.max(1e-2 * vy, 1e-3 * std(x) ** 2, (Math.max(Math.abs(median(x)), 1e-9) * 1e-3) ** 2));
  const { coef } = ols(ys, xs, ridge, prior);
  const resid = ys.map((v, i) => v - coef.reduce((s, c, k) => (k === 0 ? c : s + c * xs[k - 1]![i]!), 0));
  // A node that never varied (errors flat at 0, `up` flat at 1) has no residual spread at all:
  // scale its change against a thousandth of its level (at least of 1), as the marginal score
  // does, instead of a near-zero spread that turns any change into the 1e6 cap.
  const flatFloor = vy === 0 ? Math.max(Math.abs(fillSelf), 1) * 1e-3 : 0;
  const scale = Math.max(1.4826 * mad(resid), std(resid) * 0.1, Math.abs(fillSelf) * 1e-3, flatFloor, 1e-12);
  return { parents: ps, coef, scale, fill, fillSelf };
}

export function residualScore(m: Mechanism, failure: Frame, node: string, row: number): number {
  const y = failure.series.get(node)?.[row];
  if (y === undefined || !Number.isFinite(y)) return 0;
  let pred = m.coef[0]!;
  m.parents.forEach((p, k) => {
    const v = failure.series.get(p)?.[row];
    pred += m.coef[k + 1]! * (v !== undefined && Number.isFinite(v) ? v : m.fill[k]!);
  });
  const z = (y - pred) / m.scale;
  const dir = metricDirection(splitNodeId(node).metric);
  return Math.min(1e6, dir === 'up' ? Math.max(0, z) : dir === 'down' ? Math.max(0, -z) : Math.abs(z));
}

/**
 * Ranks the target and its ancestors that are themselves anomalous by how much of their value
 * their parents leave unexplained.
 */
export function attributionRank(
  idx: GraphIndex,
  target: string,
  normal: Frame,
  failure: Frame,
  row: number,
  at: Map<string, number>,
  nodeThreshold: number,
): Candidate[] {
  const anomalous = (id: string) => id === target || (at.get(id) ?? 0) >= nodeThreshold;
  const cands = [target, ...ancestors(idx, target)].filter(anomalous);
  // A parent whose normal values sit at one level (MAD 0, e.g. availability at 100%) leaves the
  // slope to its child unidentified: when such a parent is anomalous, the child's residual may be
  // the parent's change passed on, so the child ranks below every unambiguous candidate.
  const flat = (p: string) => {
    const v = (normal.series.get(p) ?? []).filter((x) => Number.isFinite(x));
    return v.length > 0 && mad(v) === 0;
  };
  const clear: Candidate[] = [];
  const ambiguous: Candidate[] = [];
  for (const id of cands) {
    const mech = fitMechanism(normal, id, idx.parents.get(id) ?? []);
    const own = at.get(id) ?? 0;
    const score = mech ? residualScore(mech, failure, id, row) : own;
    const masking = (idx.parents.get(id) ?? []).filter((p) => p !== target && anomalous(p) && flat(p));
    const base = mech
      ? `residual ${score.toFixed(1)} robust SDs beyond what its parents (${mech.parents.length}) predict; marginal score ${own.toFixed(1)}`
      : `no mechanism could be fitted (too little normal data); marginal score ${own.toFixed(1)}`;
    const c = { node: id, score, path: causalPath(idx, id, target, anomalous), why: base };
    if (masking.length > 0) ambiguous.push({ ...c, why: `${base}; ambiguous: anomalous parent(s) ${masking.join(', ')} never varied in normal data` });
    else clear.push(c);
  }
  const byScore = (a: Candidate, b: Candidate) => b.score - a.score || a.node.localeCompare(b.node);
  clear.sort(byScore);
  ambiguous.sort(byScore);
  const floor = clear.length > 0 ? clear[clear.length - 1]!.score : Infinity;
  return [...clear, ...ambiguous.map((c) => ({ ...c, score: Math.min(c.score, floor * 0.999) }))];
}
