/**
 * Checks a proposed causal graph before it is used: shape, unknown nodes, dangling edges,
 * self-loops, duplicates, size limits and, where the ranking method needs a DAG, cycles (broken by
 * a greedy minimal edge cut that drops the least-confident edge of each cycle found). Every
 * problem is reported with a reason; repairable ones (cycles) are repaired and listed.
 */
import { Ajv, type ErrorObject } from 'ajv';
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

/** JSON Schema of a proposed graph (parsed JSON, before normalizeGraph fills the optional fields). */
export const graphSchema = {
  type: 'object',
  required: ['name', 'nodes', 'edges'],
  properties: {
    name: { type: 'string' },
    nodes: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'component', 'metric'],
        properties: {
          id: { type: 'string', minLength: 1 },
          component: { type: 'string', minLength: 1 },
          metric: { type: 'string', minLength: 1 },
          observed: { type: 'boolean' },
        },
      },
    },
    edges: {
      type: 'array',
      items: {
        type: 'object',
        required: ['from', 'to'],
        properties: {
          from: { type: 'string' },
          to: { type: 'string' },
          provenance: { enum: ['DOCS', 'DATA', 'BOTH', 'FEEDBACK'] },
          confidence: { type: 'number', minimum: 0, maximum: 1 },
        },
      },
    },
  },
} as const;

const validateShape = new Ajv({ allErrors: true, strict: false, verbose: true }).compile(graphSchema);

/** `/nodes/0/id` → `nodes[0].id` */
function pathOf(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('');
}

function expectation(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'type':
      if (p.type === 'string' && (e.parentSchema as { minLength?: number } | undefined)?.minLength) return 'expected a non-empty string';
      return `expected ${p.type === 'array' ? 'an array' : p.type === 'object' ? 'an object' : p.type === 'boolean' ? 'a boolean' : `a ${String(p.type)}`}`;
    case 'minLength':
      return 'expected a non-empty string';
    case 'enum':
      return `expected one of ${(p.allowedValues as string[]).join(', ')}`;
    case 'minimum':
    case 'maximum':
      return 'expected a number in [0, 1]';
    default:
      return e.message ?? 'invalid';
  }
}

/** Structural checks on untyped input (parsed JSON), by graphSchema: errors naming the path, in document order. */
export function checkShape(x: unknown): string[] {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return ['graph: expected a JSON object'];
  if (validateShape(x)) return [];
  const out: string[] = [];
  // ajv reports `required` before the properties' own errors: put them in document order.
  const order = (e: ErrorObject) => {
    const parts = e.instancePath.split('/').slice(1);
    const top = e.keyword === 'required' && parts.length === 0 ? String((e.params as { missingProperty: string }).missingProperty) : (parts[0] ?? '');
    return [['name', 'nodes', 'edges'].indexOf(top), Number(parts[1] ?? -1)];
  };
  const errors = [...(validateShape.errors ?? [])].sort((a, b) => {
    const [x, y] = [order(a), order(b)];
    return x[0]! - y[0]! || x[1]! - y[1]!;
  });
  for (const e of errors) {
    const base = pathOf(e.instancePath);
    const path = e.keyword === 'required' ? `${base ? `${base}.` : ''}${String((e.params as { missingProperty: string }).missingProperty)}` : base || 'graph';
    const msg = e.keyword === 'required' ? (path.endsWith('.id') || path.endsWith('.component') || path.endsWith('.metric') ? 'expected a non-empty string' : /^(nodes|edges)$/.test(path) ? 'expected an array' : 'expected a string') : expectation(e);
    const line = `${path}: ${msg}`;
    if (!out.includes(line)) out.push(line);
  }
  return out;
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
