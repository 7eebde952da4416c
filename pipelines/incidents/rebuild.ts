/**
 * Pure pieces of the online correlator (pipelines/incidents/consumer.ts) that are worth testing
 * without Kafka: the component dependency graph from a causal graph, the identity of a lifecycle
 * record (what "already published" means), and rebuilding the correlator after a restart.
 */
import { isDateTime } from '../core/time.ts';
import type { Anomaly, CausalGraphRecord, Incident } from '../core/records.ts';
import { dependencyGraphFromEdges, IncidentCorrelator, type CorrelatorOptions, type DependencyGraph } from './correlate.ts';

/** Component pairs of a causal graph's edges between different components (undirected). */
export function componentDependencies(g: Pick<CausalGraphRecord, 'nodes' | 'edges'>): Map<string, Set<string>> {
  const comp = new Map(g.nodes.map((n) => [n.id, n.component]));
  const pairs: [string, string][] = [];
  for (const e of g.edges) {
    const a = comp.get(e.from);
    const b = comp.get(e.to);
    if (a !== undefined && b !== undefined && a !== b) pairs.push([a, b]);
  }
  // Components with no cross-component edge still exist (they group with themselves).
  const out = dependencyGraphFromEdges(pairs);
  for (const c of comp.values()) if (!out.has(c)) out.set(c, new Set());
  return out;
}

export function dependencyGraphOf(input: CausalGraphRecord | ReadonlyArray<readonly [string, string]> | undefined): DependencyGraph {
  if (input === undefined) return new Map();
  if (Array.isArray(input)) return dependencyGraphFromEdges(input as ReadonlyArray<readonly [string, string]>);
  return componentDependencies(input as CausalGraphRecord);
}

/**
 * Identity of a lifecycle record: a record with the same identity was already published, so a
 * replay that computes it again must not publish it twice. OPEN and RESOLVED happen once per
 * incident; an UPDATED is identified by what it announces (count, severity, components).
 */
export function lifecycleKey(i: Incident): string {
  if (i.status === 'UPDATED') return `${i.id}|UPDATED|${i.anomalyCount}|${i.severity}|${[...i.components].sort().join(',')}`;
  return `${i.id}|${i.status}`;
}

/** A bounded insertion-ordered set (oldest forgotten first). */
export class BoundedSet {
  private readonly s = new Set<string>();
  constructor(private readonly capacity: number) {}
  has(k: string): boolean {
    return this.s.has(k);
  }
  add(k: string): void {
    if (this.s.has(k)) return;
    this.s.add(k);
    if (this.s.size > this.capacity) {
      const oldest = this.s.values().next().value;
      if (oldest !== undefined) this.s.delete(oldest);
    }
  }
  get size(): number {
    return this.s.size;
  }
}

export interface RebuildInput {
  /** Anomalies the group already processed (up to its committed offsets), any order. */
  processed: readonly Anomaly[];
  /** Every incident record on the `incidents` topic, in topic order per partition. */
  published: readonly Incident[];
}

/**
 * State after a restart: the processed anomalies are fed again in event-time order (their output
 * is discarded: it is on the topic already), then incidents the topic shows as RESOLVED are
 * closed (a timer may have resolved them, which the replay cannot see). The watermark is the
 * replay's own: the topic may hold records of anomalies this group has not processed (a reset
 * group replaying from the start), and their later times would resolve everything it reads next.
 */
export function rebuildCorrelator(graph: DependencyGraph, opts: Partial<CorrelatorOptions>, input: RebuildInput): IncidentCorrelator {
  const c = new IncidentCorrelator(graph, opts);
  const sorted = [...input.processed].sort((a, b) => a.timestampMs - b.timestampMs || a.id.localeCompare(b.id));
  // A record with an impossible time was dead-lettered when first processed: not state.
  for (const a of sorted) if (isDateTime(a.timestampMs)) c.ingest(a);
  const resolved = new Set(input.published.filter((i) => i.status === 'RESOLVED').map((i) => i.id));
  const st = c.snapshot();
  c.restore({ ...st, open: st.open.filter((i) => !resolved.has(i.id)) });
  return c;
}
