/**
 * Unobserved nodes (typical metrics no telemetry records, e.g. a table's utilization) are kept
 * out of the paths ranking walks: every A → U → B becomes A → B, and U keeps only its outgoing
 * edges so it stays in the graph as an unmeasured suspect upstream of what it affects.
 */
import type { GraphEdge, GraphNode } from '../../graph/index.ts';

export function collapseUnobserved(nodes: GraphNode[], edges: GraphEdge[]): { edges: GraphEdge[]; collapsed: number; suspects: string[] } {
  let out = [...edges];
  const unobserved = nodes.filter((n) => !n.observed).map((n) => n.id).sort();
  let collapsed = 0;
  const key = (e: { from: string; to: string }) => `${e.from}\u0000${e.to}`;
  for (const u of unobserved) {
    const ins = out.filter((e) => e.to === u);
    const outs = out.filter((e) => e.from === u);
    const have = new Set(out.map(key));
    for (const i of ins) {
      for (const o of outs) {
        if (i.from === o.to || have.has(key({ from: i.from, to: o.to }))) continue;
        out.push({
          from: i.from,
          to: o.to,
          provenance: i.provenance === o.provenance ? i.provenance : 'BOTH',
          confidence: Math.min(i.confidence, o.confidence),
          reason: `via unobserved ${u}: ${i.reason}; then ${o.reason}`,
        });
        have.add(key({ from: i.from, to: o.to }));
        collapsed++;
      }
    }
    out = out.filter((e) => e.to !== u);
  }
  const suspects = unobserved.filter((u) => out.some((e) => e.from === u));
  return { edges: out, collapsed, suspects };
}
