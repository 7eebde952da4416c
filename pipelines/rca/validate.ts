/**
 * Checks a proposed causal graph before it is used: shape, unknown nodes, dangling edges,
 * self-loops, duplicates, size limits and, where the ranking method needs a DAG, cycles (broken by
 * a greedy minimal edge cut that drops the least-confident edge of each cycle found). Every
 * problem is reported with a reason; repairable ones (cycles) are repaired and listed.
 */
import type { CausalGraphRecord, GraphEdge } from './graph.ts';
import { graphVersion, indexGraph } from './graph.ts';

export interface ValidateOptions {
  /** When given, every node id must be one of these (the metrics the telemetry has). */
  knownNodes?: ReadonlySet<string>;
  maxNodes: number;
  maxEdges: number;
  /** Break cycles (true) or reject cyclic graphs (false). */
  breakCycles: boolean;
}

export const defaultValidateOptions: ValidateOptions = { maxNodes: 5000, maxEdges: 50000, breakCycles: true };

export interface ValidationResult {
  ok: boolean;
  /** Problems that make the graph unusable. */
  errors: string[];
  /** Repairs made (edges removed to break cycles). */
  repairs: string[];
  /** The repaired graph when ok. */
  graph?: CausalGraphRecord;
}

const provenances = new Set(['DOCS', 'DATA', 'BOTH', 'FEEDBACK']);

/** Structural checks on untyped input (parsed JSON): returns errors naming the path. */
export function checkShape(x: unknown): string[] {
  const errs: string[] = [];
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return ['graph: expected a JSON object'];
  const g = x as Record<string, unknown>;
  if (typeof g.name !== 'string') errs.push('name: expected a string');
  if (!Array.isArray(g.nodes)) errs.push('nodes: expected an array');
  else
    g.nodes.forEach((n, i) => {
      if (typeof n !== 'object' || n === null) return void errs.push(`nodes[${i}]: expected an object`);
      const o = n as Record<string, unknown>;
      for (const k of ['id', 'component', 'metric']) if (typeof o[k] !== 'string' || o[k] === '') errs.push(`nodes[${i}].${k}: expected a non-empty string`);
      if (o.observed !== undefined && typeof o.observed !== 'boolean') errs.push(`nodes[${i}].observed: expected a boolean`);
    });
  if (!Array.isArray(g.edges)) errs.push('edges: expected an array');
  else
    g.edges.forEach((e, i) => {
      if (typeof e !== 'object' || e === null) return void errs.push(`edges[${i}]: expected an object`);
      const o = e as Record<string, unknown>;
      for (const k of ['from', 'to']) if (typeof o[k] !== 'string') errs.push(`edges[${i}].${k}: expected a string`);
      if (o.provenance !== undefined && !provenances.has(String(o.provenance))) errs.push(`edges[${i}].provenance: expected one of DOCS, DATA, BOTH, FEEDBACK`);
      if (o.confidence !== undefined && (typeof o.confidence !== 'number' || !(o.confidence >= 0 && o.confidence <= 1)))
        errs.push(`edges[${i}].confidence: expected a number in [0, 1]`);
    });
  return errs;
}

/** Fills optional fields of a shape-checked object. */
export function normalizeGraph(x: Record<string, unknown>): CausalGraphRecord {
  const nodes = (x.nodes as Record<string, unknown>[]).map((n) => ({
    id: String(n.id),
    component: String(n.component),
    metric: String(n.metric),
    observed: n.observed === undefined ? true : Boolean(n.observed),
  }));
  const edges = (x.edges as Record<string, unknown>[]).map((e) => ({
    from: String(e.from),
    to: String(e.to),
    provenance: (e.provenance ?? 'DOCS') as GraphEdge['provenance'],
    confidence: typeof e.confidence === 'number' ? e.confidence : 1,
    reason: typeof e.reason === 'string' ? e.reason : '',
  }));
  const g = {
    name: String(x.name),
    nodes,
    edges,
    createdAtMs: typeof x.createdAtMs === 'number' ? x.createdAtMs : 0,
    source: typeof x.source === 'string' ? x.source : 'file',
  };
  return { ...g, version: graphVersion(g) };
}

/** One cycle as a list of edges, or null. Deterministic: nodes and children visited in id order. */
export function findCycle(g: Pick<CausalGraphRecord, 'nodes' | 'edges'>): GraphEdge[] | null {
  const idx = indexGraph(g);
  const state = new Map<string, 0 | 1 | 2>();
  const stack: string[] = [];
  const ids = [...idx.nodes.keys()].sort();
  let found: string[] | null = null;
  const visit = (id: string): boolean => {
    state.set(id, 1);
    stack.push(id);
    for (const c of idx.children.get(id) ?? []) {
      const s = state.get(c) ?? 0;
      if (s === 1) {
        found = [...stack.slice(stack.indexOf(c)), c];
        return true;
      }
      if (s === 0 && visit(c)) return true;
    }
    stack.pop();
    state.set(id, 2);
    return false;
  };
  for (const id of ids) if ((state.get(id) ?? 0) === 0 && visit(id)) break;
  if (!found) return null;
  const path: string[] = found;
  const edges: GraphEdge[] = [];
  for (let i = 0; i + 1 < path.length; i++) edges.push(idx.edge.get(`${path[i]}\u0000${path[i + 1]}`)!);
  return edges;
}

/**
 * Greedy minimal edge cut: while a cycle exists, drop its weakest edge (lowest confidence; data-only
 * before docs-backed; then the one on most remaining cycles is approximated by id order for
 * determinism). Returns the acyclic edge list and what was removed.
 */
export function breakCycles(g: Pick<CausalGraphRecord, 'nodes' | 'edges'>): { edges: GraphEdge[]; removed: GraphEdge[] } {
  let edges = [...g.edges];
  const removed: GraphEdge[] = [];
  const rank = (e: GraphEdge) => (e.provenance === 'BOTH' ? 3 : e.provenance === 'DOCS' || e.provenance === 'FEEDBACK' ? 2 : 1);
  for (;;) {
    const cycle = findCycle({ nodes: g.nodes, edges });
    if (!cycle) break;
    const weakest = [...cycle].sort((a, b) => a.confidence - b.confidence || rank(a) - rank(b) || `${a.from}>${a.to}`.localeCompare(`${b.from}>${b.to}`))[0]!;
    removed.push(weakest);
    edges = edges.filter((e) => e !== weakest);
  }
  return { edges, removed };
}

export function validateGraph(g: CausalGraphRecord, opts: ValidateOptions = defaultValidateOptions): ValidationResult {
  const errors: string[] = [];
  const repairs: string[] = [];
  if (g.nodes.length === 0) errors.push('graph has no nodes');
  if (g.nodes.length > opts.maxNodes) errors.push(`graph has ${g.nodes.length} nodes, more than the limit ${opts.maxNodes}`);
  if (g.edges.length > opts.maxEdges) errors.push(`graph has ${g.edges.length} edges, more than the limit ${opts.maxEdges}`);
  const ids = new Set<string>();
  for (const n of g.nodes) {
    if (ids.has(n.id)) errors.push(`duplicate node ${n.id}`);
    ids.add(n.id);
    if (n.id !== `${n.component}:${n.metric}`) errors.push(`node ${n.id}: id must be component:metric (${n.component}:${n.metric})`);
    if (opts.knownNodes && n.observed && !opts.knownNodes.has(n.id)) errors.push(`unknown node ${n.id}: no such metric in the telemetry`);
  }
  const seen = new Set<string>();
  for (const e of g.edges) {
    if (!ids.has(e.from)) errors.push(`edge ${e.from} -> ${e.to}: unknown node ${e.from}`);
    if (!ids.has(e.to)) errors.push(`edge ${e.from} -> ${e.to}: unknown node ${e.to}`);
    if (e.from === e.to) errors.push(`edge ${e.from} -> ${e.to}: self-loop`);
    const k = `${e.from}\u0000${e.to}`;
    if (seen.has(k)) errors.push(`duplicate edge ${e.from} -> ${e.to}`);
    seen.add(k);
  }
  if (errors.length > 0) return { ok: false, errors, repairs };
  const cycle = findCycle(g);
  if (cycle && !opts.breakCycles) {
    return { ok: false, errors: [`cycle: ${[...cycle.map((e) => e.from), cycle[cycle.length - 1]!.to].join(' -> ')}`], repairs };
  }
  let out = g;
  if (cycle) {
    const { edges, removed } = breakCycles(g);
    for (const e of removed) repairs.push(`removed ${e.from} -> ${e.to} (confidence ${e.confidence}) to break a cycle`);
    out = { ...g, edges };
    out = { ...out, version: graphVersion(out) };
  }
  return { ok: true, errors, repairs, graph: out };
}
