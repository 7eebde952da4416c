/**
 * The production sink: every batch becomes one Avro record (Confluent framing, the registered
 * schema's id; encoded by avro-batch.ts, byte for byte what the serde writes) on the `metrics` topic, keyed by the series fingerprint so a series always lands on one partition,
 * sent through the Transport's Producer. On Kafka that producer is idempotent with acks=all, so
 * `send` resolving means every record is on all in-sync replicas.
 *
 * Delivery is at-least-once: if a produce fails or outlives the receiver's deadline after some
 * partitions already acknowledged their records, the client is told 503 and sends the whole
 * request again, so those records are stored twice. Nothing is ever acknowledged that was not
 * stored. Consumers that care deduplicate on (fingerprint, timestamp).
 */
import type { Registry } from 'prom-client';
import { Counter } from 'prom-client';
import { TimeoutError } from '../../pipelines/core/errors.ts';
import type { MetricBatch } from '../../pipelines/core/records.ts';
import type { Serde } from '../../pipelines/core/serde.ts';
import type { Producer } from '../../pipelines/core/transport/types.ts';
import { encodeMetricBatches } from './avro-batch.ts';
import type { MetricSink } from './sink.ts';

export interface TopicSinkOptions {
  producer: Producer;
  /** Only the id of the topic's registered MetricBatch schema is needed (for the framing). */
  serde: Pick<Serde, 'schemaId'>;
  /** The real topic name (prefix applied). */
  topic: string;
  /**
   * Series with more samples than this are split into several records (same key, in order), so
   * no record approaches Kafka's message size limit (1 MiB by default; a sample is ~10–20 bytes).
   */
  maxSamplesPerRecord?: number;
  registry?: Registry;
}

export class TopicSink implements MetricSink {
  readonly name = 'kafka';
  private readonly o: Required<Omit<TopicSinkOptions, 'registry'>>;
  private readonly records: Counter | null;
  private lastOk = true;

  constructor(opts: TopicSinkOptions) {
    this.o = { maxSamplesPerRecord: 10_000, ...opts };
    this.records = opts.registry
      ? new Counter({ name: 'panoptes_remote_write_records_produced_total', help: 'MetricBatch records acknowledged by the metrics topic.', registers: [opts.registry] })
      : null;
  }

  /**
   * Not async on purpose: the batches are encoded and handed to the producer synchronously, and
   * no continuation refers to them, so they are garbage as soon as their records are queued.
   */
  write(batches: MetricBatch[], deadlineMs: number): Promise<void> {
    // Work that starts after the deadline can only produce duplicates of the client's retry.
    if (Date.now() >= deadlineMs) return Promise.reject(new TimeoutError('deadline passed before the produce started'));
    const { topic, serde, maxSamplesPerRecord, producer } = this.o;
    let count: number;
    let sent: Promise<unknown>;
    try {
      const out = encodeMetricBatches(topic, batches, serde.schemaId(topic), maxSamplesPerRecord);
      count = out.length;
      sent = producer.send(out);
    } catch (err) {
      count = 0;
      sent = Promise.reject(err);
    }
    return sent.then(
      () => {
        this.lastOk = true;
        this.records?.inc(count);
      },
      (err: unknown) => {
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
