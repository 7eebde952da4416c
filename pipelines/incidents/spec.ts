/**
 * The incidents stage's options, declared once (core/spec.ts): the CLI options of `incidents
 * correlate` and `incidents run`, validation with paths (`incidents.<key>`) and the README table
 * come from here.
 */
import { defineSpec, f, type Options } from '../core/spec.ts';
import { defaultCorrelatorOptions, type CorrelatorOptions } from './correlate.ts';

export const correlatorSpec = defineSpec(
  'incidents',
  {
    windowMs: f.int({ doc: 'Time window (ms) within which anomalies of connected components join one incident.', default: defaultCorrelatorOptions.windowMs, min: 1 }),
    quietMs: f.int({ doc: 'Quiet period (ms, event time) after an incident\'s last anomaly that resolves it.', default: defaultCorrelatorOptions.quietMs, min: 1 }),
    maxHops: f.int({ doc: 'Dependency hops that still connect two components (0: same component only).', default: defaultCorrelatorOptions.maxHops, min: 0, max: 10 }),
    maxAnomalyIds: f.int({ doc: 'Anomaly ids an incident record carries at most (the count keeps counting).', default: defaultCorrelatorOptions.maxAnomalyIds, min: 1, advanced: true }),
    dedupCapacity: f.int({ doc: 'Recently seen anomaly ids remembered against duplicates.', default: defaultCorrelatorOptions.dedupCapacity, min: 1, advanced: true }),
  },
  { summary: 'Anomalies → incident lifecycle records (OPEN / UPDATED / RESOLVED)' },
);

/** `incidents correlate`: a file of anomalies, offline. */
export const correlateSpec = defineSpec(
  'incidents',
  {
    anomalies: f.string({ doc: 'Anomaly records, one JSON object per line (or a JSON array).', required: true, placeholder: 'FILE', nonEmpty: true }),
    graph: f.string({ doc: 'Dependencies: a causal graph JSON or a PetShop graph.csv.', placeholder: 'FILE', nonEmpty: true }),
    ...correlatorSpec.fields,
  },
  { summary: 'Group anomalies (JSON lines) into incidents by time and dependency graph' },
);

export const runSpec = defineSpec(
  'incidents',
  {
    graph: f.string({ doc: 'Dependencies used until a graph arrives on causal-graphs: a causal graph JSON or a PetShop graph.csv.', placeholder: 'FILE', nonEmpty: true }),
    ...correlatorSpec.fields,
    groupId: f.string({ doc: 'Consumer group on the anomalies topic (prefixed like topics).', default: 'panoptes-incidents', flag: 'group', nonEmpty: true }),
    instanceId: f.string({ doc: 'Instance name, its transactional id (default: the host name).', flag: 'instance', nonEmpty: true }),
    graphName: f.string({ doc: 'Follow only this graph name on causal-graphs (default: the latest accepted of any name).', placeholder: 'NAME', nonEmpty: true }),
    componentLabel: f.string({ doc: 'Anomaly label naming the component (fallbacks: service, job).', default: 'component', nonEmpty: true }),
    tickMs: f.int({ doc: 'How often (ms) quiet incidents are checked for resolution when no anomaly arrives.', default: 1000, min: 10 }),
    publishedCapacity: f.int({ doc: 'Published lifecycle identities remembered against duplicates.', default: 200_000, min: 1, advanced: true }),
    maxBatchSize: f.int({ doc: 'Records per consumed batch at most.', default: 500, min: 1, advanced: true }),
  },
  { summary: 'The online incident correlator (exactly-once, on the stage loop)' },
);

export type IncidentsRunOptions = Options<typeof runSpec.fields>;

/** The correlator's options from the spec's values (component labels come from the run options). */
export function correlatorOptionsOf(v: { windowMs: number; quietMs: number; maxHops: number; maxAnomalyIds: number; dedupCapacity: number }): Partial<CorrelatorOptions> {
  return { windowMs: v.windowMs, quietMs: v.quietMs, maxHops: v.maxHops, maxAnomalyIds: v.maxAnomalyIds, dedupCapacity: v.dedupCapacity };
}
