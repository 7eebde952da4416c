/**
 * The topics of the flow in DESIGN.md, their Avro schema files and their layout. Names can be
 * prefixed (config `topicPrefix`) so several pipelines or test runs share one cluster.
 */
import { ConfigError } from './errors.ts';
import type { TopicSpec } from './transport/types.ts';

export interface TopicDef {
  /** Logical name; the real topic is `${prefix}${name}`. */
  name: string;
  /** Schema file under schemas/, or null for topics whose values are not Avro (dead letters). */
  schema: string | null;
  partitions: number;
  cleanupPolicy: 'delete' | 'compact';
  doc: string;
}

export const TOPICS = {
  metrics: { name: 'metrics', schema: 'metric-batch.avsc', partitions: 6, cleanupPolicy: 'delete', doc: 'One record per series per remote-write request, keyed by series fingerprint.' },
  anomalies: { name: 'anomalies', schema: 'anomaly.avsc', partitions: 3, cleanupPolicy: 'delete', doc: 'Anomalies with rule id/version and explanation (transactional).' },
  rules: { name: 'rules', schema: 'rule.avsc', partitions: 1, cleanupPolicy: 'compact', doc: 'Deployed rules keyed by rule id; null deletes.' },
  incidents: { name: 'incidents', schema: 'incident.avsc', partitions: 3, cleanupPolicy: 'delete', doc: 'Incident lifecycle records.' },
  causalGraphs: { name: 'causal-graphs', schema: 'causal-graph.avsc', partitions: 1, cleanupPolicy: 'compact', doc: 'Validated causal graphs keyed by graph name.' },
  rca: { name: 'rca', schema: 'rca-result.avsc', partitions: 3, cleanupPolicy: 'delete', doc: 'Ranked root causes per incident.' },
  inferenceRequests: { name: 'inference.requests', schema: 'inference-request.avsc', partitions: 3, cleanupPolicy: 'delete', doc: 'Inference requests with deadlines.' },
  inferenceResults: { name: 'inference.results', schema: 'inference-result.avsc', partitions: 3, cleanupPolicy: 'delete', doc: 'Inference outcomes with latency breakdown.' },
  alertSubscriptions: { name: 'alert-subscriptions', schema: null, partitions: 1, cleanupPolicy: 'compact', doc: 'Alert subscriptions (connectors/alerts) keyed by id, UTF-8 JSON values; null deletes.' },
  deadLetters: { name: 'dead-letters', schema: null, partitions: 1, cleanupPolicy: 'delete', doc: 'Records that failed to decode: original bytes, reason in headers.' },
} as const satisfies Record<string, TopicDef>;

export type TopicKey = keyof typeof TOPICS;

export function topicName(key: TopicKey, prefix = ''): string {
  return `${prefix}${TOPICS[key].name}`;
}

/** Replicas per partition and the `min.insync.replicas` of the topics the pipeline creates. */
export interface Replication {
  replicationFactor: number;
  minInsyncReplicas: number;
}

/** Replicas the pipeline asks for when the config says `auto`. */
export const DEFAULT_REPLICATION_FACTOR = 3;

/**
 * The replication of created topics from the config (`auto` or a number each) and the number of
 * live brokers: `auto` is 3 replicas, or one per broker on a smaller cluster; `min.insync.replicas`
 * `auto` is a majority of the replicas from 3 up (2 of 3: one broker may be down and acks=all
 * writes still succeed, and no acknowledged record lives on one broker only), else 1. Throws a
 * ConfigError (with the key) for a factor the cluster cannot hold.
 */
export function replicationFor(cfg: { replicationFactor: number | 'auto'; minInsyncReplicas: number | 'auto' }, brokers: number): Replication {
  const rf = cfg.replicationFactor === 'auto' ? Math.max(1, Math.min(DEFAULT_REPLICATION_FACTOR, brokers)) : cfg.replicationFactor;
  if (rf > brokers) {
    throw new ConfigError([{ path: 'replicationFactor', message: `${rf} replicas asked for, but the cluster has ${brokers} live broker${brokers === 1 ? '' : 's'}` }]);
  }
  const minIsr = cfg.minInsyncReplicas === 'auto' ? (rf >= 3 ? Math.floor(rf / 2) + 1 : 1) : cfg.minInsyncReplicas;
  if (minIsr > rf) throw new ConfigError([{ path: 'minInsyncReplicas', message: `must be at most the replication factor (${rf}), got ${minIsr}` }]);
  return { replicationFactor: rf, minInsyncReplicas: minIsr };
}

/** The pipeline's topics with their layout; with `replication`, their replicas and min.insync.replicas too. */
export function topicSpecs(prefix = '', replication?: Replication): TopicSpec[] {
  return Object.values(TOPICS).map((t) => ({
    name: `${prefix}${t.name}`,
    partitions: t.partitions,
    cleanupPolicy: t.cleanupPolicy,
    ...(replication ? { replicationFactor: replication.replicationFactor, configs: { 'min.insync.replicas': String(replication.minInsyncReplicas) } } : {}),
  }));
}

/**
 * Consumer groups are namespaced like topics: two pipelines sharing a cluster under different
 * prefixes must not share a group (kafkajs's assigner hands every member partitions of every
 * topic the group subscribes to).
 */
export function groupName(group: string, prefix = ''): string {
  return `${prefix}${group}`;
}
