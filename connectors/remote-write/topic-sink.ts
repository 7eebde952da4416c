/**
 * The production sink: a request's records (encoded by wire/write-request.ts with the registered
 * schema's id: Confluent-framed Avro MetricBatch, keyed by the series fingerprint, so a series always
 * lands on one partition) are sent through the Transport's Producer. On Kafka that producer is
 * idempotent with acks=all, so `send` resolving means every record is on all in-sync replicas.
 *
 * Delivery is at-least-once: if a produce fails or outlives the receiver's deadline after some
 * partitions already acknowledged their records, the client is told 503 and sends the whole
 * request again, so those records are stored twice. Nothing is ever acknowledged that was not
 * stored. Consumers that care deduplicate on (fingerprint, timestamp).
 */
import type { Registry } from 'prom-client';
import { Counter } from 'prom-client';
import { TimeoutError } from '../../pipelines/core/errors.ts';
import type { Serde } from '../../pipelines/core/serde.ts';
import type { OutRecord, Producer } from '../../pipelines/core/transport/types.ts';
import type { MetricSink } from './sink.ts';
import { reject } from './wire/reject.ts';
import { keyOf, valueOf, type EncodedRequest } from './wire/write-request.ts';

export interface TopicSinkOptions {
  producer: Producer;
  /** Only the id of the topic's registered MetricBatch schema is needed (for the framing). */
  serde: Pick<Serde, 'schemaId'>;
  /** The real topic name (prefix applied). */
  topic: string;
  registry?: Registry;
}

/**
 * Whether a produce failed because a record is too large for the topic or the producer (Kafka's
 * MESSAGE_TOO_LARGE and RECORD_LIST_TOO_LARGE, librdkafka's local message.max.bytes check, which
 * reports the same code): retrying can never help.
 */
export function isTooLarge(err: unknown): boolean {
  for (let e = err as { code?: unknown; type?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.code === 10 || e.code === 18 || e.type === 'MESSAGE_TOO_LARGE' || e.type === 'RECORD_LIST_TOO_LARGE') return true;
  }
  return false;
}

export class TopicSink implements MetricSink {
  readonly name = 'kafka';
  private readonly records: Counter | null;
  private lastOk = true;

  constructor(private readonly o: TopicSinkOptions) {
    this.records = o.registry
      ? new Counter({ name: 'panoptes_remote_write_records_produced_total', help: 'MetricBatch records acknowledged by the metrics topic.', registers: [o.registry] })
      : null;
  }

  get schemaId(): number {
    return this.o.serde.schemaId(this.o.topic);
  }

  write(req: EncodedRequest, deadlineMs: number): Promise<void> {
    // Work that starts after the deadline can only produce duplicates of the client's retry.
    if (Date.now() >= deadlineMs) return Promise.reject(new TimeoutError('deadline passed before the produce started'));
    const { topic, producer } = this.o;
    const n = req.records;
    let sent: Promise<unknown>;
    try {
      const out = new Array<OutRecord>(n);
      for (let i = 0; i < n; i++) out[i] = { topic, key: keyOf(req, i), value: valueOf(req, i) };
      sent = producer.send(out);
    } catch (err) {
      sent = Promise.reject(err);
    }
    return sent.then(
      () => {
        this.lastOk = true;
        this.records?.inc(n);
      },
      (err: unknown) => {
        if (isTooLarge(err)) {
          // The records can never be stored: 400, or Prometheus would resend them forever.
          throw reject('record_too_large', `Kafka refused a record as too large (${(err as Error).message}); set --max-record-bytes below the topic's max.message.bytes`);
        }
        this.lastOk = false;
        throw err;
      },
    );
  }

  /** False after a failed produce until one succeeds again. */
  healthy(): boolean {
    return this.lastOk;
  }

  async close(): Promise<void> {
    await this.o.producer.close();
  }
}
