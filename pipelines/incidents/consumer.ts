/**
 * The incident correlator online: a consumer group on `anomalies`, incident lifecycle records
 * (OPEN / UPDATED / RESOLVED) to `incidents`. Work in progress: signatures first (the lab codes
 * against them), body follows.
 */
import type { Anomaly, CausalGraphRecord, Incident } from '../core/records.ts';
import type { Runtime } from '../core/runtime.ts';
import type { CorrelatorOptions } from './correlate.ts';

export interface IncidentCorrelatorOptions {
  /** Consumer group (prefixed like topics). Default `panoptes-incidents`. */
  groupId?: string;
  /** Stable per instance: its transactional id, so a restarted instance fences its former self. */
  instanceId?: string;
  /** Label naming the component; `service` then `job` are the fallbacks. Default `component`. */
  componentLabel?: string;
  /** Grouping and lifecycle (see correlate.ts): windowMs, quietMs, maxHops, … */
  correlator?: Partial<Omit<CorrelatorOptions, 'componentLabels'>>;
  /** Only this graph name of the `causal-graphs` topic; default: the latest accepted of any name. */
  graphName?: string;
  /** Dependency graph used until (and unless) a graph arrives on `causal-graphs`: a causal graph or component pairs. */
  fallbackGraph?: CausalGraphRecord | ReadonlyArray<readonly [string, string]>;
  /** How often quiet incidents are checked for resolution when no anomaly arrives. Default 1000 ms. */
  tickMs?: number;
  maxBatchSize?: number;
  /** Called with every incident record once its transaction is committed. */
  onOutput?: (incident: Incident) => void;
  /** Called with every anomaly consumed (tests, progress). */
  onInput?: (anomaly: Anomaly) => void;
}

export interface RunningIncidentCorrelator {
  stop(): Promise<void>;
  /** Resolves (with the error) when the consumer stops on its own because of an error. */
  failed: Promise<unknown>;
  /** Incidents currently open on this instance. */
  openIncidents(): Incident[];
  /** Version of the causal graph the dependency graph comes from (null: fallback or none). */
  graphVersion(): string | null;
}

export async function startIncidentCorrelator(rt: Runtime, opts: IncidentCorrelatorOptions = {}): Promise<RunningIncidentCorrelator> {
  void rt;
  void opts;
  throw new Error('startIncidentCorrelator: not implemented yet');
}
