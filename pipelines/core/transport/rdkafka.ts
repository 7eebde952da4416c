/**
 * The transport over real brokers with librdkafka (@confluentinc/kafka-javascript, native API):
 * the same contract as kafka.ts at a fraction of kafkajs's CPU per record. Idempotent producers
 * (acks=all, Java-compatible murmur2 partitioning), transactions with offsets committed inside them,
 * read_committed consumers whose partitions are assigned only after onAssign resolved.
 * The native module is loaded in connect(), never at import.
 */
import { randomUUID } from 'node:crypto';
import { ConnectError, TimeoutError, TransportError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { silentLogger } from '../logger.ts';
import { loadRdKafka } from './rdkafka-load.ts';
import type * as RK from './rdkafka-native.ts';
import type {
  Batch, Consumer, ConsumerOptions, Headers, InRecord, OutRecord, Producer, ProducerOptions, RecordPosition,
  RunOptions, TopicInfo, TopicPartition, TopicSpec, Transaction, Transport,
} from './types.ts';

export interface RdKafkaTransportOptions {
  brokers: string[];
  clientId: string;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  logger?: Logger;
}

// librdkafka error codes this file reacts to (rdkafka.h).
const ERR_QUEUE_FULL = -184;
const ERR_ASSIGN = -175;
const ERR_REVOKE = -174;
const ERR_TOPIC_ALREADY_EXISTS = 36;
const OFFSET_BEGINNING = -2;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Adapts a node-style callback API to a promise. */
function call<T = void>(fn: (cb: (err: RK.LibrdKafkaError | null | undefined, v?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    try {
      fn((err, v) => (err ? reject(err) : resolve(v as T)));
    } catch (err) {
      reject(err);
    }
  });
}

function wrap(op: string, err: unknown): TransportError {
  if (err instanceof TransportError) return err;
  const e = err as { message?: string; isRetriable?: boolean; retriable?: boolean };
  return new TransportError(`${op} failed: ${e?.message ?? String(err)}`, { cause: err, retriable: e?.isRetriable === true || e?.retriable === true });
}

function headersOut(h?: Headers): RK.MessageHeader[] | undefined {
  if (!h) return undefined;
  const out: RK.MessageHeader[] = [];
  for (const [k, v] of Object.entries(h)) out.push({ [k]: v });
  return out.length > 0 ? out : undefined;
}

function headersIn(h: RK.MessageHeader[] | undefined): Headers {
  const out: Headers = {};
  if (!h) return out;
  // Later headers of the same name win, as in kafka.ts.
  for (const one of h) for (const [k, v] of Object.entries(one)) out[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  return out;
}

function toInRecord(m: RK.Message): InRecord {
  return {
    topic: m.topic,
    partition: m.partition,
    offset: String(m.offset),
    key: m.key === undefined || m.key === null ? null : Buffer.isBuffer(m.key) ? m.key : Buffer.from(m.key),
    value: m.value,
    headers: headersIn(m.headers),
    timestamp: m.timestamp ?? -1,
  };
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** One send() call: resolved once every one of its records is acknowledged. */
class PendingSend {
  remaining: number;
  readonly positions = new Map<string, RecordPosition>();
  failed: unknown = null;
  readonly done: Promise<RecordPosition[]>;
  private resolve!: (p: RecordPosition[]) => void;
  private reject!: (e: unknown) => void;

  constructor(count: number) {
    this.remaining = count;
    this.done = new Promise((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
  }

  ack(err: unknown, r: RK.DeliveryReport | undefined): void {
    if (err) this.failed ??= err;
    else if (r) {
      // Like kafka.ts, one position per partition: its lowest offset in this send.
      const k = tpKey(r.topic, r.partition);
      const prev = this.positions.get(k);
      if (!prev || Number(prev.offset) > r.offset) this.positions.set(k, { topic: r.topic, partition: r.partition, offset: String(r.offset) });
    }
    if (--this.remaining === 0) this.settle();
  }

  /** Records that never reached librdkafka's queue count as failed. */
  abandon(count: number, err: unknown): void {
    this.failed ??= err;
    this.remaining -= count;
    if (this.remaining === 0) this.settle();
  }

  private settle(): void {
    if (this.failed) this.reject(wrap('produce', this.failed));
    else this.resolve([...this.positions.values()]);
  }
}

class RdProducer implements Producer {
  private closed = false;

  constructor(private readonly p: RK.Producer, private readonly transactional: boolean, private readonly t: RdKafkaTransport, private readonly requestTimeoutMs: number) {
    p.on('delivery-report', (err, report) => (report?.opaque as PendingSend | undefined)?.ack(err, report));
  }

  /** Queues records; librdkafka batches, retries (idempotently) and reports each delivery. */
  private async enqueue(records: OutRecord[]): Promise<RecordPosition[]> {
    const pending = new PendingSend(records.length);
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      for (;;) {
        try {
          this.p.produce(r.topic, r.partition ?? null, r.value, r.key ?? null, r.timestamp ?? null, pending, headersOut(r.headers));
          break;
        } catch (err) {
          if ((err as { code?: number }).code === ERR_QUEUE_FULL && !this.closed) {
            // The local queue drains as deliveries complete; wait instead of failing.
            await new Promise((res) => setTimeout(res, 2));
            continue;
          }
          pending.abandon(records.length - i, err);
          return pending.done;
        }
      }
    }
    return pending.done;
  }

  async send(records: OutRecord[]): Promise<RecordPosition[]> {
    if (this.transactional) throw new TransportError('a transactional producer sends inside transaction()');
    if (records.length === 0) return [];
    return this.enqueue(records);
  }

  async transaction(): Promise<Transaction> {
    if (!this.transactional) throw new TransportError('transaction() needs a producer created with a transactionalId');
    await call((cb) => this.p.beginTransaction(cb)).catch((err: unknown) => {
      throw wrap('begin transaction', err);
    });
    const timeout = this.requestTimeoutMs;
    return {
      send: async (records) => {
        if (records.length === 0) return;
        await this.enqueue(records).catch((err: unknown) => {
          throw wrap('transactional produce', err);
        });
      },
      sendOffsets: async (groupId, offsets) => {
        const consumer = this.t.groupMember(groupId);
        if (!consumer) throw new TransportError(`send offsets to transaction failed: librdkafka needs a running consumer of group ${groupId} from this transport (for its group generation); none is open`);
        await call((cb) => this.p.sendOffsetsToTransaction(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: Number(o.offset) })), consumer, timeout, cb)).catch((err: unknown) => {
          throw wrap('send offsets to transaction', err);
        });
      },
      commit: async () => {
        await call((cb) => this.p.commitTransaction(timeout, cb)).catch((err: unknown) => {
          throw wrap('commit transaction', err);
        });
      },
      abort: async () => {
        await call((cb) => this.p.abortTransaction(timeout, cb)).catch((err: unknown) => {
          throw wrap('abort transaction', err);
        });
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // disconnect() flushes what is queued first.
    await withTimeout(call((cb) => this.p.disconnect(this.requestTimeoutMs, (err) => cb(err))), this.requestTimeoutMs + 5000, 'closing the producer').catch(() => undefined);
  }
}

type RebalanceEvent = { code: number; partitions: RK.TopicPartition[] };

class RdConsumer implements Consumer {
  private topics: string[] = [];
  private assigned = new Map<string, TopicPartition>();
  private events: RebalanceEvent[] = [];
  private opts: RunOptions | null = null;
  private running = false;
  private stopping = false;
  private loopDone: Promise<void> = Promise.resolve();
  /** Next offsets of batches handled but not yet committed (autoCommit). */
  private uncommitted = new Map<string, RK.TopicPartitionOffset>();
  /** Revocations during stop(): the loop is gone, so they are handled as they arrive. */
  private lateRevoke: Promise<void> = Promise.resolve();

  readonly c: RK.KafkaConsumer;

  constructor(mod: RK.RdKafkaModule, conf: RK.Config, topicConf: RK.Config, private readonly options: ConsumerOptions, private readonly onClose: () => void) {
    this.c = new mod.KafkaConsumer({
      ...conf,
      // Our callback delays assign() until onAssign resolved, so no batch precedes it.
      rebalance_cb: (err: RK.LibrdKafkaError, partitions: RK.TopicPartition[]) => this.onRebalance(err.code, partitions),
    }, topicConf);
  }

  private onRebalance(code: number, partitions: RK.TopicPartition[]): void {
    if (this.running && !this.stopping) {
      this.events.push({ code, partitions });
      return;
    }
    const next = this.lateRevoke.then(() => this.applyRebalance({ code, partitions }));
    this.lateRevoke = next.catch((err: unknown) => this.opts?.onError?.(err));
  }

  private async applyRebalance(e: RebalanceEvent): Promise<void> {
    if (e.code === ERR_ASSIGN) {
      if (this.stopping) {
        // Closing: librdkafka still wants the assignment taken, but it is revoked at once.
        this.c.assign(e.partitions);
        return;
      }
      const tps = e.partitions.map((p) => ({ topic: p.topic, partition: p.partition }));
      if (this.opts?.onAssign && tps.length > 0) await this.opts.onAssign(tps);
      for (const tp of tps) this.assigned.set(tpKey(tp.topic, tp.partition), tp);
      this.c.assign(e.partitions);
    } else if (e.code === ERR_REVOKE) {
      const revoked = [...this.assigned.values()];
      try {
        this.commitPending(true);
      } finally {
        this.assigned.clear();
        try {
          if (revoked.length > 0 && this.opts?.onRevoke) await this.opts.onRevoke(revoked);
        } finally {
          this.c.unassign();
        }
      }
    } else {
      // Any other code is a failed rebalance: librdkafka expects the assignment dropped.
      this.assigned.clear();
      this.c.unassign();
    }
  }

  /** Commits what handled batches reached; synchronous when partitions are about to move. */
  private commitPending(sync: boolean): void {
    if (this.uncommitted.size === 0) return;
    const offsets = [...this.uncommitted.values()];
    this.uncommitted.clear();
    try {
      if (sync) this.c.commitSync(offsets);
      else this.c.commit(offsets);
    } catch (err) {
      throw wrap('commit offsets', err);
    }
  }

  async subscribe(topics: string[]): Promise<void> {
    this.topics.push(...topics);
    try {
      this.c.subscribe(this.topics);
    } catch (err) {
      throw wrap('subscribe', err);
    }
  }

  assignment(): TopicPartition[] {
    return [...this.assigned.values()];
  }

  async run(opts: RunOptions): Promise<void> {
    this.opts = opts;
    this.running = true;
    this.c.setDefaultConsumeTimeout(100);
    // The 100 ms wait is for the first record only: by default librdkafka waits up to it for each
    // record until the batch is full, holding records that are already here (ms to s per batch).
    this.c.setDefaultIsTimeoutOnlyForFirstMessage(true);
    this.loopDone = this.loop(opts).catch((err: unknown) => {
      this.running = false;
      opts.onError?.(err);
    });
  }

  private consume(max: number): Promise<RK.Message[]> {
    return new Promise((resolve, reject) => this.c.consume(max, (err, msgs) => (err ? reject(err) : resolve(msgs ?? []))));
  }

  private async loop(opts: RunOptions): Promise<void> {
    const max = this.options.maxBatchSize ?? 1000;
    const autoCommit = this.options.autoCommit !== false;
    while (this.running) {
      while (this.events.length > 0) await this.applyRebalance(this.events.shift()!);
      let msgs: RK.Message[];
      try {
        msgs = await this.consume(max);
      } catch (err) {
        // Timeouts and transient broker errors surface here; librdkafka recovers by itself.
        const e = err as { code?: number; isFatal?: boolean };
        if (e.isFatal) throw wrap('consume', err);
        // Not a hot loop while, say, a subscribed topic does not exist yet.
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      while (this.events.length > 0) await this.applyRebalance(this.events.shift()!);
      if (msgs.length === 0) continue;
      // librdkafka hands records of several partitions at once; handlers get one partition each.
      const byPartition = new Map<string, RK.Message[]>();
      for (const m of msgs) {
        const k = tpKey(m.topic, m.partition);
        if (!this.assigned.has(k)) continue;
        const l = byPartition.get(k);
        if (l) l.push(m);
        else byPartition.set(k, [m]);
      }
      for (const [k, list] of byPartition) {
        if (!this.running) break;
        if (!this.assigned.has(k)) continue;
        const last = list[list.length - 1];
        const batch: Batch = { topic: last.topic, partition: last.partition, records: list.map(toInRecord), highWatermark: this.highWatermark(last) };
        try {
          await opts.eachBatch(batch);
        } catch (err) {
          this.running = false;
          opts.onError?.(err);
          return;
        }
        if (autoCommit) this.uncommitted.set(k, { topic: last.topic, partition: last.partition, offset: last.offset + 1 });
      }
      if (autoCommit) this.commitPending(false);
    }
  }

  private highWatermark(last: RK.Message): string {
    try {
      // Cached from the last fetch response: no request.
      const high = this.c.getWatermarkOffsets(last.topic, last.partition).highOffset;
      return String(Math.max(high, last.offset + 1));
    } catch {
      return String(last.offset + 1);
    }
  }

  async commit(offsets: RecordPosition[]): Promise<void> {
    try {
      this.c.commitSync(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: Number(o.offset) })));
    } catch (err) {
      throw wrap('commit offsets', err);
    }
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.running = false;
    await this.loopDone;
    this.stopping = true;
    // Revocations queued while the loop ran are replayed now, then close() revokes the rest.
    for (const e of this.events.splice(0)) await this.applyRebalance(e).catch((err: unknown) => this.opts?.onError?.(err));
    try {
      this.commitPending(true);
    } catch (err) {
      this.opts?.onError?.(err);
    }
    await withTimeout(call((cb) => this.c.disconnect((err) => cb(err))), 30000, 'closing the consumer').catch(() => undefined);
    await this.lateRevoke;
    if (this.assigned.size > 0 && this.opts?.onRevoke) await this.opts.onRevoke(this.assignment());
    this.assigned.clear();
    this.onClose();
  }
}

export class RdKafkaTransport implements Transport {
  readonly kind = 'kafka' as const;
  private mod: RK.RdKafkaModule | null = null;
  private admin: RK.AdminClient | null = null;
  private readonly log: Logger;
  /** Live consumers per group: librdkafka's sendOffsetsToTransaction needs one for the group's generation. */
  private readonly members = new Map<string, Set<RdConsumer>>();

  constructor(private readonly o: RdKafkaTransportOptions) {
    this.log = o.logger ?? silentLogger;
  }

  private base(): RK.Config {
    return {
      'bootstrap.servers': this.o.brokers.join(','),
      'client.id': this.o.clientId,
      'socket.timeout.ms': this.o.requestTimeoutMs,
      // librdkafka's log lines go to our logger instead of stderr.
      event_cb: true,
      log_level: 4,
    };
  }

  private attachLog<T extends { on(ev: string, fn: (...a: never[]) => void): unknown }>(client: T): T {
    const log = this.log.child({ component: 'librdkafka' });
    client.on('event.log', ((e: { severity: number; fac: string; message: string }) => {
      if (e.severity <= 3) log.error(e.message, { fac: e.fac });
      else log.warn(e.message, { fac: e.fac });
    }) as never);
    client.on('event.error', ((e: Error) => log.warn(e.message)) as never);
    return client;
  }

  async connect(): Promise<void> {
    const where = this.o.brokers.join(',');
    const mod = await loadRdKafka();
    const admin = mod.AdminClient.create(this.base());
    try {
      await withTimeout(call<string[]>((cb) => admin.listTopics({ timeout: this.o.connectTimeoutMs }, cb)), this.o.connectTimeoutMs + 1000, `connecting to Kafka at ${where}`);
    } catch (err) {
      admin.disconnect();
      throw new ConnectError(`cannot reach Kafka at ${where}: ${(err as Error).message}. Is it running? (npm run infra:up starts one on 127.0.0.1:9092)`, { cause: err });
    }
    this.mod = mod;
    this.admin = admin;
  }

  private require(): { mod: RK.RdKafkaModule; admin: RK.AdminClient } {
    if (!this.mod || !this.admin) throw new TransportError('transport not connected: call connect() first');
    return { mod: this.mod, admin: this.admin };
  }

  async close(): Promise<void> {
    this.admin?.disconnect();
    this.admin = null;
  }

  groupMember(groupId: string): RK.KafkaConsumer | undefined {
    const set = this.members.get(groupId);
    if (!set) return undefined;
    for (const c of set) return c.c;
    return undefined;
  }

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    const { admin } = this.require();
    const existing = new Set(await this.listTopics());
    const missing = specs.filter((s) => !existing.has(s.name));
    if (missing.length === 0) return;
    await Promise.all(missing.map(async (s) => {
      const config: Record<string, string> = { ...(s.cleanupPolicy ? { 'cleanup.policy': s.cleanupPolicy } : {}), ...(s.configs ?? {}) };
      try {
        await call((cb) => admin.createTopic({ topic: s.name, num_partitions: s.partitions, replication_factor: s.replicationFactor ?? -1, config }, this.o.requestTimeoutMs, cb));
      } catch (err) {
        // Another instance may have created it meanwhile: fine.
        if ((err as { code?: number }).code !== ERR_TOPIC_ALREADY_EXISTS) throw wrap(`create topic ${s.name}`, err);
      }
    }));
    await this.waitForLeaders(missing.map((s) => s.name));
  }

  /** CreateTopics returns before partitions have leaders; offsets() and produce need them. */
  private async waitForLeaders(topics: string[]): Promise<void> {
    const { admin } = this.require();
    const end = Date.now() + this.o.requestTimeoutMs;
    for (;;) {
      const desc = await call<RK.TopicDescription[]>((cb) => admin.describeTopics(topics, { timeout: this.o.requestTimeoutMs }, cb)).catch(() => null);
      if (desc && desc.every((d) => !d.error && d.partitions.length > 0 && d.partitions.every((p) => p.leader))) return;
      if (Date.now() > end) throw new TimeoutError(`topics ${topics.join(', ')} have no leaders after ${this.o.requestTimeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async liveBrokers(): Promise<number> {
    // The native admin client has no describeCluster: a producer client's metadata lists the brokers.
    const { mod } = this.require();
    const p = this.attachLog(new mod.Producer(this.base(), {}));
    await this.connectClient(p, 'metadata client');
    try {
      const md = await call<RK.Metadata>((cb) => p.getMetadata({ allTopics: false, timeout: this.o.requestTimeoutMs }, cb)).catch((err: unknown) => {
        throw wrap('describe cluster', err);
      });
      return md.brokers.length;
    } finally {
      await call((cb) => p.disconnect((err) => cb(err))).catch(() => undefined);
    }
  }

  async describeTopics(topics: string[]): Promise<TopicInfo[]> {
    if (topics.length === 0) return [];
    const { admin } = this.require();
    const desc = await call<RK.TopicDescription[]>((cb) => admin.describeTopics(topics, { timeout: this.o.requestTimeoutMs }, cb)).catch((err: unknown) => {
      throw wrap('describe topics', err);
    });
    const bad = desc.find((d) => d.error);
    if (bad) throw wrap(`describe topic ${bad.name}`, bad.error);
    // librdkafka's native admin API cannot read topic configs here: min.insync.replicas unknown.
    return desc.map((d) => ({ name: d.name, partitions: d.partitions.length, replicationFactor: d.partitions[0]?.replicas?.length ?? 0, minInsyncReplicas: null }));
  }

  async listTopics(): Promise<string[]> {
    const { admin } = this.require();
    const topics = await call<string[]>((cb) => admin.listTopics({ timeout: this.o.requestTimeoutMs }, cb)).catch((err: unknown) => {
      throw wrap('list topics', err);
    });
    return topics.sort();
  }

  private async partitionsOf(topic: string): Promise<number[]> {
    const { admin } = this.require();
    const [d] = await call<RK.TopicDescription[]>((cb) => admin.describeTopics([topic], { timeout: this.o.requestTimeoutMs }, cb)).catch((err: unknown) => {
      throw wrap(`describe topic ${topic}`, err);
    });
    if (d.error) throw wrap(`describe topic ${topic}`, d.error);
    return d.partitions.map((p) => p.partition).sort((a, b) => a - b);
  }

  async offsets(topic: string): Promise<{ partition: number; low: string; high: string }[]> {
    const { mod, admin } = this.require();
    const parts = await this.partitionsOf(topic);
    const list = (spec: RK.OffsetSpec) =>
      call<RK.ListOffsetsResult[]>((cb) =>
        admin.listOffsets(parts.map((partition) => ({ topic, partition, offset: spec })), { timeout: this.o.requestTimeoutMs, isolationLevel: mod.IsolationLevel.READ_COMMITTED }, cb),
      ).catch((err: unknown) => {
        throw wrap(`list offsets of ${topic}`, err);
      });
    const [lows, highs] = await Promise.all([list(mod.OffsetSpec.EARLIEST), list(mod.OffsetSpec.LATEST)]);
    const high = new Map(highs.map((r) => [r.partition, r.offset]));
    return lows.map((r) => ({ partition: r.partition, low: String(r.offset), high: String(high.get(r.partition) ?? r.offset) })).sort((a, b) => a.partition - b.partition);
  }

  private connectClient(client: RK.Producer | RK.KafkaConsumer, what: string): Promise<void> {
    const where = this.o.brokers.join(',');
    return withTimeout(call((cb) => client.connect({ timeout: this.o.connectTimeoutMs }, (err) => cb(err as RK.LibrdKafkaError | null))), this.o.connectTimeoutMs + 1000, `connecting the ${what}`).catch(
      (err: unknown) => {
        throw new ConnectError(`${what} cannot connect to ${where}: ${(err as Error).message}`, { cause: err });
      },
    );
  }

  async producer(opts: ProducerOptions = {}): Promise<Producer> {
    const { mod } = this.require();
    const p = this.attachLog(new mod.Producer({
      ...this.base(),
      dr_cb: true,
      'enable.idempotence': true,
      'linger.ms': 5,
      'queue.buffering.max.messages': 1_000_000,
      ...(opts.transactionalId ? { 'transactional.id': opts.transactionalId, 'transaction.timeout.ms': 60000 } : {}),
    }, {
      acks: -1,
      // Keys hash with murmur2 like Java's (and kafkajs's) default partitioner.
      partitioner: 'murmur2_random',
      // librdkafka refuses a message timeout above the transaction timeout.
      'message.timeout.ms': opts.transactionalId ? 60000 : (opts.deliveryTimeoutMs ?? Math.max(this.o.requestTimeoutMs * 2, 60000)),
    }));
    await this.connectClient(p, 'producer');
    // Delivery reports are dispatched from librdkafka's thread: no JS poll timer.
    p.setPollInBackground(true);
    if (opts.transactionalId) {
      try {
        await call((cb) => p.initTransactions(this.o.requestTimeoutMs, cb));
      } catch (err) {
        await call((cb) => p.disconnect((err) => cb(err))).catch(() => undefined);
        throw wrap('init transactions', err);
      }
    }
    return new RdProducer(p, opts.transactionalId !== undefined, this, this.o.requestTimeoutMs);
  }

  async consumer(opts: ConsumerOptions): Promise<Consumer> {
    const { mod } = this.require();
    let set = this.members.get(opts.groupId);
    const c: RdConsumer = new RdConsumer(mod, {
      ...this.base(),
      'group.id': opts.groupId,
      'enable.auto.commit': false,
      'isolation.level': opts.readCommitted === false ? 'read_uncommitted' : 'read_committed',
      'session.timeout.ms': 10000,
      'heartbeat.interval.ms': 1000,
      'fetch.wait.max.ms': 100,
      'allow.auto.create.topics': false,
    }, { 'auto.offset.reset': opts.fromBeginning ? 'earliest' : 'latest' }, opts, () => set?.delete(c));
    this.attachLog(c.c);
    await this.connectClient(c.c, 'consumer');
    if (!set) this.members.set(opts.groupId, (set = new Set()));
    set.add(c);
    return c;
  }

  async committed(groupId: string, topic: string): Promise<Map<number, string>> {
    const { admin } = this.require();
    const parts = await this.partitionsOf(topic);
    const res = await call<RK.GroupResults[]>((cb) =>
      admin.listConsumerGroupOffsets([{ groupId, partitions: parts.map((partition) => ({ topic, partition })) }], { timeout: this.o.requestTimeoutMs, requireStableOffsets: true }, cb),
    ).catch((err: unknown) => {
      throw wrap(`committed offsets of ${groupId}`, err);
    });
    const out = new Map<number, string>();
    for (const g of res) for (const p of g.partitions) if (p.topic === topic && p.offset >= 0) out.set(p.partition, String(p.offset));
    return out;
  }

  async offsetsForTimes(topic: string, timestampMs: number, partitions?: number[]): Promise<Map<number, string>> {
    const { mod, admin } = this.require();
    const parts = (await this.partitionsOf(topic)).filter((p) => !partitions || partitions.includes(p));
    const found = await call<RK.ListOffsetsResult[]>((cb) =>
      admin.listOffsets(parts.map((partition) => ({ topic, partition, offset: new mod.OffsetSpec(timestampMs) })), { timeout: this.o.requestTimeoutMs, isolationLevel: mod.IsolationLevel.READ_COMMITTED }, cb),
    ).catch((err: unknown) => {
      throw wrap(`offsets for time of ${topic}`, err);
    });
    // -1: no record that recent; the answer is then the partition's end.
    const high = found.some((r) => r.offset < 0) ? new Map((await this.offsets(topic)).map((o) => [o.partition, o.high])) : new Map<number, string>();
    return new Map(found.map((r) => [r.partition, r.offset < 0 ? high.get(r.partition)! : String(r.offset)]));
  }

  async readToEnd(topic: string, partitions?: number[], onRecords?: (records: InRecord[]) => void, until?: Map<number, string>, from?: Map<number, string>, timeoutMs = 120000): Promise<InRecord[]> {
    const { mod } = this.require();
    const ends = (await this.offsets(topic)).filter((o) => !partitions || partitions.includes(o.partition));
    const remaining = new Map<number, number>();
    const starts = new Map<number, number>();
    for (const o of ends) {
      const end = until?.has(o.partition) ? Number(until.get(o.partition)) : Number(o.high);
      const start = from?.has(o.partition) ? Number(from.get(o.partition)) : Number(o.low);
      if (end > Number(o.low) && end > start) remaining.set(o.partition, end);
      if (start > Number(o.low)) starts.set(o.partition, start);
    }
    const out: InRecord[] = [];
    if (remaining.size === 0) return out;
    // assign() without subscribe: no group is joined, the random group id is never registered.
    const c = this.attachLog(new mod.KafkaConsumer({
      ...this.base(),
      'group.id': `${this.o.clientId}-reader-${randomUUID()}`,
      'enable.auto.commit': false,
      'isolation.level': 'read_committed',
      'enable.partition.eof': true,
      'fetch.wait.max.ms': 50,
    }, {}));
    await this.connectClient(c, 'reader');
    const deadline = Date.now() + timeoutMs;
    try {
      // Partitions whose last offsets are transaction markers end by EOF, not by a record.
      // They are emitted before consume()'s callback, so they are applied after its records.
      const eofs: RK.EofEvent[] = [];
      c.on('partition.eof', (e) => void eofs.push(e));
      c.assign([...remaining.keys()].map((partition) => ({ topic, partition, offset: starts.get(partition) ?? OFFSET_BEGINNING })));
      c.setDefaultConsumeTimeout(100);
      while (remaining.size > 0) {
        if (Date.now() > deadline) throw new TimeoutError(`reading ${topic} to its end did not finish within ${timeoutMs} ms`);
        const msgs = await new Promise<RK.Message[]>((resolve, reject) => c.consume(5000, (err, m) => (err ? reject(wrap(`read ${topic}`, err)) : resolve(m ?? []))));
        const recs: InRecord[] = [];
        for (const m of msgs) {
          const target = remaining.get(m.partition);
          if (target === undefined) continue;
          if (m.offset < target) recs.push(toInRecord(m));
          if (m.offset + 1 >= target) remaining.delete(m.partition);
        }
        for (const e of eofs.splice(0)) {
          const target = remaining.get(e.partition);
          if (e.topic === topic && target !== undefined && e.offset >= target) remaining.delete(e.partition);
        }
        if (recs.length === 0) continue;
        if (onRecords) onRecords(recs);
        else for (const r of recs) out.push(r);
      }
    } finally {
      await withTimeout(call((cb) => c.disconnect((err) => cb(err))), 10000, 'closing the reader').catch(() => undefined);
    }
    return out;
  }
}
