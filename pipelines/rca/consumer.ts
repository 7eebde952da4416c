/**
 * The RCA consumer online: `incidents` (+ windows of `metrics`, + the graph on `causal-graphs`)
 * → ranked root causes on `rca`. Work in progress: signatures first (the lab codes against
 * them), body follows.
 */
import type { CausalGraphRecord, RcaResult } from '../core/records.ts';
import type { Runtime } from '../core/runtime.ts';
import type { RankOptions } from './rank/scores.ts';
import type { RankMethod } from './rca.ts';

export interface RcaConsumerOptions {
  /** Consumer group on `incidents` (prefixed like topics). Default `panoptes-rca`. */
  groupId?: string;
  /** Names this instance (its metrics tail and graph tail groups). */
  instanceId?: string;
  method?: RankMethod;
  rank?: Partial<RankOptions>;
  /** Label naming a series' component; fallbacks `service`, `job`. Default `component`. */
  componentLabel?: string;
  /** Label naming a series' metric (graph node `<component>:<metric>`); fallback `__name__`. Default `signal`. */
  metricLabel?: string;
  /** Only this graph name of the `causal-graphs` topic; default: the latest accepted of any name. */
  graphName?: string;
  /** Graph used until (and unless) a good graph arrives on `causal-graphs`. */
  fallbackGraph?: CausalGraphRecord;
  /** Wait this long after an incident's latest OPEN/UPDATED before analysing it. Default 2000 ms. */
  debounceMs?: number;
  /** …but never longer than this after its first pending record. Default 10000 ms. */
  maxDelayMs?: number;
  /** Samples are aligned to this step (ms). Default 1000. */
  stepMs?: number;
  /** Per node, samples older than this behind the node's newest are dropped. Default 30 min. */
  windowMs?: number;
  /** Per node, at most this many aligned points. Default 3600. */
  maxPointsPerNode?: number;
  /** At most this many nodes held; new nodes beyond it are ignored (counted). Default 5000. */
  maxNodes?: number;
  /** Rows this close before the incident opened are left out of the normal history. Default 5000 ms. */
  normalGapMs?: number;
  /** How long an analysis waits for the metrics tail to catch up with the topic. Default 5000 ms. */
  catchUpTimeoutMs?: number;
  /** Called with every rca record once produced. */
  onOutput?: (result: RcaResult) => void;
}

export interface RunningRcaConsumer {
  stop(): Promise<void>;
  /** Resolves (with the error) when the consumer stops on its own because of an error. */
  failed: Promise<unknown>;
  /** The graph in force (last good), or null. */
  graph(): CausalGraphRecord | null;
  /** Node ids with metric windows held. */
  nodes(): string[];
}

export async function startRcaConsumer(rt: Runtime, opts: RcaConsumerOptions = {}): Promise<RunningRcaConsumer> {
  void rt;
  void opts;
  throw new Error('startRcaConsumer: not implemented yet');
}
