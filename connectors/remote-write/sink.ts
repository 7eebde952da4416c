/**
 * Where a request's records go. The receiver replies 204 only after `write` resolves, so a sink
 * must resolve only once every record is durably stored (for Kafka: acknowledged by all in-sync
 * replicas) and reject otherwise. `deadlineMs` is an absolute time (Date.now() clock): a sink
 * should not start work it cannot finish by then, and the receiver stops waiting at that time
 * and answers 503 whatever the sink is doing. A rejection with an InputError means the records
 * can never be stored (too large for the topic, say): the client gets 400, not an endless 503.
 */
import type { MetricBatch, Sample } from '../../pipelines/core/records.ts';
import { valueOf, type EncodedRequest } from './wire/write-request.ts';

export interface MetricSink {
  readonly name: string;
  /** The registry id of the MetricBatch schema the records are framed with. */
  readonly schemaId: number;
  write(req: EncodedRequest, deadlineMs: number): Promise<void>;
  /** Whether the sink can take writes now (for /healthz). */
  healthy(): boolean;
  close(): Promise<void>;
}

/** Accepts everything and keeps nothing: the receiver then measures decoding alone. */
export class NullSink implements MetricSink {
  readonly name = 'null';
  readonly schemaId = 0;
  records = 0;
  async write(req: EncodedRequest): Promise<void> {
    this.records += req.records;
  }
  healthy(): boolean {
    return true;
  }
  async close(): Promise<void> {}
}

/**
 * The MetricBatch records of an encoded request as plain objects (tests, demos; not a hot path).
 * A small reader of exactly the schema's layout rather than avsc, whose map decoding assigns keys
 * and so loses a label named `__proto__`; the tests check both agree on everything else.
 */
export function decodeRecords(req: EncodedRequest): MetricBatch[] {
  const out: MetricBatch[] = [];
  for (let i = 0; i < req.records; i++) out.push(readMetricBatch(valueOf(req, i)));
  return out;
}

function readMetricBatch(v: Buffer): MetricBatch {
  let p = 5; // Confluent framing: magic byte, schema id
  const long = (): number => {
    let n = 0;
    let mul = 1;
    for (;;) {
      const b = v[p++]!;
      n += (b & 0x7f) * mul;
      if (b < 0x80) break;
      mul *= 128;
    }
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  };
  const str = (): string => {
    const len = long();
    const s = v.toString('utf8', p, p + len);
    p += len;
    return s;
  };
  const fingerprint = str();
  const labels: Record<string, string> = {};
  for (let n = long(); n !== 0; n = long()) {
    for (let k = 0; k < n; k++) {
      const name = str();
      Object.defineProperty(labels, name, { value: str(), enumerable: true, writable: true, configurable: true });
    }
  }
  const samples: Sample[] = [];
  for (let n = long(); n !== 0; n = long()) {
    for (let k = 0; k < n; k++) {
      const timestampMs = long();
      const value = v.readDoubleLE(p);
      p += 8;
      samples.push({ timestampMs, value, stale: v[p++] === 1 });
    }
  }
  const source = str();
  const receivedAtMs = long();
  const exemplarsDropped = long();
  const histogramsDropped = long();
  if (p !== v.length) throw new Error(`MetricBatch record has ${v.length - p} bytes after its last field`);
  return { fingerprint, labels, samples, source, receivedAtMs, exemplarsDropped, histogramsDropped };
}

/** Keeps every acknowledged record in memory, decoded, in arrival order (tests, demos). */
export class MemorySink implements MetricSink {
  readonly name = 'memory';
  readonly schemaId = 0;
  readonly batches: MetricBatch[] = [];
  /** While set, writes fail as an unreachable broker would (tests of the 503 path). */
  failWith: Error | null = null;
  /** While set, writes wait this long before completing (tests of the deadline). */
  delayMs = 0;

  async write(req: EncodedRequest, deadlineMs: number): Promise<void> {
    const batches = decodeRecords(req);
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
