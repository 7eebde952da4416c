/**
 * The alert log: one tailing reader of the anomalies, incidents and rca topics per alerts server,
 * keeping the most recent events of each partition in memory. SSE streams are served from it
 * (replay from a cursor, then live), and the Alertmanager pusher folds every event into its state.
 *
 * The reader is a consumer in a group of its own that never commits: it reads every partition
 * from the first retained record on each start, so what it derives (the Alertmanager state, the
 * replay buffer) is rebuilt from the topics, as every Panoptes stage rebuilds its state. A record
 * that cannot be decoded is counted and skipped here: the stage that owns the topic dead-letters
 * it, and a reader that only looks would only add duplicates to the dead-letter topic.
 *
 * Why not on `runStage` (pipelines/core/stage.ts): that loop is one topic, one consumer group
 * whose offsets are committed with the outputs, records in, records out. This reader tails three
 * topics, must read each from its first retained record on every start (its state is rebuilt, not
 * resumed), commits nothing and produces nothing: none of runStage's guarantees apply, and its
 * record policy (dead-lettering) belongs to the stages that own these topics.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../pipelines/core/logger.ts';
import { silentLogger } from '../../pipelines/core/logger.ts';
import type { Serde } from '../../pipelines/core/serde.ts';
import { groupName, topicName } from '../../pipelines/core/topics.ts';
import type { Consumer, Transport } from '../../pipelines/core/transport/types.ts';
import { PanoptesError } from '../../pipelines/core/errors.ts';
import { tpKey, type Cursor, offsetAtLeast } from './cursor.ts';
import { ALERT_KINDS, EventBuilder, KIND_TOPIC, type AlertEvent, type AlertKind } from './events.ts';
import type { AlertsMetrics } from './metrics.ts';

export type EventListener = (e: AlertEvent) => void;

interface PartitionBuffer {
  events: AlertEvent[];
  /** Smallest offset whose event was evicted and not kept, or null when nothing was evicted. */
  evictedUpTo: string | null;
}

export interface AlertLogOptions {
  transport: Transport;
  serde: Serde;
  prefix: string;
  /** Events kept per partition for replay. */
  bufferPerPartition: number;
  log?: Logger;
  metrics?: AlertsMetrics;
}

export class AlertLog {
  private readonly buffers = new Map<string, PartitionBuffer>();
  /** Arrival order across partitions: what replays follow, so a resumed stream sees the same order. */
  private seq: { key: string; event: AlertEvent }[] = [];
  private readonly listeners = new Set<EventListener>();
  private readonly builder = new EventBuilder();
  private readonly log: Logger;
  private consumer: Consumer | null = null;
  private readonly physical = new Map<string, AlertKind>();
  private failed: unknown = null;

  constructor(private readonly o: AlertLogOptions) {
    this.log = o.log ?? silentLogger;
    for (const k of ALERT_KINDS) this.physical.set(topicName(KIND_TOPIC[k], o.prefix), k);
  }

  get healthy(): boolean {
    return this.failed === null;
  }

  /** Starts reading from the first retained record of every partition. */
  async start(): Promise<void> {
    const c = await this.o.transport.consumer({ groupId: groupName(`panoptes-alerts-log-${randomUUID()}`, this.o.prefix), fromBeginning: true, autoCommit: false, maxBatchSize: 500 });
    this.consumer = c;
    await c.subscribe([...this.physical.keys()]);
    await c.run({
      eachBatch: async (batch) => {
        const kind = this.physical.get(batch.topic)!;
        const logical = KIND_TOPIC[kind];
        for (const rec of batch.records) {
          let value: unknown;
          try {
            value = (await this.o.serde.decode(rec.topic, rec.value)).value;
          } catch (err) {
            if (err instanceof PanoptesError && err.code === 'PANOPTES_DECODE') {
              this.o.metrics?.decodeFailures.inc({ topic: logical });
              this.log.warn('alert record does not decode, skipped', { topic: rec.topic, partition: rec.partition, offset: rec.offset, err: err.message });
              continue;
            }
            throw err;
          }
          const event = this.builder.build(kind, value, { topic: logical, partition: rec.partition, offset: rec.offset }, rec.timestamp);
          this.append(event);
        }
        if (batch.records.length > 0) {
          const next = BigInt(batch.records[batch.records.length - 1].offset) + 1n;
          this.o.metrics?.logLag.set({ topic: logical, partition: String(batch.partition) }, Number(BigInt(batch.highWatermark) - next));
        }
      },
      onError: (err) => {
        this.failed = err;
        this.log.error('alert log reader failed', { err: err instanceof Error ? err.message : String(err) });
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    this.consumer = null;
  }

  /** Adds an event (also used by tests and by servers that feed the log themselves). */
  append(event: AlertEvent): void {
    const key = tpKey(event.source.topic, event.source.partition);
    let buf = this.buffers.get(key);
    if (!buf) {
      buf = { events: [], evictedUpTo: null };
      this.buffers.set(key, buf);
    }
    buf.events.push(event);
    this.seq.push({ key, event });
    if (buf.events.length > this.o.bufferPerPartition) {
      const dropped = buf.events.shift()!;
      buf.evictedUpTo = dropped.source.offset;
    }
    // The arrival-order index is compacted lazily: entries evicted from their partition buffer
    // are dropped once they make up half of it.
    const kept = [...this.buffers.values()].reduce((n, b) => n + b.events.length, 0);
    if (this.seq.length > 2 * kept + 1024) this.seq = this.seq.filter(({ key: k, event: e }) => this.isBuffered(k, e));
    this.o.metrics?.events.inc({ kind: event.kind });
    // One listener's failure (a record the Alertmanager state cannot use, say) never stops the
    // reader, and never keeps the event from the others.
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.o.metrics?.skipped.inc({ part: 'listener', reason: err instanceof PanoptesError ? err.code.replace(/^PANOPTES_/, '').toLowerCase() : 'error' });
        this.log.warn('an alert event listener failed; the event is skipped for it', { topic: event.source.topic, partition: event.source.partition, offset: event.source.offset, err: err instanceof Error ? err.message : String(err) });
      }
    }
  }

  private isBuffered(key: string, e: AlertEvent): boolean {
    const b = this.buffers.get(key);
    return !!b && b.events.length > 0 && offsetAtLeast(e.source.offset, b.events[0].source.offset);
  }

  /**
   * Calls `listener` for every buffered event at or after `from` (in arrival order), then for each
   * new event, until the returned function is called. `onGap` is told about partitions whose
   * wanted records were evicted from the buffer before the client came back.
   */
  follow(from: Cursor, listener: EventListener, onGap?: (topic: string, partition: number, wantedFrom: string, firstKept: string | null) => void): () => void {
    for (const [key, buf] of this.buffers) {
      const want = from.get(key) ?? '0';
      if (buf.evictedUpTo !== null && !offsetAtLeast(want, (BigInt(buf.evictedUpTo) + 1n).toString())) {
        const i = key.lastIndexOf(':');
        onGap?.(key.slice(0, i), Number(key.slice(i + 1)), want, buf.events[0]?.source.offset ?? null);
      }
    }
    // Live events are checked against the follower's position too: a follower that attaches while
    // the log is still reading history (just after a start) must not get what it already has.
    const pos = new Map(from);
    const gated: EventListener = (e) => {
      const key = tpKey(e.source.topic, e.source.partition);
      const want = pos.get(key);
      if (want !== undefined && !offsetAtLeast(e.source.offset, want)) return;
      pos.set(key, (BigInt(e.source.offset) + 1n).toString());
      listener(e);
    };
    for (const { key, event } of this.seq) if (this.isBuffered(key, event)) gated(event);
    this.listeners.add(gated);
    return () => this.listeners.delete(gated);
  }

  /** Listens to every event from now on (the Alertmanager pusher subscribes before start()). */
  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Where a client that asks for "from now" starts: the partitions' current end offsets in Kafka,
   * not the reader's position, so a client is never handed history the log is still catching up on.
   */
  async endCursor(): Promise<Cursor> {
    const c: Cursor = new Map();
    for (const [topic, kind] of this.physical) {
      for (const o of await this.o.transport.offsets(topic)) c.set(tpKey(KIND_TOPIC[kind], o.partition), o.high);
    }
    return c;
  }
}
