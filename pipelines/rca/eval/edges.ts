/**
 * Atlas's promise, measured: how well a causal graph's component-level edges agree with a known
 * call graph (PetShop's graph.csv, the lab's topology). A call caller → callee is the causal edge
 * callee → caller (faults travel against the calls). Self-edges and edges between components the
 * truth does not know are left out; precision and recall are over directed component pairs, and
 * `skeleton` ignores direction.
 */
import { splitNodeId, type CausalGraphRecord, type CallGraph } from '../../graph/index.ts';

export interface EdgeAgreement {
  predicted: number;
  truth: number;
  hits: number;
  precision: number | null;
  recall: number | null;
  skeletonPrecision: number | null;
  skeletonRecall: number | null;
}

export function componentEdges(g: Pick<CausalGraphRecord, 'edges'>, known?: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  for (const e of g.edges) {
    const a = splitNodeId(e.from).component;
    const b = splitNodeId(e.to).component;
    if (a === b || (known && (!known.has(a) || !known.has(b)))) continue;
    out.add(`${a}\u0000${b}`);
  }
  return out;
}

export function edgeAgreement(g: Pick<CausalGraphRecord, 'edges'>, truth: CallGraph): EdgeAgreement {
  const known = new Set(truth.nodes);
  const pred = componentEdges(g, known);
  const gold = new Set(truth.calls.filter(([a, b]) => a !== b).map(([caller, callee]) => `${callee}\u0000${caller}`));
  const und = (s: Set<string>) => new Set([...s].map((k) => k.split('\u0000').sort().join('\u0000')));
  const [pu, gu] = [und(pred), und(gold)];
  const hits = [...pred].filter((k) => gold.has(k)).length;
  const uh = [...pu].filter((k) => gu.has(k)).length;
  const ratio = (a: number, b: number) => (b === 0 ? null : a / b);
  return { predicted: pred.size, truth: gold.size, hits, precision: ratio(hits, pred.size), recall: ratio(hits, gold.size), skeletonPrecision: ratio(uh, pu.size), skeletonRecall: ratio(uh, gu.size) };
}
