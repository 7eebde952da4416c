/**
 * The one small transport interface every stage is written against. Two implementations:
 * `kafka` (kafkajs against real brokers) and `embedded` (in-process topics with partitions,
 * offsets and consumer groups, for `npm start` on a machine with Node alone). The same contract
 * tests (tests/integration/core/transport-contract.test.ts) run on both.
 */

export type Headers = Record<string, string>;

export interface TopicSpec {
  name: string;
  partitions: number;
  /** `compact` for topics keyed by identity whose latest value is the state (rules, graphs). */
  cleanupPolicy?: 'delete' | 'compact';
  /** Extra broker-side configs (retention.ms, min.insync.replicas, ...). */
  configs?: Record<string, string>;
  /** Replicas per partition; absent: the broker's `default.replication.factor`. */
  replicationFactor?: number;
}

/** What the cluster says about a topic's layout. */
export interface TopicInfo {
  name: string;
  partitions: number;
  /** Replicas of its first partition (Kafka gives every partition of a topic as many). */
  replicationFactor: number;
  /** The effective `min.insync.replicas`, or null where the client cannot read topic configs (librdkafka). */
  minInsyncReplicas: number | null;
}

export interface OutRecord {
  topic: string;
  key?: Buffer | string | null;
  /** null is a tombstone on compacted topics. */
  value: Buffer | null;
  headers?: Headers;
  /** Explicit partition; otherwise chosen by key (murmur2, as Kafka's Java client). */
  partition?: number;
  timestamp?: number;
}

export interface InRecord {
  topic: string;
  partition: number;
  /** Offsets are decimal strings, as in kafkajs, because they may exceed 2^53. */
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Headers;
  timestamp: number;
}

export interface RecordPosition {
  topic: string;
  partition: number;
  offset: string;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** A batch handed to a consumer: records of one partition, in offset order. */
export interface Batch {
  topic: string;
  partition: number;
  records: InRecord[];
  /** Offset one past the last record of the partition when the batch was fetched (lag = this − next). */
  highWatermark: string;
}

export interface Transaction {
  send(records: OutRecord[]): Promise<void>;
  /** Commits consumer offsets (the next offset to read) atomically with the transaction's records. */
  sendOffsets(groupId: string, offsets: RecordPosition[]): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface Producer {
  /** Resolves only once every record is acknowledged (acks=all on Kafka). */
  send(records: OutRecord[]): Promise<RecordPosition[]>;
  /** Only on producers created with a transactionalId. */
  transaction(): Promise<Transaction>;
  close(): Promise<void>;
}

export interface ConsumerOptions {
  groupId: string;
  /** Where to start when the group has no committed offset for a partition. */
  fromBeginning?: boolean;
  /** Only read records of committed transactions (Kafka's read_committed). Default true. */
  readCommitted?: boolean;
  /**
   * When true (default), the offset after a batch is committed once its handler resolves.
   * Exactly-once stages set false and commit through `Transaction.sendOffsets`.
   */
  autoCommit?: boolean;
  /** Largest number of records handed to one handler call. */
  maxBatchSize?: number;
}

export interface RunOptions {
  eachBatch(batch: Batch): Promise<void>;
  /** Called before partitions are handed out, e.g. to rebuild per-series windows. */
  onAssign?(partitions: TopicPartition[]): Promise<void>;
  /** Called after in-flight batches of those partitions are done, before they go elsewhere. */
  onRevoke?(partitions: TopicPartition[]): Promise<void>;
  /** A handler failure: the consumer stops and calls this (the stage decides to exit or restart). */
  onError?(err: unknown): void;
}

export interface Consumer {
  subscribe(topics: string[]): Promise<void>;
  /** Starts fetching; returns once running. */
  run(opts: RunOptions): Promise<void>;
  /** Commits explicitly (positions are the next offsets to read). */
  commit(offsets: RecordPosition[]): Promise<void>;
  /** Finishes the in-flight batch, commits what it completed, leaves the group. */
  stop(): Promise<void>;
  /** Partitions currently assigned to this member. */
  assignment(): TopicPartition[];
}

export interface ProducerOptions {
  /** Enables transactions; one id per stage instance and input partition set. */
  transactionalId?: string;
  /**
   * Non-transactional producers: give up on a record not acknowledged within this many ms, so a
   * caller that stopped waiting (and answered "retry") does not have it stored later as well.
   * librdkafka's message.timeout.ms, which otherwise keeps records queued through an outage;
   * kafkajs (which gives up after its own retries) and the embedded transport ignore it.
   */
  deliveryTimeoutMs?: number;
}

export interface Transport {
  readonly kind: 'kafka' | 'embedded';
  connect(): Promise<void>;
  close(): Promise<void>;
  /** Creates missing topics; existing topics are left as they are. */
  ensureTopics(specs: TopicSpec[]): Promise<void>;
  listTopics(): Promise<string[]>;
  /** Brokers the cluster reports as live (registered and not fenced); 1 for the embedded transport. */
  liveBrokers(): Promise<number>;
  /** Partitions, replicas and min.insync.replicas of existing topics. */
  describeTopics(topics: string[]): Promise<TopicInfo[]>;
  /** Per partition: the first offset still stored and one past the last. */
  offsets(topic: string): Promise<{ partition: number; low: string; high: string }[]>;
  producer(opts?: ProducerOptions): Promise<Producer>;
  consumer(opts: ConsumerOptions): Promise<Consumer>;
  /**
   * Reads the given partitions from their first stored offset up to the end they had when the
   * call began (read_committed), without a consumer group: how stages rebuild state from topics.
   * `until` bounds a partition's read at an offset (exclusive) instead, e.g. a group's committed
   * offset when rebuilding the windows of records already processed.
   * With `onRecords`, records are streamed to it and not accumulated (the result is empty).
   * `from` starts a partition's read at an offset instead of its first (e.g. one found by
   * `offsetsForTimes`, to rebuild only the recent past).
   */
  readToEnd(topic: string, partitions?: number[], onRecords?: (records: InRecord[]) => void, until?: Map<number, string>, from?: Map<number, string>): Promise<InRecord[]>;
  /**
   * Per partition (all of the topic's unless given): the first offset whose record timestamp is at
   * or after `timestampMs`, or the partition's end when no record is that recent — Kafka's
   * ListOffsets by timestamp (kafkajs `fetchTopicOffsetsByTimestamp`, librdkafka `offsetsForTimes`).
   */
  offsetsForTimes(topic: string, timestampMs: number, partitions?: number[]): Promise<Map<number, string>>;
  /** The group's committed offsets (next offset to read) for a topic's partitions; absent when none. */
  committed(groupId: string, topic: string): Promise<Map<number, string>>;
}
