/**
 * The part of @confluentinc/kafka-javascript's native (node-rdkafka) API that rdkafka.ts uses,
 * declared here because the package is an optional dependency: type-checking must pass on a
 * machine where `npm ci` left it out. Shapes follow the package's types/rdkafka.d.ts (1.10).
 */

export interface LibrdKafkaError extends Error {
  code: number;
  isFatal?: boolean;
  isRetriable?: boolean;
}

export type Callback<T = void> = (err: LibrdKafkaError | null | undefined, value?: T) => void;
export type Config = Record<string, string | number | boolean | ((...args: never[]) => void)>;

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface TopicPartitionOffset extends TopicPartition {
  offset: number;
}

export type MessageHeader = Record<string, string | Buffer>;

export interface Message extends TopicPartitionOffset {
  value: Buffer | null;
  key?: Buffer | string | null;
  timestamp?: number;
  headers?: MessageHeader[];
}

export interface DeliveryReport extends TopicPartitionOffset {
  opaque?: unknown;
}

export type EofEvent = TopicPartitionOffset;

export interface Client {
  connect(metadataOptions: { timeout?: number }, cb: (err: LibrdKafkaError | null) => void): void;
  getMetadata(options: { topic?: string; allTopics?: boolean; timeout?: number }, cb: Callback<Metadata>): void;
  disconnect(cb: (err: LibrdKafkaError | null | undefined) => void): void;
  on(event: string, listener: (...args: never[]) => void): this;
}

export interface Producer extends Client {
  on(event: 'delivery-report', listener: (err: LibrdKafkaError | null, report: DeliveryReport) => void): this;
  on(event: string, listener: (...args: never[]) => void): this;
  produce(topic: string, partition: number | null, value: Buffer | null, key: Buffer | string | null, timestamp: number | null, opaque: unknown, headers?: MessageHeader[]): unknown;
  setPollInBackground(set: boolean): void;
  disconnect(timeoutMs: number, cb: (err: LibrdKafkaError | null | undefined) => void): void;
  disconnect(cb: (err: LibrdKafkaError | null | undefined) => void): void;
  initTransactions(timeoutMs: number, cb: Callback): void;
  beginTransaction(cb: Callback): void;
  commitTransaction(timeoutMs: number, cb: Callback): void;
  abortTransaction(timeoutMs: number, cb: Callback): void;
  sendOffsetsToTransaction(offsets: TopicPartitionOffset[], consumer: KafkaConsumer, timeoutMs: number, cb: Callback): void;
}

export interface KafkaConsumer extends Client {
  on(event: 'partition.eof', listener: (e: EofEvent) => void): this;
  on(event: string, listener: (...args: never[]) => void): this;
  subscribe(topics: string[]): void;
  assign(assignments: (TopicPartition | TopicPartitionOffset)[]): void;
  unassign(): void;
  consume(max: number, cb: (err: LibrdKafkaError | null, messages: Message[]) => void): void;
  setDefaultConsumeTimeout(ms: number): void;
  setDefaultIsTimeoutOnlyForFirstMessage(onlyFirst: boolean): void;
  commit(offsets: TopicPartitionOffset[]): void;
  commitSync(offsets: TopicPartitionOffset[]): void;
  getWatermarkOffsets(topic: string, partition: number): { lowOffset: number; highOffset: number };
}

export interface TopicDescription {
  name: string;
  partitions: { partition: number; leader: unknown; replicas?: unknown[]; isr?: unknown[] }[];
  error?: LibrdKafkaError;
}

export interface Metadata {
  brokers: { id: number; host: string; port: number }[];
  topics: { name: string; partitions: unknown[] }[];
}

export interface ListOffsetsResult extends TopicPartitionOffset {
  error?: LibrdKafkaError;
}

export interface GroupResults {
  groupId: string;
  error?: LibrdKafkaError;
  partitions: TopicPartitionOffset[];
}

/** An opaque OffsetSpec value (EARLIEST, LATEST, or a timestamp). */
export type OffsetSpec = { readonly __offsetSpec: unique symbol };

export interface AdminClient {
  createTopic(topic: { topic: string; num_partitions: number; replication_factor: number; config: Record<string, string> }, timeoutMs: number, cb: Callback): void;
  listTopics(options: { timeout: number }, cb: Callback<string[]>): void;
  describeTopics(topics: string[], options: { timeout: number }, cb: Callback<TopicDescription[]>): void;
  listOffsets(partitions: (TopicPartition & { offset: OffsetSpec })[], options: { timeout: number; isolationLevel: number }, cb: Callback<ListOffsetsResult[]>): void;
  listConsumerGroupOffsets(groups: { groupId: string; partitions: TopicPartition[] }[], options: { timeout: number; requireStableOffsets: boolean }, cb: Callback<GroupResults[]>): void;
  disconnect(): void;
}

export interface RdKafkaModule {
  librdkafkaVersion: string;
  Producer: new (conf: Config, topicConf: Config) => Producer;
  KafkaConsumer: new (conf: Config, topicConf: Config) => KafkaConsumer;
  AdminClient: { create(conf: Config): AdminClient };
  /** `new OffsetSpec(ms)`: the first offset whose timestamp is at or after ms (-1 when none). */
  OffsetSpec: { EARLIEST: OffsetSpec; LATEST: OffsetSpec; new (timestampMs: number): OffsetSpec };
  IsolationLevel: { READ_UNCOMMITTED: number; READ_COMMITTED: number };
}
