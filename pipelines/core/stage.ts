/**
 * The one consumer loop every consumer stage runs on: consume a batch → decode each record →
 * process it → produce the outputs together with the batch's input offsets, with the standard stage
 * metrics and readiness.
 *
 * Record policy (platformatic's `DeserializationErrorActions`, OTel's permanent errors): a record
 * that does not decode (`onDecodeFailure`) or that the stage cannot process (`onProcessFailure`:
 * `process` threw an error that retrying will not cure — a timestamp outside the date range, a
 * value the stage refuses, even a bug) is dead-lettered with the reason, counted, and the stage
 * goes on; its outputs are dropped. A poison record never stops a consumer group. Errors that
 * retrying can cure (`isRetriable`: Kafka or the registry unavailable) fail the batch instead:
 * nothing of it is committed, and the stage stops with the error so it can be restarted.
 *
 * Delivery:
 * - `exactly-once`: outputs, dead letters and the input offsets go in one transaction (readers use
 *   read_committed), so a crash publishes all of a batch or none of it;
 * - `at-least-once`: outputs and dead letters are acknowledged first, then the offsets committed.
 *
 * State: stages hold no durable state; `onAssign` rebuilds it from topics for the partitions
 * handed over. Readiness (`ready()`, `panoptes_stage_ready`, `/healthz` detail) is false until the
 * first assignment's rebuild is done and while any rebuild runs.
 *
 * Batches, `produce()` calls (e.g. a timer that resolves quiet incidents) and `exclusive()`
 * sections (state swaps) run one at a time.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { deadLetterRecord } from './dead-letter.ts';
import { DecodeError, describeError, isRetriable } from './errors.ts';
import { transportMetrics } from './metrics.ts';
import type { Runtime } from './runtime.ts';
import type { Batch, Consumer, InRecord, OutRecord, Producer } from './transport/types.ts';

export type Delivery = 'exactly-once' | 'at-least-once';

export interface StageOptions<In> {
  /** Stage name: the `stage` label of metrics, the dead-letter `stage` header, log context. */
  name: string;
  /** Input topic (full name, prefix included). */
  topic: string;
  /** Consumer group (full name, prefix included). */
  groupId: string;
  /** Stable per instance: part of the transactional id, so a restarted instance fences its former self. */
  instanceId: string;
  delivery: Delivery;
  maxBatchSize?: number;
  /** Where a group with no committed offset starts. Default true (the beginning). */
  fromBeginning?: boolean;
  /** Default: the serde's Confluent-framed Avro decode of the record's value. */
  decode?: (record: InRecord) => Promise<In>;
  /**
   * One record → its output records. Throw to refuse the record (it is dead-lettered with the
   * error's message) — unless the error is retriable, which fails the batch.
   */
  process(value: In, record: InRecord): OutRecord[] | Promise<OutRecord[]>;
  /** After a batch's records, before its commit: more outputs (e.g. what the batch's time resolved). */
  flush?(batch: Batch): OutRecord[] | Promise<OutRecord[]>;
  /** After a batch (its outputs and offsets) is committed. */
  committed?(info: { batch: Batch; outputs: OutRecord[]; values: In[]; deadLettered: number }): void;
  /** Rebuilds state for newly assigned partitions (readiness is false meanwhile). */
  onAssign?(partitions: number[]): Promise<void>;
  onRevoke?(partitions: number[]): Promise<void>;
  /**
   * How often the consumer lag of every assigned partition is refreshed from the cluster (end
   * offset − the group's committed offset), besides after each batch: a partition with nothing
   * new, or a stage that is stuck, still shows its true lag. Default 10 000 ms; 0 turns it off.
   */
  lagRefreshMs?: number;
}

export interface RunningStage {
  /** Resolves with the error when the stage stops on its own (a failed batch). */
  failed: Promise<unknown>;
  /** False until the first rebuild is done and while any rebuild runs. */
  ready(): boolean;
  /** For `/healthz`: ok unless failed; `ready` and the assigned partitions as detail. */
  health(): { ok: boolean; detail: Record<string, unknown> };
  /** Produces records outside a batch, serialised with batches (exactly-once: a transaction of its own). */
  produce(records: OutRecord[]): Promise<void>;
  /** Runs `fn` while no batch is in flight (state swaps). */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** Finishes the batch in flight, leaves the group, closes the producer. */
  stop(): Promise<void>;
}

export interface StageMetrics {
  records: Counter<'stage' | 'outcome'>;
  outputs: Counter<'stage'>;
  ready: Gauge<'stage'>;
  rebuild: Histogram<'stage'>;
  processing: Histogram<'stage'>;
}

function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/** The standard stage metrics (shared by every stage of a process, labelled by stage). */
export function stageMetrics(registry: Registry): StageMetrics {
  return {
    records: once(registry, 'panoptes_stage_records_total', () => new Counter({ name: 'panoptes_stage_records_total', help: 'Input records by outcome: processed, dead_letter (decode or process failure sent to the dead-letter topic), skipped (failure under the skip policy).', labelNames: ['stage', 'outcome'], registers: [registry] })),
    outputs: once(registry, 'panoptes_stage_output_records_total', () => new Counter({ name: 'panoptes_stage_output_records_total', help: 'Records a stage produced (committed), dead letters excluded.', labelNames: ['stage'], registers: [registry] })),
    ready: once(registry, 'panoptes_stage_ready', () => new Gauge({ name: 'panoptes_stage_ready', help: '1 when the stage is consuming; 0 while it rebuilds state from topics or before its first assignment.', labelNames: ['stage'], registers: [registry] })),
    rebuild: once(registry, 'panoptes_stage_rebuild_seconds', () => new Histogram({ name: 'panoptes_stage_rebuild_seconds', help: 'Time to rebuild state on a partition assignment.', labelNames: ['stage'], buckets: [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120], registers: [registry] })),
    processing: once(registry, 'panoptes_stage_batch_seconds', () => new Histogram({ name: 'panoptes_stage_batch_seconds', help: 'From a batch handed to the stage to its commit.', labelNames: ['stage'], buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry] })),
  };
}

/** Serialises async sections. */
export function mutex(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

export async function runStage<In>(rt: Runtime, o: StageOptions<In>): Promise<RunningStage> {
  const log = rt.log.child({ stage: o.name, instance: o.instanceId });
  const tm = transportMetrics(rt.metrics);
  const sm = stageMetrics(rt.metrics);
  const prefix = rt.config.topicPrefix;
  const decode = o.decode ?? (async (r: InRecord) => (await rt.serde.decode<In>(r.topic, r.value)).value);
  const exclusive = mutex();
  let assigned = new Set<number>();
  let rebuilding = 0;
  let firstAssignment = false;
  let failure: unknown = null;
  sm.ready.labels(o.name).set(0);
  const setReady = () => sm.ready.labels(o.name).set(rebuilding === 0 && firstAssignment ? 1 : 0);

  const producer: Producer = await rt.transport.producer(o.delivery === 'exactly-once' ? { transactionalId: `${o.groupId}.${o.instanceId}` } : {});
  let consumer: Consumer;
  try {
    consumer = await rt.transport.consumer({ groupId: o.groupId, fromBeginning: o.fromBeginning ?? true, autoCommit: false, readCommitted: true, maxBatchSize: o.maxBatchSize ?? 500 });
    await consumer.subscribe([o.topic]);
  } catch (err) {
    await producer.close().catch(() => undefined);
    throw err;
  }

  let fail!: (err: unknown) => void;
  const failed = new Promise<unknown>((resolve) => (fail = resolve));

  /** Sends records (and offsets) under the stage's delivery guarantee. */
  const deliver = async (records: OutRecord[], offsets?: { partition: number; offset: string }) => {
    if (o.delivery === 'exactly-once') {
      if (records.length === 0 && !offsets) return;
      const tx = await producer.transaction();
      try {
        if (records.length > 0) await tx.send(records);
        if (offsets) await tx.sendOffsets(o.groupId, [{ topic: o.topic, ...offsets }]);
        await tx.commit();
      } catch (err) {
        await tx.abort().catch(() => undefined);
        throw err;
      }
      return;
    }
    if (records.length > 0) await producer.send(records);
    if (offsets) await consumer.commit([{ topic: o.topic, ...offsets }]);
  };

  /** A failed record under the stage's policy: a dead letter to produce, null to skip, or throws (`fail`). */
  const refuse = (record: InRecord, err: unknown, kind: 'decode' | 'process'): OutRecord | null => {
    const policy = kind === 'decode' ? rt.config.onDecodeFailure : rt.config.onProcessFailure;
    if (policy === 'fail') throw err;
    tm.deadLetters.labels(record.topic, kind).inc();
    log.warn(kind === 'decode' ? 'record does not decode' : 'record refused by the stage', { partition: record.partition, offset: record.offset, policy, err: describeError(err) });
    if (policy === 'skip') {
      sm.records.labels(o.name, 'skipped').inc();
      return null;
    }
    sm.records.labels(o.name, 'dead_letter').inc();
    return deadLetterRecord(record, err, o.name, prefix, kind);
  };

  const handleBatch = async (b: Batch) => {
    const started = performance.now();
    const outputs: OutRecord[] = [];
    const dead: OutRecord[] = [];
    const values: In[] = [];
    for (const record of b.records) {
      let value: In;
      try {
        value = await decode(record);
      } catch (err) {
        // Only the record's own fault is dead-lettered: a registry that cannot be reached is not.
        if (!(err instanceof DecodeError)) throw err;
        const d = refuse(record, err, 'decode');
        if (d) dead.push(d);
        continue;
      }
      try {
        const out = await o.process(value, record);
        for (const r of out) outputs.push(r);
        values.push(value);
        sm.records.labels(o.name, 'processed').inc();
      } catch (err) {
        if (isRetriable(err)) throw err;
        const d = refuse(record, err, 'process');
        if (d) dead.push(d);
      }
    }
    if (o.flush) for (const r of await o.flush(b)) outputs.push(r);
    const next = String(BigInt(b.records[b.records.length - 1]!.offset) + 1n);
    await deliver([...outputs, ...dead], { partition: b.partition, offset: next });
    tm.consumed.labels(b.topic, o.groupId).inc(b.records.length);
    for (const r of outputs) tm.produced.labels(r.topic).inc();
    sm.outputs.labels(o.name).inc(outputs.length);
    tm.lag.labels(b.topic, String(b.partition), o.groupId).set(Math.max(0, Number(BigInt(b.highWatermark) - BigInt(next))));
    const secs = (performance.now() - started) / 1000;
    tm.batchLatency.labels(b.topic, o.groupId).observe(secs);
    sm.processing.labels(o.name).observe(secs);
    o.committed?.({ batch: b, outputs, values, deadLettered: dead.length });
  };

  await consumer.run({
    onAssign: (partitions) =>
      exclusive(async () => {
        const ids = partitions.map((p) => p.partition);
        rebuilding++;
        setReady();
        const t0 = performance.now();
        try {
          await o.onAssign?.(ids);
        } finally {
          rebuilding--;
          firstAssignment = true;
          for (const p of ids) assigned.add(p);
          setReady();
        }
        sm.rebuild.labels(o.name).observe((performance.now() - t0) / 1000);
        log.info('partitions assigned', { partitions: ids, rebuildMs: Math.round(performance.now() - t0) });
      }),
    onRevoke: async (partitions) => {
      const ids = partitions.map((p) => p.partition);
      assigned = new Set([...assigned].filter((p) => !ids.includes(p)));
      for (const p of ids) tm.lag.remove(o.topic, String(p), o.groupId);
      await o.onRevoke?.(ids);
      log.info('partitions revoked', { partitions: ids });
    },
    onError: (err) => {
      failure = err;
      tm.errors.labels(o.name).inc();
      sm.ready.labels(o.name).set(0);
      log.error('batch failed; stopping (committed batches are safe)', { err });
      fail(err);
    },
    eachBatch: (b) => exclusive(() => handleBatch(b)),
  });

  // Lag from the cluster for every assigned partition, also those without batches.
  const lagTimer = (o.lagRefreshMs ?? 10_000) > 0
    ? setInterval(() => {
        if (assigned.size === 0) return;
        void Promise.all([rt.transport.offsets(o.topic), rt.transport.committed(o.groupId, o.topic)])
          .then(([ends, committed]) => {
            for (const e of ends) {
              if (!assigned.has(e.partition)) continue;
              const from = BigInt(committed.get(e.partition) ?? e.low);
              tm.lag.labels(o.topic, String(e.partition), o.groupId).set(Math.max(0, Number(BigInt(e.high) - from)));
            }
          })
          .catch((err: unknown) => log.debug('lag refresh failed', { err: describeError(err) }));
      }, o.lagRefreshMs ?? 10_000)
    : null;
  lagTimer?.unref?.();

  return {
    failed,
    ready: () => failure === null && rebuilding === 0 && firstAssignment,
    health: () => ({ ok: failure === null, detail: { stage: o.name, ready: failure === null && rebuilding === 0 && firstAssignment, partitions: [...assigned].sort((a, b) => a - b), ...(failure ? { error: describeError(failure) } : {}) } }),
    produce: (records) => exclusive(() => deliver(records)),
    exclusive,
    async stop() {
      if (lagTimer) clearInterval(lagTimer);
      await consumer.stop();
      await exclusive(async () => undefined);
      await producer.close();
      sm.ready.labels(o.name).set(0);
    },
  };
}
