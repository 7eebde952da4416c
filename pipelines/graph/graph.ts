/**
 * The causal graph as the rest of the stage sees it: the `CausalGraphRecord` shape of
 * schemas/causal-graph.avsc plus helpers (indexes, content hash, node ids). Pure.
 */
import { createHash } from 'node:crypto';
import type { CausalGraphRecord, GraphEdge, GraphNode } from '../core/records.ts';

export type { CausalGraphRecord, GraphEdge, GraphNode };
export type Provenance = GraphEdge['provenance'];

export function nodeId(component: string, metric: string): string {
  return `${component}:${metric}`;
}

/** Splits `component:metric` at the last colon: component names may hold colons (`AWS::S3`). */
export function splitNodeId(id: string): { component: string; metric: string } {
  const i = id.lastIndexOf(':');
  if (i <= 0 || i === id.length - 1) return { component: id, metric: '' };
  return { component: id.slice(0, i), metric: id.slice(i + 1) };
}

/**
 * Version = hash of the sorted nodes and edges (not name, time or source), so the same graph
 * synthesized twice gets the same version and a replayed compacted topic is idempotent.
 */
export function graphVersion(g: Pick<CausalGraphRecord, 'nodes' | 'edges'>): string {
  const nodes = [...g.nodes].map((n) => [n.id, n.component, n.metric, n.observed]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  const edges = [...g.edges]
    .map((e) => [e.from, e.to, e.provenance, Math.round(e.confidence * 1000) / 1000])
    .sort((a, b) => `${a[0]}\u0000${a[1]}`.localeCompare(`${b[0]}\u0000${b[1]}`));
  return createHash('sha256').update(JSON.stringify({ nodes, edges })).digest('hex').slice(0, 16);
}

export function withVersion(g: Omit<CausalGraphRecord, 'version'> & { version?: string }): CausalGraphRecord {
  return { ...g, version: graphVersion(g) };
}

export interface GraphIndex {
  nodes: Map<string, GraphNode>;
  parents: Map<string, string[]>;
  children: Map<string, string[]>;
  edge: Map<string, GraphEdge>;
}

export function indexGraph(g: Pick<CausalGraphRecord, 'nodes' | 'edges'>): GraphIndex {
  const nodes = new Map(g.nodes.map((n) => [n.id, n]));
  const parents = new Map<string, string[]>();
  const children = new Map<string, string[]>();
  const edge = new Map<string, GraphEdge>();
  for (const n of g.nodes) {
    parents.set(n.id, []);
    children.set(n.id, []);
  }
  for (const e of g.edges) {
    parents.get(e.to)?.push(e.from);
    children.get(e.from)?.push(e.to);
    edge.set(`${e.from}\u0000${e.to}`, e);
  }
  for (const l of [...parents.values(), ...children.values()]) l.sort();
  return { nodes, parents, children, edge };
}

/** Nodes in an order where every edge goes forward; null when the graph has a cycle. */
export function topologicalOrder(g: Pick<CausalGraphRecord, 'nodes' | 'edges'>): string[] | null {
  const idx = indexGraph(g);
  const indeg = new Map<string, number>();
  for (const n of g.nodes) indeg.set(n.id, idx.parents.get(n.id)!.length);
  const ready = [...indeg].filter(([, d]) => d === 0).map(([id]) => id).sort();
  const out: string[] = [];
  while (ready.length > 0) {
    const id = ready.shift()!;
    out.push(id);
    for (const c of idx.children.get(id)!) {
      const d = indeg.get(c)! - 1;
      indeg.set(c, d);
      if (d === 0) {
        ready.push(c);
        ready.sort();
      }
    }
  }
  return out.length === g.nodes.length ? out : null;
}

/** Restricts a graph to nodes of one metric (plus edges among them): PetShop ranks per metric. */
export function subgraphByMetric(g: CausalGraphRecord, metric: string): CausalGraphRecord {
  const keep = new Set(g.nodes.filter((n) => n.metric === metric).map((n) => n.id));
  return {
    ...g,
    nodes: g.nodes.filter((n) => keep.has(n.id)),
    edges: g.edges.filter((e) => keep.has(e.from) && keep.has(e.to)),
  };
}
