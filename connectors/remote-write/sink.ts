/**
 * Where decoded batches go. The receiver replies 204 only after `write` resolves, so a sink must
 * resolve only once every record is durably stored (for Kafka: acknowledged by all in-sync
 * replicas) and reject otherwise. `deadlineMs` is an absolute time (Date.now() clock): a sink
 * should not start work it cannot finish by then, and the receiver stops waiting at that time
 * and answers 503 whatever the sink is doing.
 */
import type { MetricBatch } from '../../pipelines/core/records.ts';

export interface MetricSink {
  readonly name: string;
  write(batches: MetricBatch[], deadlineMs: number): Promise<void>;
  /** Whether the sink can take writes now (for /healthz). */
  healthy(): boolean;
  close(): Promise<void>;
}

/** Accepts everything and keeps nothing: the receiver then measures decoding alone. */
export class NullSink implements MetricSink {
  readonly name = 'null';
  records = 0;
  async write(batches: MetricBatch[]): Promise<void> {
    this.records += batches.length;
  }
  healthy(): boolean {
    return true;
  }
  async close(): Promise<void> {}
}

/** Keeps every acknowledged batch in memory, in arrival order (tests, demos). */
export class MemorySink implements MetricSink {
  readonly name = 'memory';
  readonly batches: MetricBatch[] = [];
  /** While set, writes fail as an unreachable broker would (tests of the 503 path). */
  failWith: Error | null = null;
  /** While set, writes wait this long before completing (tests of the deadline). */
  delayMs = 0;

  async write(batches: MetricBatch[], deadlineMs: number): Promise<void> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failWith) throw this.failWith;
    // A write finishing after its deadline was already answered with 503: storing it would
    // duplicate what the client sends again.
    if (Date.now() > deadlineMs) return;
    for (const b of batches) this.batches.push(b);
  }
  healthy(): boolean {
    return this.failWith === null;
  }
  async close(): Promise<void> {}
}
