/**
 * The transport over real brokers with kafkajs: idempotent producers with acks=all, transactions
 * with offsets committed inside them, read_committed consumers. Failures are translated into the
 * project's error hierarchy here, once.
 */
import { randomUUID } from 'node:crypto';
import kafkajs, {
  Kafka, logLevel as KafkaLogLevel, Partitioners, type Admin, type Consumer as KConsumer, type EachBatchPayload,
  type ICustomPartitioner, type IHeaders, type Message, type PartitionMetadata, type Producer as KProducer, type LogEntry,
} from 'kafkajs';
import { ConnectError, TimeoutError, TransportError } from '../errors.ts';
import { retry } from '../retry.ts';
import type { Logger } from '../logger.ts';
import { silentLogger } from '../logger.ts';
import type {
  Consumer, ConsumerOptions, Headers, InRecord, OutRecord, Producer, ProducerOptions, RecordPosition,
  RunOptions, TopicInfo, TopicPartition, TopicSpec, Transaction, Transport,
} from './types.ts';

export interface KafkaTransportOptions {
  brokers: string[];
  clientId: string;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  /** In-flight produce requests for non-transactional producers (transactional ones use 1). */
  maxInFlight?: number;
  logger?: Logger;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function headersOut(h?: Headers): IHeaders | undefined {
  return h && Object.keys(h).length > 0 ? { ...h } : undefined;
}

function headersIn(h: IHeaders | undefined): Headers {
  const out: Headers = {};
  if (!h) return out;
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    const one = Array.isArray(v) ? v[v.length - 1] : v;
    out[k] = Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
  }
  return out;
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

function groupByTopic(records: OutRecord[]) {
  const byTopic = new Map<string, OutRecord[]>();
  for (const r of records) {
    const list = byTopic.get(r.topic);
    if (list) list.push(r);
    else byTopic.set(r.topic, [r]);
  }
  return [...byTopic].map(([topic, rs]) => ({
    topic,
    messages: rs.map((r) => ({
      key: r.key ?? null,
      value: r.value,
      headers: headersOut(r.headers),
      ...(r.partition !== undefined ? { partition: r.partition } : {}),
      ...(r.timestamp !== undefined ? { timestamp: String(r.timestamp) } : {}),
    })),
  }));
}

/**
 * Splits records into produce calls of at most ~512 KB of keys and values: kafkajs puts each
 * partition's share of a call into one record batch, and the broker refuses batches over
 * `message.max.bytes` (1 MB by default). A stage may emit far more than that for one input batch.
 */
export function chunkBySize(records: OutRecord[], maxBytes = 512 * 1024): OutRecord[][] {
  const out: OutRecord[][] = [];
  let cur: OutRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    const size = (r.value?.length ?? 0) + (r.key ? r.key.length : 0) + 64;
    if (cur.length > 0 && bytes + size > maxBytes) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(r);
    bytes += size;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/**
 * kafkajs's default partitioner that also writes its choice into the message, so the caller knows
 * where every record was meant to go (and a keyless record keeps its partition when re-sent).
 */
const recordingPartitioner: ICustomPartitioner = () => {
  const choose = Partitioners.DefaultPartitioner();
  return (args) => {
    const p = choose(args);
    (args.message as Message).partition = p;
    return p;
  };
};

export type TopicMessages = ReturnType<typeof groupByTopic>;
export type SendResult = { topicName: string; partition: number; errorCode: number; baseOffset?: string; offset?: string };

/**
 * Sends until every partition the records were meant for has acknowledged them. kafkajs's
 * sendBatch retries a failed request only to brokers that have not answered yet: when a
 * partition's leader moves (broker failure, controlled shutdown) to a broker that already
 * acknowledged other partitions of the same batch, that partition's records are never sent
 * again, and sendBatch resolves as if they were stored (tulios/kafkajs#1303; seen here in the
 * cluster failure tests as 204-acknowledged remote-write samples missing from the topic). So the
 * answer is checked against the partitions the records were assigned and what is missing is sent
 * again (the idempotent producer's sequence numbers for those partitions were rolled back).
 */
export async function sendAll(send: (batch: TopicMessages) => Promise<SendResult[]>, batch: TopicMessages, log: Logger): Promise<SendResult[]> {
  const out: SendResult[] = [];
  let pending = batch;
  for (let attempt = 1; ; attempt++) {
    const res = await send(pending);
    out.push(...res);
    const acked = new Set(res.filter((r) => r.errorCode === 0).map((r) => tpKey(r.topicName, r.partition)));
    pending = pending
      .map((t) => ({ topic: t.topic, messages: t.messages.filter((m) => !acked.has(tpKey(t.topic, (m as Message).partition ?? -1))) }))
      .filter((t) => t.messages.length > 0);
    if (pending.length === 0) return out;
    const missing = pending.flatMap((t) => [...new Set(t.messages.map((m) => `${t.topic}[${(m as Message).partition}]`))]);
    if (attempt >= 5) throw new TransportError(`produce to ${missing.join(', ')} was never acknowledged after ${attempt} attempts`, { retriable: true });
    log.warn('produce answered without some partitions (a leader moved); sending their records again', { partitions: missing, attempt });
  }
}

/**
 * The coordinator answers CONCURRENT_TRANSACTIONS while it is still writing the markers of the
 * previous transaction of the same producer. The Java client retries it after 20 ms; kafkajs
 * retries it for some transactional requests and not for others (AddOffsetsToTxn), so every
 * transactional call goes through this.
 */
const retryConcurrentTransactions = retry({
  name: 'transactional request',
  retries: 20,
  initialDelayMs: 20,
  maxDelayMs: 500,
  factor: 1.5,
  jitter: 0.2,
  shouldRetry: (err) => /CONCURRENT_TRANSACTIONS|another concurrent operation on the same transaction/.test(`${(err as { type?: string }).type ?? ''} ${(err as Error).message ?? ''}`),
});

/**
 * Error types of a coordinator that moved or is not there yet (a broker died or restarted), by
 * kafkajs's names (codes 14, 15, 16) and Kafka's. kafkajs's own retry in sendOffsets checks only
 * Kafka's names, which its errors never carry, so it gives up on the first answer.
 */
const COORDINATOR_ERRORS = new Set([
  'GROUP_LOAD_IN_PROGRESS', 'GROUP_COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR_FOR_GROUP',
  'COORDINATOR_LOAD_IN_PROGRESS', 'COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR',
]);

export function isCoordinatorMove(err: unknown): boolean {
  for (let e = err as { type?: string; name?: string; cause?: unknown; originalError?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if ((e.type && COORDINATOR_ERRORS.has(e.type)) || e.name === 'KafkaJSConnectionError' || e.name === 'KafkaJSConnectionClosedError') return true;
    e = (e.originalError ?? e.cause) as typeof e;
  }
  return false;
}

/**
 * Offsets sent to a transaction go to the group's coordinator, which moves when its broker dies or
 * restarts. kafkajs means to look the coordinator up again and retry, but matches the error by a
 * name its errors do not carry (see COORDINATOR_ERRORS), so the stage failed on every coordinator
 * move (cluster failure tests). Sending the same offsets again within the same transaction is
 * idempotent; kafkajs finds the coordinator anew on each call. Retried for up to ~40 s.
 */
const retryCoordinatorMove = retry({
  name: 'send offsets to transaction',
  retries: 20,
  initialDelayMs: 250,
  maxDelayMs: 2000,
  factor: 1.5,
  jitter: 0.2,
  shouldRetry: isCoordinatorMove,
});

function wrap(op: string, err: unknown): TransportError {
  const e = err as { message?: string; retriable?: boolean };
  return new TransportError(`${op} failed: ${e?.message ?? String(err)}`, { cause: err, retriable: e?.retriable === true });
}

/** Partition metadata per topic for a producer that assigns partitions itself (refreshed every minute). */
export type PartitionMetadataSource = (topic: string) => Promise<PartitionMetadata[]>;

class KafkaProducer implements Producer {
  /** kafkajs's own partitioner, run here for transactional sends (see transaction().send). */
  private readonly assign = Partitioners.DefaultPartitioner();

  constructor(private readonly p: KProducer, private readonly transactional: boolean, private readonly log: Logger, private readonly metadata: PartitionMetadataSource) {}

  async send(records: OutRecord[]): Promise<RecordPosition[]> {
    if (this.transactional) throw new TransportError('a transactional producer sends inside transaction()');
    if (records.length === 0) return [];
    try {
      // One chunk after the other: records of a key must reach the partition in order.
      const res = [];
      for (const c of chunkBySize(records)) res.push(...(await sendAll((topicMessages) => this.p.sendBatch({ topicMessages, acks: -1 }), groupByTopic(c), this.log)));
      // kafkajs reports the base offset per partition; callers need counts, not exact offsets.
      return res.map((r) => ({ topic: r.topicName, partition: r.partition, offset: r.baseOffset ?? r.offset ?? '-1' }));
    } catch (err) {
      throw wrap('produce', err);
    }
  }

  async transaction(): Promise<Transaction> {
    if (!this.transactional) throw new TransportError('transaction() needs a producer created with a transactionalId');
    const tx = await this.p.transaction().catch((err: unknown) => {
      throw wrap('begin transaction', err);
    });
    return {
      // One produce call per partition. kafkajs adds a transaction's partitions on each broker
      // before producing there; when that is refused for longer than its own retries
      // (CONCURRENT_TRANSACTIONS while the previous transaction's markers are written, common on
      // a loaded machine) sendBatch fails, though other brokers of the same call may already have
      // stored their share. Retrying a multi-partition call then stores that share twice inside
      // the transaction: duplicates that read_committed consumers see (found by the cluster
      // tests: incident records committed twice in fault-free runs). A call for one partition
      // fails before producing anything or is retried by kafkajs itself, so retrying it is safe.
      send: async (records) => {
        for (const chunk of chunkBySize(records)) {
          for (const part of await this.byPartition(groupByTopic(chunk))) {
            await sendAll((topicMessages) => retryConcurrentTransactions(() => tx.sendBatch({ topicMessages, acks: -1 })), part, this.log).catch((err: unknown) => {
              throw wrap('transactional produce', err);
            });
          }
        }
      },
      sendOffsets: async (groupId, offsets) => {
        const topics = new Map<string, { partition: number; offset: string }[]>();
        for (const o of offsets) {
          const l = topics.get(o.topic) ?? [];
          l.push({ partition: o.partition, offset: o.offset });
          topics.set(o.topic, l);
        }
        await retryCoordinatorMove(() => retryConcurrentTransactions(() => tx.sendOffsets({ consumerGroupId: groupId, topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })) })))
          .catch((err: unknown) => {
            throw wrap('send offsets to transaction', err);
          });
      },
      commit: async () => {
        await retryConcurrentTransactions(() => tx.commit()).catch((err: unknown) => {
          throw wrap('commit transaction', err);
        });
      },
      abort: async () => {
        await tx.abort().catch((err: unknown) => {
          throw wrap('abort transaction', err);
        });
      },
    };
  }

  /** Assigns every message its partition (kafkajs's partitioner, current metadata) and splits the batch per partition, in order. */
  private async byPartition(batch: TopicMessages): Promise<TopicMessages[]> {
    const out = new Map<string, TopicMessages[number]>();
    for (const t of batch) {
      const partitionMetadata = await this.metadata(t.topic);
      for (const m of t.messages) {
        const p = (m as Message).partition ?? this.assign({ topic: t.topic, partitionMetadata, message: m as Message });
        (m as Message).partition = p;
        const k = tpKey(t.topic, p);
        const group = out.get(k) ?? { topic: t.topic, messages: [] };
        group.messages.push(m);
        out.set(k, group);
      }
    }
    return [...out.values()].map((g) => [g]);
  }

  async close(): Promise<void> {
    await this.p.disconnect();
  }
}

class KafkaConsumer implements Consumer {
  private topics: string[] = [];
  private assigned = new Map<string, TopicPartition>();
  private ready = new Set<string>();
  /** Revoke and assign work of the rebalances so far, in order; batches wait for it. */
  private prep: Promise<void> = Promise.resolve();
  private opts: RunOptions | null = null;

  constructor(private readonly c: KConsumer, private readonly options: ConsumerOptions) {}

  async subscribe(topics: string[]): Promise<void> {
    this.topics.push(...topics);
    await this.c.subscribe({ topics, fromBeginning: this.options.fromBeginning ?? false });
  }

  assignment(): TopicPartition[] {
    return [...this.assigned.values()];
  }

  async run(opts: RunOptions): Promise<void> {
    this.opts = opts;
    // kafkajs has no awaited rebalance callbacks: track the assignment from GROUP_JOIN and, right
    // then, run onRevoke for partitions that left and onAssign for new ones (one call for all of
    // them, so a stage rebuilds with one read). Batches wait for that work. At the assignment, not
    // at a partition's first batch: a stage's readiness must go false while it rebuilds and true
    // once it has, also for partitions that have nothing to read yet (an idle input stayed "not
    // ready" forever otherwise), and the rebuild starts as soon as the partitions are known.
    this.c.on(this.c.events.GROUP_JOIN, (e) => {
      const next = new Map<string, TopicPartition>();
      for (const [topic, parts] of Object.entries(e.payload.memberAssignment)) for (const p of parts) next.set(tpKey(topic, p), { topic, partition: p });
      const revoked = [...this.assigned].filter(([k]) => !next.has(k)).map(([, tp]) => tp);
      for (const k of this.assigned.keys()) if (!next.has(k)) this.ready.delete(k);
      this.assigned = next;
      this.prep = this.prep
        .then(async () => {
          if (revoked.length > 0 && opts.onRevoke) await opts.onRevoke(revoked);
          // A later rebalance may already have taken some of them away again.
          const todo = [...this.assigned].filter(([k]) => !this.ready.has(k));
          if (todo.length > 0 && opts.onAssign) await opts.onAssign(todo.map(([, tp]) => tp));
          for (const [k] of todo) this.ready.add(k);
        })
        .catch((err: unknown) => opts.onError?.(err));
    });
    this.c.on(this.c.events.CRASH, (e) => {
      if (!e.payload.restart) opts.onError?.(e.payload.error);
    });
    const max = this.options.maxBatchSize ?? 1000;
    await this.c.run({
      autoCommit: this.options.autoCommit !== false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async (payload: EachBatchPayload) => {
        const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale } = payload;
        await this.settle(heartbeat);
        const k = tpKey(batch.topic, batch.partition);
        if (!this.ready.has(k)) {
          // A batch of a partition no GROUP_JOIN announced (should not happen): prepare it here.
          // Everything assigned and not yet prepared goes to onAssign in one call, so a stage can
          // rebuild all its new partitions with one read instead of one per partition.
          const fresh = [...this.assigned].filter(([key]) => !this.ready.has(key));
          if (!fresh.some(([key]) => key === k)) fresh.push([k, { topic: batch.topic, partition: batch.partition }]);
          if (opts.onAssign) await opts.onAssign(fresh.map(([, tp]) => tp));
          for (const [key] of fresh) this.ready.add(key);
        }
        const all = batch.messages;
        for (let i = 0; i < all.length && isRunning() && !isStale(); i += max) {
          const slice = all.slice(i, i + max);
          const records: InRecord[] = slice.map((m) => ({
            topic: batch.topic,
            partition: batch.partition,
            offset: m.offset,
            key: m.key,
            value: m.value,
            headers: headersIn(m.headers),
            timestamp: Number(m.timestamp),
          }));
          try {
            await opts.eachBatch({ topic: batch.topic, partition: batch.partition, records, highWatermark: batch.highWatermark });
          } catch (err) {
            opts.onError?.(err);
            throw err;
          }
          resolveOffset(slice[slice.length - 1].offset);
          if (this.options.autoCommit !== false) await commitOffsetsIfNecessary();
          await heartbeat();
        }
      },
    });
  }

  /**
   * Waits for the rebalance work (rebuilds can take a while), heartbeating meanwhile so the group
   * does not evict this member for silence; a rebalance announced by the heartbeat ends the wait
   * (kafkajs rejoins).
   */
  private async settle(heartbeat: () => Promise<void>): Promise<void> {
    let done = false;
    const prep = this.prep.then(() => {
      done = true;
    });
    while (!done) {
      await Promise.race([prep, new Promise((r) => setTimeout(r, 1000))]);
      if (!done) await heartbeat();
    }
  }

  async commit(offsets: RecordPosition[]): Promise<void> {
    await this.c.commitOffsets(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })));
  }

  async stop(): Promise<void> {
    // disconnect() waits for the running batch, commits resolved offsets and leaves the group.
    await this.c.disconnect();
    await this.prep;
    if (this.assigned.size > 0 && this.opts?.onRevoke) await this.opts.onRevoke(this.assignment());
    this.assigned.clear();
  }
}

export class KafkaTransport implements Transport {
  readonly kind = 'kafka' as const;
  private readonly kafka: Kafka;
  private admin: Admin | null = null;
  private readonly log: Logger;

  constructor(private readonly o: KafkaTransportOptions) {
    this.log = o.logger ?? silentLogger;
    const log = this.log.child({ component: 'kafkajs' });
    this.kafka = new Kafka({
      clientId: o.clientId,
      brokers: o.brokers,
      connectionTimeout: Math.min(o.connectTimeoutMs, 5000),
      requestTimeout: o.requestTimeoutMs,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 5000 },
      logLevel: KafkaLogLevel.WARN,
      logCreator: () => (entry: LogEntry) => {
        const { message, ...rest } = entry.log;
        // kafkajs logs every CONCURRENT_TRANSACTIONS answer at error level, though the coordinator
        // is only finishing the previous transaction and retryConcurrentTransactions retries it; a
        // retry that runs out surfaces as the stage's own error. Keep these at debug.
        if (typeof rest.error === 'string' && /another concurrent operation on the same transaction/.test(rest.error)) log.debug(message, rest);
        else if (entry.level <= KafkaLogLevel.ERROR) log.error(message, rest);
        else log.warn(message, rest);
      },
    });
  }

  async connect(): Promise<void> {
    const admin = this.kafka.admin({ retry: { retries: 1 } });
    try {
      await withTimeout(admin.connect(), this.o.connectTimeoutMs, `connecting to Kafka at ${this.o.brokers.join(',')}`);
      await withTimeout(admin.describeCluster(), this.o.connectTimeoutMs, 'describing the Kafka cluster');
    } catch (err) {
      await admin.disconnect().catch(() => undefined);
      throw new ConnectError(
        `cannot reach Kafka at ${this.o.brokers.join(',')}: ${(err as Error).message}. Is it running? (npm run infra:up starts one on 127.0.0.1:9092)`,
        { cause: err },
      );
    }
    this.admin = admin;
  }

  private requireAdmin(): Admin {
    if (!this.admin) throw new TransportError('transport not connected: call connect() first');
    return this.admin;
  }

  async close(): Promise<void> {
    await this.admin?.disconnect();
    this.admin = null;
  }

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    const admin = this.requireAdmin();
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.name));
    if (missing.length === 0) return;
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((s) => ({
          topic: s.name,
          numPartitions: s.partitions,
          replicationFactor: s.replicationFactor ?? -1,
          configEntries: Object.entries({ ...(s.cleanupPolicy ? { 'cleanup.policy': s.cleanupPolicy } : {}), ...(s.configs ?? {}) }).map(([name, value]) => ({ name, value })),
        })),
      });
    } catch (err) {
      // Another instance may have created them meanwhile, or they were created and the broker
      // that answered has not seen them yet (on a cluster, metadata reaches the brokers a moment
      // apart; kafkajs's waitForLeaders then fails with UNKNOWN_TOPIC_OR_PARTITION): fine once
      // they exist, waited for up to the request timeout.
      const end = Date.now() + this.o.requestTimeoutMs;
      for (;;) {
        const now = new Set(await admin.listTopics().catch(() => [] as string[]));
        if (missing.every((s) => now.has(s.name))) break;
        if (Date.now() > end) throw wrap('create topics', err);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  async listTopics(): Promise<string[]> {
    return (await this.requireAdmin().listTopics()).sort();
  }

  private readonly metadataCache = new Map<string, { at: number; partitions: Promise<PartitionMetadata[]> }>();

  /** A topic's partitions (for producers that assign partitions themselves), cached for a minute. */
  private partitionMetadata(topic: string): Promise<PartitionMetadata[]> {
    const hit = this.metadataCache.get(topic);
    if (hit && Date.now() - hit.at < 60_000) return hit.partitions;
    const partitions = this.requireAdmin()
      .fetchTopicMetadata({ topics: [topic] })
      .then((m) => {
        const ps = m.topics[0]?.partitions ?? [];
        if (ps.length === 0) throw new TransportError(`topic ${topic} has no partitions (does it exist?)`);
        return ps;
      });
    partitions.catch(() => this.metadataCache.delete(topic));
    this.metadataCache.set(topic, { at: Date.now(), partitions });
    return partitions;
  }

  async liveBrokers(): Promise<number> {
    const c = await this.requireAdmin().describeCluster().catch((err: unknown) => {
      throw wrap('describe cluster', err);
    });
    return c.brokers.length;
  }

  async describeTopics(topics: string[]): Promise<TopicInfo[]> {
    if (topics.length === 0) return [];
    const admin = this.requireAdmin();
    try {
      const meta = await admin.fetchTopicMetadata({ topics });
      const configs = await admin.describeConfigs({
        includeSynonyms: false,
        resources: topics.map((name) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name, configNames: ['min.insync.replicas'] })),
      });
      const minIsr = new Map(configs.resources.map((r) => [r.resourceName, r.configEntries.find((e) => e.configName === 'min.insync.replicas')?.configValue]));
      return meta.topics.map((t) => {
        const v = minIsr.get(t.name);
        return { name: t.name, partitions: t.partitions.length, replicationFactor: t.partitions[0]?.replicas.length ?? 0, minInsyncReplicas: v === undefined ? null : Number(v) };
      });
    } catch (err) {
      throw wrap('describe topics', err);
    }
  }

  async offsets(topic: string): Promise<{ partition: number; low: string; high: string }[]> {
    const r = await this.requireAdmin().fetchTopicOffsets(topic);
    return r.map((p) => ({ partition: p.partition, low: p.low, high: p.high })).sort((a, b) => a.partition - b.partition);
  }

  async producer(opts: ProducerOptions = {}): Promise<Producer> {
    const p = this.kafka.producer({
      // kafkajs's own default (Java-compatible murmur2, as murmur2.ts and librdkafka's murmur2_random),
      // named so kafkajs stops logging its v2 partitioner-change warning on every command, and
      // recording each record's partition for sendAll.
      createPartitioner: recordingPartitioner,
      idempotent: true,
      maxInFlightRequests: opts.transactionalId ? 1 : (this.o.maxInFlight ?? 1),
      ...(opts.transactionalId ? { transactionalId: opts.transactionalId, transactionTimeout: 60000 } : {}),
      // A transaction that starts right after the previous one committed often gets
      // CONCURRENT_TRANSACTIONS while the coordinator writes the markers; the Java client retries
      // that after 20 ms, kafkajs's default backoff would stall every small batch for ~300 ms.
      // 25 retries capped at 2 s: ~30 s in all, so a transaction rides out a broker failure (the
      // controller moves a dead broker's leaders and coordinators after broker.session.timeout.ms,
      // 9 s by default) instead of failing the stage; 12 (~5 s) did not (cluster failure tests).
      retry: opts.transactionalId ? { retries: 25, initialRetryTime: 20, multiplier: 1.5, factor: 0.2, maxRetryTime: 2000 } : { retries: 5, initialRetryTime: 100, maxRetryTime: 3000 },
    });
    try {
      await withTimeout(p.connect(), this.o.connectTimeoutMs, 'connecting the producer');
    } catch (err) {
      await p.disconnect().catch(() => undefined);
      throw new ConnectError(`producer cannot connect to ${this.o.brokers.join(',')}: ${(err as Error).message}`, { cause: err });
    }
    return new KafkaProducer(p, opts.transactionalId !== undefined, this.log, (topic) => this.partitionMetadata(topic));
  }

  async consumer(opts: ConsumerOptions): Promise<Consumer> {
    const c = this.kafka.consumer({
      groupId: opts.groupId,
      readUncommitted: opts.readCommitted === false,
      sessionTimeout: 10000,
      rebalanceTimeout: 20000,
      heartbeatInterval: 1000,
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
    });
    await withTimeout(c.connect(), this.o.connectTimeoutMs, 'connecting the consumer').catch((err: unknown) => {
      throw new ConnectError(`consumer cannot connect to ${this.o.brokers.join(',')}: ${(err as Error).message}`, { cause: err });
    });
    return new KafkaConsumer(c, opts);
  }

  async committed(groupId: string, topic: string): Promise<Map<number, string>> {
    const res = await this.requireAdmin().fetchOffsets({ groupId, topics: [topic] });
    const out = new Map<number, string>();
    for (const t of res) for (const p of t.partitions) if (p.offset !== '-1') out.set(p.partition, p.offset);
    return out;
  }

  async offsetsForTimes(topic: string, timestampMs: number, partitions?: number[]): Promise<Map<number, string>> {
    const r = await this.requireAdmin()
      .fetchTopicOffsetsByTimestamp(topic, timestampMs)
      .catch((err: unknown) => {
        throw wrap(`offsets for time of ${topic}`, err);
      });
    // kafkajs answers the partition's end where no record is that recent.
    return new Map(r.filter((p) => !partitions || partitions.includes(p.partition)).map((p) => [p.partition, p.offset]));
  }

  async readToEnd(topic: string, partitions?: number[], onRecords?: (records: InRecord[]) => void, until?: Map<number, string>, from?: Map<number, string>, timeoutMs = 120000): Promise<InRecord[]> {
    const all = await this.offsets(topic);
    const ends = all.filter((o) => !partitions || partitions.includes(o.partition));
    const remaining = new Map<number, bigint>();
    const starts = new Map<number, bigint>();
    for (const o of ends) {
      const end = until?.has(o.partition) ? BigInt(until.get(o.partition)!) : BigInt(o.high);
      const start = from?.has(o.partition) ? BigInt(from.get(o.partition)!) : BigInt(o.low);
      if (end > BigInt(o.low) && end > start) remaining.set(o.partition, end);
      if (start > BigInt(o.low)) starts.set(o.partition, start);
    }
    const out: InRecord[] = [];
    if (remaining.size === 0) return out;
    const c = this.kafka.consumer({ groupId: `${this.o.clientId}-reader-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 50, sessionTimeout: 10000 });
    await c.connect();
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const mark = (partition: number, lastOffset: string) => {
      const target = remaining.get(partition);
      if (target !== undefined && BigInt(lastOffset) + 1n >= target) {
        remaining.delete(partition);
        if (remaining.size === 0) finish();
      }
    };
    // Batches made only of transaction markers reach us through this event, not eachBatch.
    c.on(c.events.END_BATCH_PROCESS, (e) => {
      if (e.payload.topic === topic) mark(e.payload.partition, e.payload.lastOffset);
    });
    try {
      await c.subscribe({ topics: [topic], fromBeginning: true });
      await c.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          if (!remaining.has(batch.partition)) return;
          const target = remaining.get(batch.partition)!;
          const start = starts.get(batch.partition) ?? -1n;
          const recs: InRecord[] = [];
          for (const m of batch.messages) {
            if (BigInt(m.offset) < start) continue;
            if (BigInt(m.offset) >= target) break;
            recs.push({ topic, partition: batch.partition, offset: m.offset, key: m.key, value: m.value, headers: headersIn(m.headers), timestamp: Number(m.timestamp) });
          }
          if (onRecords) onRecords(recs);
          else out.push(...recs);
        },
      });
      // kafkajs has no assignment without a group: the reader holds every partition, so those not
      // read are paused and those read from an offset seek there (a seek after run() applies
      // before the first fetch; records before it are skipped above all the same).
      const idle = all.map((o) => o.partition).filter((p) => !remaining.has(p));
      if (idle.length > 0) c.pause([{ topic, partitions: idle }]);
      for (const [partition, offset] of starts) if (remaining.has(partition)) c.seek({ topic, partition, offset: String(offset) });
      await withTimeout(done, timeoutMs, `reading ${topic} to its end`);
    } finally {
      await c.disconnect().catch(() => undefined);
    }
    return out;
  }
}
