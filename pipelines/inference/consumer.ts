/**
 * The Kafka interface of the inference pool: a consumer group on `inference.requests` that
 * produces one record per request to `inference.results`, keyed by the request id.
 *
 * Delivery is at-least-once:
 * - every record of a batch is handed to the pool at once (the pool batches only what is in
 *   flight together, so awaiting records one by one would run batches of one) and the handler
 *   returns without waiting for the results, so the next fetch overlaps the running requests;
 * - results are produced as they complete (coalesced while a produce is in flight);
 * - a partition's offset is committed only up to the first record whose result (or dead letter)
 *   the broker has not acknowledged yet (`OffsetTracker`), so a crash re-delivers exactly the
 *   records that may not have been answered. A re-delivered request is answered again, with the
 *   same requestId: readers de-duplicate by it. Its deadline is absolute, so a request that
 *   waited past it is answered `rejected` at once.
 * Why not exactly-once transactions (as `detect`): a transaction per batch holds every result
 * back from read_committed readers until the whole batch is done, and adds a commit round trip to
 * requests whose budget is tens of milliseconds.
 *
 * Records that do not decode go to the dead-letter topic (config `onDecodeFailure`). Records that
 * decode but ask for an unknown model or carry a wrong tensor are answered with status `error`
 * (PANOPTES_NOT_FOUND / PANOPTES_INPUT). A produce that fails after the client's retries stops the
 * stage (`failed` resolves) without committing the records it carried.
 */
import { deadLetterRecord } from '../core/dead-letter.ts';
import { PanoptesError, describeError } from '../core/errors.ts';
import { transportMetrics } from '../core/metrics.ts';
import type { Runtime } from '../core/runtime.ts';
import { groupName, topicName } from '../core/topics.ts';
import type { Consumer, InRecord, OutRecord, Producer } from '../core/transport/types.ts';
import { inferenceKafkaMetrics } from './kafka-metrics.ts';
import { OffsetTracker, type Ticket } from './offsets.ts';
import { expireResult } from './records.ts';
import type { InferenceRequestRecord, InferenceResultRecord } from './records.ts';

/** What the stage needs of the pool (InferencePool implements it; tests may pass a fake). */
export interface RequestHandler {
  handle(record: InferenceRequestRecord): Promise<InferenceResultRecord>;
}

export interface InferenceStageOptions {
  /** Consumer group (prefixed like topics). */
  groupId?: string;
  /** Records taken from Kafka and not yet answered; the fetch loop waits above it. */
  maxInFlight?: number;
  /** Records handed to one handler call. */
  maxBatchSize?: number;
  /** How long `stop` waits for in-flight requests before leaving them to be re-delivered. */
  drainTimeoutMs?: number;
  /**
   * Least time between two offset commits while running (stop and revoke commit at once). A
   * commit per produced result would be one broker round trip per flush, and librdkafka's commit
   * blocks the thread the controller runs on; a crash re-delivers at most this much more.
   */
  commitIntervalMs?: number;
  /** Called for each acknowledged result (tests, `--json` output). */
  onResult?: (r: InferenceResultRecord) => void;
}

export interface RunningInferenceStage {
  /** Stops taking records, answers those in flight, commits, leaves the group. */
  stop(): Promise<void>;
  /** Resolves with the error when the stage stops on its own (a produce or handler failure). */
  failed: Promise<unknown>;
  inFlight(): number;
}

interface Outgoing {
  record: OutRecord;
  ticket: Ticket;
  status: InferenceResultRecord['status'] | 'dead-letter';
  sentAtMs: number;
  deadlineMs: number | null;
}

export const DEFAULT_INFERENCE_GROUP = 'panoptes-inference';

export async function startInferenceStage(rt: Runtime, pool: RequestHandler, opts: InferenceStageOptions = {}): Promise<RunningInferenceStage> {
  const prefix = rt.config.topicPrefix;
  const groupId = groupName(opts.groupId ?? DEFAULT_INFERENCE_GROUP, prefix);
  const requestsTopic = topicName('inferenceRequests', prefix);
  const resultsTopic = topicName('inferenceResults', prefix);
  const maxInFlight = opts.maxInFlight ?? 2000;
  const drainTimeoutMs = opts.drainTimeoutMs ?? 10_000;
  const commitIntervalMs = opts.commitIntervalMs ?? 200;
  const log = rt.log.child({ stage: 'inference', group: groupId });
  const tm = transportMetrics(rt.metrics);
  const km = inferenceKafkaMetrics(rt.metrics);
  const tracker = new OffsetTracker();

  let stopping = false;
  /** Set once stop() closed the producer: late results are dropped, their records stay uncommitted. */
  let closed = false;
  let fail!: (err: unknown) => void;
  let hasFailed = false;
  const failed = new Promise<unknown>((resolve) => (fail = resolve));
  const stageFailed = (err: unknown, what: string) => {
    if (hasFailed) return;
    hasFailed = true;
    stopping = true;
    log.error(`${what}; the inference stage stops (offsets of unanswered records stay uncommitted)`, { err });
    fail(err);
    wakeWaiters();
  };

  // Waiters for "in flight went down" (backpressure, drain).
  let waiters: (() => void)[] = [];
  const wakeWaiters = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  const nextChange = () => new Promise<void>((resolve) => waiters.push(resolve));

  const producer: Producer = await rt.transport.producer();
  const consumer: Consumer = await rt.transport.consumer({ groupId, fromBeginning: true, autoCommit: false, readCommitted: true, maxBatchSize: opts.maxBatchSize ?? 500 });

  // ---- commits: serialized, coalesced, failed positions retried with the next one.
  const toCommit = new Map<number, number>();
  let committing: Promise<void> | null = null;
  const commit = (): Promise<void> => {
    for (const { partition, offset } of tracker.committable()) toCommit.set(partition, offset);
    if (committing) return committing.then(() => (toCommit.size > 0 ? commit() : undefined));
    if (toCommit.size === 0) return Promise.resolve();
    const positions = [...toCommit].map(([partition, offset]) => ({ topic: requestsTopic, partition, offset: String(offset) }));
    toCommit.clear();
    committing = consumer
      .commit(positions)
      .then(() => void km.commits.inc({ outcome: 'ok' }))
      .catch((err: unknown) => {
        // Not fatal: the positions are retried with the next commit; at worst (a rebalance took
        // the partition) the new owner answers those records again.
        km.commits.inc({ outcome: 'failed' });
        tm.errors.inc({ op: 'inference-commit' });
        log.warn('offset commit failed; retried with the next one', { err, positions });
        for (const p of positions) if (!toCommit.has(p.partition)) toCommit.set(p.partition, Number(p.offset));
        scheduleCommit();
      })
      .finally(() => (committing = null));
    return committing;
  };

  let commitTimer: NodeJS.Timeout | undefined;
  let lastCommitAt = 0;
  const scheduleCommit = (): void => {
    if (commitTimer !== undefined || closed) return;
    commitTimer = setTimeout(() => {
      commitTimer = undefined;
      lastCommitAt = Date.now();
      void commit();
    }, Math.max(0, lastCommitAt + commitIntervalMs - Date.now()));
  };
  const commitNow = (): Promise<void> => {
    clearTimeout(commitTimer);
    commitTimer = undefined;
    lastCommitAt = Date.now();
    return commit();
  };

  // ---- results: one produce in flight, everything finished meanwhile goes in the next one.
  let queue: Outgoing[] = [];
  let sending: Promise<void> | null = null;
  const flush = (): void => {
    if (sending || queue.length === 0 || hasFailed || closed) return;
    const out = queue;
    queue = [];
    const started = performance.now();
    sending = producer
      .send(out.map((o) => o.record))
      .then(() => {
        const now = Date.now();
        tm.produceLatency.labels(resultsTopic).observe((performance.now() - started) / 1000);
        for (const o of out) {
          tracker.done(o.ticket);
          if (o.status === 'dead-letter') {
            tm.produced.labels(o.record.topic).inc();
            continue;
          }
          tm.produced.labels(resultsTopic).inc();
          tm.producedBytes.labels(resultsTopic).inc(o.record.value?.length ?? 0);
          km.results.inc({ status: o.status });
          if (o.sentAtMs > 0) km.endToEnd.observe({ status: o.status }, Math.max(0, now - o.sentAtMs) / 1000);
          if (o.status === 'ok' && o.deadlineMs !== null && now > o.deadlineMs) km.afterDeadline.inc();
        }
        km.inFlight.set(tracker.inFlight);
        wakeWaiters();
        scheduleCommit();
      })
      .catch((err: unknown) => {
        tm.errors.inc({ op: 'inference-produce' });
        stageFailed(err, `producing ${out.length} result(s) to ${resultsTopic} failed`);
      })
      .finally(() => {
        sending = null;
        flush();
      });
  };
  const enqueue = (o: Outgoing) => {
    queue.push(o);
    flush();
  };

  const answer = (ticket: Ticket, req: InferenceRequestRecord, result: InferenceResultRecord) => {
    // Past its deadline, a result is a rejection record, never a late answer.
    result = expireResult(result, Date.now());
    let value: Buffer;
    try {
      value = rt.serde.encode(resultsTopic, result);
    } catch (err) {
      // A result the schema refuses is a bug, but the request still gets exactly one answer.
      log.error('result does not encode; answering with an error', { requestId: result.requestId, err });
      result = { ...result, status: 'error', outputs: [], error: `PANOPTES_INTERNAL: result does not encode: ${describeError(err)}` };
      value = rt.serde.encode(resultsTopic, result);
    }
    opts.onResult?.(result);
    enqueue({ record: { topic: resultsTopic, key: result.requestId, value }, ticket, status: result.status, sentAtMs: Number(req.sentAtMs ?? 0), deadlineMs: req.deadlineMs === null ? null : Number(req.deadlineMs) });
  };

  const decode = async (rec: InRecord): Promise<{ ok: true; value: InferenceRequestRecord } | { ok: false; err: PanoptesError }> => {
    try {
      return { ok: true, value: (await rt.serde.decode<InferenceRequestRecord>(requestsTopic, rec.value)).value };
    } catch (err) {
      // Only the record's own fault is dead-lettered; a registry that cannot be reached is not.
      if (err instanceof PanoptesError && err.code === 'PANOPTES_DECODE') return { ok: false, err };
      throw err;
    }
  };

  const waitDrained = async (partitions: number[] | null, timeoutMs: number): Promise<boolean> => {
    const end = Date.now() + timeoutMs;
    const busy = () => (partitions ? partitions.some((p) => tracker.inFlightOf(p) > 0) : tracker.inFlight > 0) || queue.length > 0 || sending !== null;
    while (busy() && !hasFailed) {
      const left = end - Date.now();
      if (left <= 0) return false;
      await Promise.race([nextChange(), new Promise((r) => setTimeout(r, Math.min(left, 50)))]);
    }
    return !busy();
  };

  await consumer.subscribe([requestsTopic]);
  await consumer.run({
    onAssign: async (partitions) => {
      for (const { partition } of partitions) tracker.reset(partition);
      log.info('partitions assigned', { partitions: partitions.map((p) => p.partition) });
    },
    onRevoke: async (partitions) => {
      const ids = partitions.map((p) => p.partition);
      // On a rebalance, answer and commit what is in flight before the partition moves (the
      // embedded transport waits for this; kafkajs calls it after the fact, so the commit may be
      // refused and the new owner answers those records again). On stop, stop() drained already.
      if (!stopping) {
        await waitDrained(ids, drainTimeoutMs);
        await commitNow();
      }
      for (const p of ids) {
        tracker.reset(p);
        // No longer ours to commit: a retry would fail for good.
        toCommit.delete(p);
      }
      km.inFlight.set(tracker.inFlight);
      log.info('partitions revoked', { partitions: ids });
    },
    onError: (err) => {
      tm.errors.inc({ op: 'inference-consume' });
      stageFailed(err, 'the request consumer failed');
    },
    eachBatch: async (b) => {
      // While stopping, fetched records are neither answered nor committed: they stay for the next owner.
      if (stopping || b.records.length === 0) return;
      const started = performance.now();
      tm.consumed.labels(b.topic, groupId).inc(b.records.length);
      tm.consumedBytes.labels(b.topic, groupId).inc(b.records.reduce((n, r) => n + (r.value?.length ?? 0), 0));
      const tickets = b.records.map((r) => tracker.add(r.partition, Number(r.offset)));
      km.inFlight.set(tracker.inFlight);
      for (let i = 0; i < b.records.length; i++) {
        const rec = b.records[i]!;
        const ticket = tickets[i]!;
        const decoded = await decode(rec);
        if (!decoded.ok) {
          tm.deadLetters.labels(rec.topic, 'decode').inc();
          log.warn('undecodable inference request', { partition: rec.partition, offset: rec.offset, err: decoded.err });
          const policy = rt.config.onDecodeFailure;
          if (policy === 'fail') throw decoded.err;
          if (policy === 'skip') {
            tracker.done(ticket);
            continue;
          }
          enqueue({ record: deadLetterRecord(rec, decoded.err, 'inference', prefix), ticket, status: 'dead-letter', sentAtMs: 0, deadlineMs: null });
          continue;
        }
        const req = decoded.value;
        // handle() never throws; the catch keeps a bug from leaving a record unanswered.
        pool
          .handle(req)
          .catch((err: unknown): InferenceResultRecord => ({ requestId: req.id, model: req.model, status: 'error', outputs: [], error: `PANOPTES_INTERNAL: ${describeError(err)}`, queueMs: 0, batchWaitMs: 0, execMs: 0, totalMs: 0, batchSize: 0 }))
          .then((result) => answer(ticket, req, result));
      }
      tm.lag.labels(b.topic, String(b.partition), groupId).set(Math.max(0, Number(b.highWatermark) - Number(b.records[b.records.length - 1]!.offset) - 1));
      tm.batchLatency.labels(b.topic, groupId).observe((performance.now() - started) / 1000);
      // Backpressure: hold the fetch loop while too much is in flight (records wait in Kafka).
      while (tracker.inFlight >= maxInFlight && !stopping) await nextChange();
    },
  });
  log.info('inference Kafka interface running', { requests: requestsTopic, results: resultsTopic, maxInFlight });

  let stopped: Promise<void> | null = null;
  return {
    failed,
    inFlight: () => tracker.inFlight,
    stop() {
      stopped ??= (async () => {
        stopping = true;
        wakeWaiters();
        const drained = await waitDrained(null, drainTimeoutMs);
        if (!drained) log.warn('stopping with requests still unanswered; they will be delivered again', { inFlight: tracker.inFlight });
        await commitNow();
        // From here on, late results are dropped: their records stay uncommitted and come back.
        closed = true;
        clearTimeout(commitTimer);
        await consumer.stop();
        await sending;
        await producer.close();
        log.info('inference Kafka interface stopped', { unanswered: tracker.inFlight });
      })();
      return stopped;
    },
  };
}
