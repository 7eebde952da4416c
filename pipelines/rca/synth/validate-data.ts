/**
 * Data-driven validation of a docs-proposed graph on no-incident telemetry (Atlas's optional
 * validation step, with PC's conditional-independence tests standing in for Markov-blanket
 * discovery). For each proposed edge A → B between observed nodes, partial correlations of A and B
 * given subsets of B's other proposed parents are tested (Fisher z): if some set makes them
 * independent the data contradicts a *direct* link and the edge is flagged (confidence halved) or,
 * with `prune`, removed. Edges the data supports become provenance BOTH. PC runs per metric over
 * the observed nodes; its oriented edges between components the docs do not connect are proposed
 * as DATA edges when strong enough.
 */
import type { Frame } from '../frame.ts';
import type { CausalGraphRecord, GraphEdge } from '../../graph/index.ts';
import { indexGraph, splitNodeId } from '../../graph/index.ts';
import { dataMatrix, learnGraph } from '../learn.ts';
import { correlationMatrix, fisherZPValue, partialCorrelation } from '../stats.ts';

export interface DataValidationOptions {
  alpha: number;
  maxCondSize: number;
  /** Remove contradicted edges instead of flagging them. */
  prune: boolean;
  /** Propose PC-oriented edges the docs lack ('none' to never add). */
  addDataEdges: 'none' | 'oriented';
  /** Smallest |partial correlation| for a proposed data edge. */
  minStrength: number;
}

export const defaultDataValidationOptions: DataValidationOptions = { alpha: 0.01, maxCondSize: 2, prune: false, addDataEdges: 'oriented', minStrength: 0.3 };

export interface DataValidationReport {
  tested: number;
  confirmed: number;
  flagged: string[];
  pruned: string[];
  added: string[];
  untestable: number;
  pcTests: number;
}

function* subsets(items: readonly number[], size: number, start = 0, acc: number[] = []): Generator<number[]> {
  if (acc.length === size) {
    yield [...acc];
    return;
  }
  for (let i = start; i <= items.length - (size - acc.length); i++) {
    acc.push(items[i]!);
    yield* subsets(items, size, i + 1, acc);
    acc.pop();
  }
}

export function validateWithData(g: CausalGraphRecord, normal: Frame, opts: DataValidationOptions = defaultDataValidationOptions): { graph: CausalGraphRecord; report: DataValidationReport } {
  const observedIds = g.nodes.filter((n) => n.observed && normal.series.has(n.id)).map((n) => n.id);
  const dm = dataMatrix(normal, observedIds);
  const col = new Map(dm.ids.map((id, i) => [id, i]));
  const corr = correlationMatrix(dm.rows);
  const n = dm.rows.length;
  const idx = indexGraph(g);
  const report: DataValidationReport = { tested: 0, confirmed: 0, flagged: [], pruned: [], added: [], untestable: 0, pcTests: 0 };
  const edges: GraphEdge[] = [];
  for (const e of g.edges) {
    const a = col.get(e.from);
    const b = col.get(e.to);
    if (a === undefined || b === undefined) {
      report.untestable++;
      edges.push(e);
      continue;
    }
    report.tested++;
    const others = (idx.parents.get(e.to) ?? []).filter((p) => p !== e.from && col.has(p)).map((p) => col.get(p)!);
    let sep: number[] | null = null;
    let minR = Infinity;
    outer: for (let l = 0; l <= Math.min(opts.maxCondSize, others.length); l++) {
      let tried = 0;
      for (const s of subsets(others, l)) {
        if (++tried > 50) break;
        const r = partialCorrelation(corr, a, b, s);
        minR = Math.min(minR, Math.abs(r));
        if (fisherZPValue(r, n, s.length) > opts.alpha) {
          sep = s;
          break outer;
        }
      }
    }
    const label = `${e.from} -> ${e.to}`;
    if (sep) {
      const given = sep.length ? ` given ${sep.map((i) => dm.ids[i]).join(', ')}` : '';
      if (opts.prune) {
        report.pruned.push(label);
        continue;
      }
      report.flagged.push(label);
      edges.push({ ...e, confidence: Math.round(e.confidence * 500) / 1000, reason: `${e.reason}; data: no dependence found${given} (flagged)` });
    } else {
      report.confirmed++;
      edges.push({
        ...e,
        provenance: e.provenance === 'DATA' ? 'DATA' : 'BOTH',
        confidence: Math.max(e.confidence, 0.9),
        reason: `${e.reason}; data: dependent given every tested set (min |partial r| ${minR.toFixed(2)})`,
      });
    }
  }
  if (opts.addDataEdges !== 'none') {
    const linked = new Set<string>();
    for (const e of g.edges) {
      const a = splitNodeId(e.from).component;
      const b = splitNodeId(e.to).component;
      linked.add(`${a}\u0000${b}`);
      linked.add(`${b}\u0000${a}`);
    }
    const byMetric = new Map<string, string[]>();
    for (const id of dm.ids) {
      const m = splitNodeId(id).metric;
      byMetric.set(m, [...(byMetric.get(m) ?? []), id]);
    }
    const have = new Set(edges.map((e) => `${e.from}\u0000${e.to}`));
    for (const [metric, ids] of [...byMetric].sort()) {
      if (ids.length < 2) continue;
      const learned = learnGraph(`${g.name}-${metric}`, normal, ids, { alpha: opts.alpha, maxCondSize: opts.maxCondSize });
      report.pcTests += learned.tests;
      for (const e of learned.graph.edges) {
        if (e.confidence < 1 * Math.min(1, 0.5 + opts.minStrength)) continue; // undirected or weak
        const ca = splitNodeId(e.from).component;
        const cb = splitNodeId(e.to).component;
        if (ca === cb || linked.has(`${ca}\u0000${cb}`) || have.has(`${e.from}\u0000${e.to}`) || have.has(`${e.to}\u0000${e.from}`)) continue;
        edges.push({ ...e, confidence: Math.round(e.confidence * 0.5 * 1000) / 1000, reason: `proposed by data: ${e.reason}` });
        have.add(`${e.from}\u0000${e.to}`);
        report.added.push(`${e.from} -> ${e.to}`);
      }
    }
  }
  return { graph: { ...g, edges }, report };
}
