/**
 * In-process transport: topics with partitions and offsets, consumer groups with committed
 * offsets and rebalancing, transactions whose records and offsets become visible atomically.
 * Everything lives in one `EmbeddedBroker`; several transports sharing a broker behave like
 * several processes sharing a cluster (that is how the contract tests run two group members).
 * Nothing is persisted: the embedded mode is for `npm start`, demos and tests on Node alone.
 */
import { EventEmitter } from 'node:events';
import { NotFoundError, TransportError } from '../errors.ts';
import { partitionForKey } from './murmur2.ts';
import type {
  Batch, Consumer, ConsumerOptions, Headers, InRecord, OutRecord, Producer, ProducerOptions,
  RecordPosition, RunOptions, TopicInfo, TopicPartition, TopicSpec, Transaction, Transport,
} from './types.ts';

interface StoredRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: Headers;
  timestamp: number;
}

interface Topic {
  spec: TopicSpec;
  partitions: StoredRecord[][];
  roundRobin: number;
}

interface GroupMember {
  id: string;
  topics: Set<string>;
  /** Called with the new assignment; resolves once the member has revoked and re-assigned. */
  rebalance(assignment: TopicPartition[]): Promise<void>;
}

interface Group {
  members: Map<string, GroupMember>;
  committed: Map<string, number>;
  rebalancing: Promise<void>;
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class EmbeddedBroker {
  readonly topics = new Map<string, Topic>();
  readonly groups = new Map<string, Group>();
  readonly events = new EventEmitter();
  private readonly txEpochs = new Map<string, number>();
  private memberSeq = 0;

  constructor() {
    this.events.setMaxListeners(0);
  }

  createTopic(spec: TopicSpec): void {
    if (this.topics.has(spec.name)) return;
    if (!Number.isInteger(spec.partitions) || spec.partitions < 1) throw new TransportError(`topic ${spec.name}: partitions must be a positive integer, got ${spec.partitions}`);
    this.topics.set(spec.name, { spec, partitions: Array.from({ length: spec.partitions }, () => []), roundRobin: 0 });
  }

  topic(name: string): Topic {
    const t = this.topics.get(name);
    if (!t) throw new NotFoundError(`topic "${name}" does not exist (topics are created at start by ensureTopics)`);
    return t;
  }

  /** Appends records; all-or-nothing: every topic is checked before anything is written. */
  append(records: OutRecord[]): RecordPosition[] {
    const placed = records.map((r) => {
      const t = this.topic(r.topic);
      const key = r.key === undefined || r.key === null ? null : Buffer.isBuffer(r.key) ? r.key : Buffer.from(r.key);
      let partition: number;
      if (r.partition !== undefined) {
        if (r.partition < 0 || r.partition >= t.partitions.length) throw new TransportError(`topic ${r.topic} has no partition ${r.partition}`);
        partition = r.partition;
      } else if (key) partition = partitionForKey(key, t.partitions.length);
      else partition = t.roundRobin++ % t.partitions.length;
      return { t, key, partition, r };
    });
    const out: RecordPosition[] = [];
    for (const { t, key, partition, r } of placed) {
      const log = t.partitions[partition];
      log.push({ key, value: r.value, headers: { ...(r.headers ?? {}) }, timestamp: r.timestamp ?? Date.now() });
      out.push({ topic: r.topic, partition, offset: String(log.length - 1) });
    }
    if (out.length > 0) this.events.emit('data');
    return out;
  }

  group(id: string): Group {
    let g = this.groups.get(id);
    if (!g) {
      g = { members: new Map(), committed: new Map(), rebalancing: Promise.resolve() };
      this.groups.set(id, g);
    }
    return g;
  }

  commit(groupId: string, offsets: RecordPosition[]): void {
    const g = this.group(groupId);
    for (const o of offsets) g.committed.set(tpKey(o.topic, o.partition), Number(o.offset));
  }

  committed(groupId: string, topic: string, partition: number): number | undefined {
    return this.group(groupId).committed.get(tpKey(topic, partition));
  }

  nextMemberId(): string {
    return `member-${++this.memberSeq}`;
  }

  /** Round-robin assignment over every member's subscribed partitions, in a stable order. */
  assign(g: Group): Map<string, TopicPartition[]> {
    const members = [...g.members.values()].sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
    const result = new Map<string, TopicPartition[]>(members.map((m) => [m.id, []]));
    const topics = [...new Set(members.flatMap((m) => [...m.topics]))].sort();
    for (const topic of topics) {
      const t = this.topics.get(topic);
      if (!t) continue;
      const subscribers = members.filter((m) => m.topics.has(topic));
      for (let p = 0; p < t.partitions.length; p++) {
        result.get(subscribers[p % subscribers.length].id)!.push({ topic, partition: p });
      }
    }
    return result;
  }

  /** Serialized per group: each member revokes, then receives its new partitions. */
  rebalance(groupId: string): Promise<void> {
    const g = this.group(groupId);
    const next = g.rebalancing.then(async () => {
      const plan = this.assign(g);
      await Promise.all([...g.members.values()].map((m) => m.rebalance(plan.get(m.id) ?? [])));
    });
    g.rebalancing = next.catch(() => undefined);
    return next;
  }

  /** Transactional ids are fenced as in Kafka: a newer producer with the same id wins. */
  bumpEpoch(transactionalId: string): number {
    const e = (this.txEpochs.get(transactionalId) ?? 0) + 1;
    this.txEpochs.set(transactionalId, e);
    return e;
  }

  epoch(transactionalId: string): number {
    return this.txEpochs.get(transactionalId) ?? 0;
  }
}

/** The broker `npm start` and in-process tests share unless they pass their own. */
export const defaultBroker = new EmbeddedBroker();

class EmbeddedProducer implements Producer {
  private closed = false;
  private readonly epoch: number;
  constructor(private readonly broker: EmbeddedBroker, private readonly transactionalId?: string) {
    this.epoch = transactionalId ? broker.bumpEpoch(transactionalId) : 0;
  }

  private check(): void {
    if (this.closed) throw new TransportError('producer is closed');
    if (this.transactionalId && this.broker.epoch(this.transactionalId) !== this.epoch) {
      throw new TransportError(`producer with transactional id ${this.transactionalId} was fenced by a newer instance`);
    }
  }

  async send(records: OutRecord[]): Promise<RecordPosition[]> {
    this.check();
    if (this.transactionalId) throw new TransportError('a transactional producer sends inside transaction()');
    return this.broker.append(records);
  }

  async transaction(): Promise<Transaction> {
    this.check();
    if (!this.transactionalId) throw new TransportError('transaction() needs a producer created with a transactionalId');
    const pending: OutRecord[] = [];
    const offsets: { groupId: string; offsets: RecordPosition[] }[] = [];
    let done = false;
    const open = () => {
      if (done) throw new TransportError('transaction already committed or aborted');
      this.check();
    };
    return {
      send: async (records) => {
        open();
        for (const r of records) this.broker.topic(r.topic); // fail early on unknown topics
        pending.push(...records);
      },
      sendOffsets: async (groupId, o) => {
        open();
        offsets.push({ groupId, offsets: o });
      },
      commit: async () => {
        open();
        done = true;
        // One synchronous step: readers see all of the transaction or none of it.
        this.broker.append(pending);
        for (const o of offsets) this.broker.commit(o.groupId, o.offsets);
      },
      abort: async () => {
        done = true;
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

class EmbeddedConsumer implements Consumer {
  private readonly memberId: string;
  private topics = new Set<string>();
  private assigned: TopicPartition[] = [];
  private positions = new Map<string, number>();
  private running = false;
  private stopping = false;
  private joined = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private inFlight: Promise<void> = Promise.resolve();
  private opts: RunOptions | null = null;
  private rr = 0;

  constructor(private readonly broker: EmbeddedBroker, private readonly options: ConsumerOptions) {
    this.memberId = broker.nextMemberId();
  }

  async subscribe(topics: string[]): Promise<void> {
    for (const t of topics) this.broker.topic(t);
    for (const t of topics) this.topics.add(t);
  }

  assignment(): TopicPartition[] {
    return [...this.assigned];
  }

  private startPosition(tp: TopicPartition): number {
    const c = this.broker.committed(this.options.groupId, tp.topic, tp.partition);
    if (c !== undefined) return c;
    return this.options.fromBeginning ? 0 : this.broker.topic(tp.topic).partitions[tp.partition].length;
  }

  private async onRebalance(next: TopicPartition[]): Promise<void> {
    // Let the batch in progress finish (and commit) before partitions move.
    await this.inFlight;
    if (this.assigned.length > 0 && this.opts?.onRevoke) await this.opts.onRevoke(this.assigned);
    this.assigned = next;
    this.positions = new Map(next.map((tp) => [tpKey(tp.topic, tp.partition), this.startPosition(tp)]));
    if (next.length > 0 && this.opts?.onAssign) await this.opts.onAssign(next);
    this.wake?.();
  }

  async run(opts: RunOptions): Promise<void> {
    if (this.running) throw new TransportError('consumer is already running');
    if (this.topics.size === 0) throw new TransportError('subscribe() before run()');
    this.opts = opts;
    this.running = true;
    const group = this.broker.group(this.options.groupId);
    group.members.set(this.memberId, { id: this.memberId, topics: this.topics, rebalance: (a) => this.onRebalance(a) });
    this.joined = true;
    await this.broker.rebalance(this.options.groupId);
    const onData = () => this.wake?.();
    this.broker.events.on('data', onData);
    this.loop = this.fetchLoop().finally(() => this.broker.events.off('data', onData));
  }

  private nextBatch(): Batch | null {
    const n = this.assigned.length;
    for (let i = 0; i < n; i++) {
      const tp = this.assigned[(this.rr + i) % n];
      const log = this.broker.topic(tp.topic).partitions[tp.partition];
      const pos = this.positions.get(tpKey(tp.topic, tp.partition)) ?? 0;
      if (pos < log.length) {
        this.rr = (this.rr + i + 1) % n;
        const end = Math.min(log.length, pos + (this.options.maxBatchSize ?? 500));
        const records: InRecord[] = [];
        for (let o = pos; o < end; o++) {
          const r = log[o];
          records.push({ topic: tp.topic, partition: tp.partition, offset: String(o), key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp });
        }
        return { topic: tp.topic, partition: tp.partition, records, highWatermark: String(log.length) };
      }
    }
    return null;
  }

  private async fetchLoop(): Promise<void> {
    while (!this.stopping) {
      const batch = this.nextBatch();
      if (!batch) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          // A bounded wait keeps a lost wake-up from stalling the loop.
          setTimeout(resolve, 200).unref();
        });
        this.wake = null;
        continue;
      }
      const k = tpKey(batch.topic, batch.partition);
      const work = (async () => {
        await this.opts!.eachBatch(batch);
        // Only advance if the partition is still ours (a rebalance may have run meanwhile).
        if (!this.positions.has(k)) return;
        const next = Number(batch.records[batch.records.length - 1].offset) + 1;
        this.positions.set(k, next);
        if (this.options.autoCommit !== false) this.broker.commit(this.options.groupId, [{ topic: batch.topic, partition: batch.partition, offset: String(next) }]);
      })();
      this.inFlight = work.catch(() => undefined);
      try {
        await work;
      } catch (err) {
        this.stopping = true;
        this.opts!.onError?.(err);
        break;
      }
    }
  }

  async commit(offsets: RecordPosition[]): Promise<void> {
    this.broker.commit(this.options.groupId, offsets);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    if (this.joined) {
      this.joined = false;
      if (this.assigned.length > 0 && this.opts?.onRevoke) await this.opts.onRevoke(this.assigned);
      this.assigned = [];
      this.positions.clear();
      this.broker.group(this.options.groupId).members.delete(this.memberId);
      await this.broker.rebalance(this.options.groupId);
    }
    this.running = false;
  }
}

export class EmbeddedTransport implements Transport {
  readonly kind = 'embedded' as const;
  constructor(readonly broker: EmbeddedBroker = defaultBroker) {}

  async connect(): Promise<void> {}
  async close(): Promise<void> {}

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    for (const s of specs) this.broker.createTopic(s);
  }

  async listTopics(): Promise<string[]> {
    return [...this.broker.topics.keys()].sort();
  }

  async liveBrokers(): Promise<number> {
    return 1;
  }

  async describeTopics(topics: string[]): Promise<TopicInfo[]> {
    return topics.map((name) => ({ name, partitions: this.broker.topic(name).partitions.length, replicationFactor: 1, minInsyncReplicas: 1 }));
  }

  async offsets(topic: string): Promise<{ partition: number; low: string; high: string }[]> {
    return this.broker.topic(topic).partitions.map((log, partition) => ({ partition, low: '0', high: String(log.length) }));
  }

  async producer(opts: ProducerOptions = {}): Promise<Producer> {
    return new EmbeddedProducer(this.broker, opts.transactionalId);
  }

  async consumer(opts: ConsumerOptions): Promise<Consumer> {
    if (!opts.groupId) throw new TransportError('consumer needs a groupId');
    return new EmbeddedConsumer(this.broker, opts);
  }

  async readToEnd(topic: string, partitions?: number[], onRecords?: (records: InRecord[]) => void, until?: Map<number, string>, from?: Map<number, string>): Promise<InRecord[]> {
    const t = this.broker.topic(topic);
    const ps = partitions ?? t.partitions.map((_, i) => i);
    const out: InRecord[] = [];
    for (const p of ps) {
      const log = t.partitions[p];
      if (!log) throw new TransportError(`topic ${topic} has no partition ${p}`);
      const end = Math.min(log.length, until?.has(p) ? Number(until.get(p)) : log.length);
      const recs: InRecord[] = [];
      for (let o = from?.has(p) ? Math.max(0, Number(from.get(p))) : 0; o < end; o++) {
        const r = log[o];
        recs.push({ topic, partition: p, offset: String(o), key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp });
      }
      if (onRecords) onRecords(recs);
      else out.push(...recs);
    }
    return out;
  }

  async offsetsForTimes(topic: string, timestampMs: number, partitions?: number[]): Promise<Map<number, string>> {
    const t = this.broker.topic(topic);
    const out = new Map<number, string>();
    for (const p of partitions ?? t.partitions.map((_, i) => i)) {
      const log = t.partitions[p];
      if (!log) throw new TransportError(`topic ${topic} has no partition ${p}`);
      let o = 0;
      while (o < log.length && log[o].timestamp < timestampMs) o++;
      out.set(p, String(o));
    }
    return out;
  }

  async committed(groupId: string, topic: string): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    this.broker.topic(topic).partitions.forEach((_, p) => {
      const c = this.broker.committed(groupId, topic, p);
      if (c !== undefined) out.set(p, String(c));
    });
    return out;
  }
}
