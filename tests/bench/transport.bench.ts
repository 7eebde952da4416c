/**
 * The ceiling every later stage is measured against: raw produce and consume throughput of the
 * transport with ~1 KB Avro records (a MetricBatch of 60 samples), batched: kafkajs and librdkafka
 * (@confluentinc/kafka-javascript) against the same broker, and the embedded transport. Also the serde: our cached-type encoder against the schema-registry
 * package's AvroSerializer, which is why the hot path does not use the latter.
 */
import { AvroSerializer } from '@confluentinc/schemaregistry/dist/serde/avro.js';
import { SerdeType, SubjectNameStrategyType } from '@confluentinc/schemaregistry/dist/serde/serde.js';
import { createSerde, type Serde } from '../../pipelines/core/serde.ts';
import { EmbeddedBroker, EmbeddedTransport } from '../../pipelines/core/transport/embedded.ts';
import { KafkaTransport } from '../../pipelines/core/transport/kafka.ts';
import { RdKafkaTransport } from '../../pipelines/core/transport/rdkafka.ts';
import type { OutRecord, Transport } from '../../pipelines/core/transport/types.ts';
import type { MetricBatch } from '../../pipelines/core/records.ts';
import { BROKER, uniquePrefix } from '../helpers/infra.ts';

const RECORDS = Number(process.env.PANOPTES_BENCH_RECORDS ?? 100_000);
const BATCH = 1000;

function batchRecord(i: number): MetricBatch {
  const t0 = 1_764_288_000_000;
  return {
    fingerprint: (0x1000000 + i).toString(16).padStart(16, '0'),
    labels: { __name__: 'node_cpu_seconds_total', instance: `10.0.${i % 250}.${i % 200}:9100`, job: 'node', mode: 'user', cpu: String(i % 16) },
    samples: Array.from({ length: 60 }, (_, s) => ({ timestampMs: t0 + s * 15000, value: 1000 + i + s * 0.25, stale: false })),
    source: 'bench',
    receivedAtMs: t0,
    exemplarsDropped: 0,
    histogramsDropped: 0,
  };
}

interface Figures { transport: string; records: number; bytes: number; produceS: number; consumeS: number }

async function measure(t: Transport, serde: Serde, topic: string, label: string): Promise<Figures> {
  await t.ensureTopics([{ name: topic, partitions: 6 }]);
  const values: OutRecord[] = [];
  let bytes = 0;
  for (let i = 0; i < 1000; i++) {
    const v = serde.encode('bench-metrics', batchRecord(i));
    bytes += v.length;
    values.push({ topic, key: (0x1000000 + i).toString(16), value: v });
  }
  const avg = bytes / values.length;
  const p = await t.producer();
  const start = performance.now();
  for (let sent = 0; sent < RECORDS; sent += BATCH) {
    // Several batches in flight, as a connector with many concurrent requests would have.
    const inflight: Promise<unknown>[] = [];
    for (let k = 0; k < 4 && sent < RECORDS; k++, sent += BATCH) inflight.push(p.send(values.slice(0, Math.min(BATCH, RECORDS - sent))));
    sent -= BATCH;
    await Promise.all(inflight);
  }
  const produceS = (performance.now() - start) / 1000;
  await p.close();
  const c = await t.consumer({ groupId: `${topic}-bench`, fromBeginning: true, maxBatchSize: 5000 });
  await c.subscribe([topic]);
  let got = 0;
  const cstart = performance.now();
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  await c.run({
    eachBatch: async (b) => {
      got += b.records.length;
      if (got >= RECORDS) finish();
    },
  });
  await done;
  const consumeS = (performance.now() - cstart) / 1000;
  await c.stop();
  const f = { transport: label, records: RECORDS, bytes: avg, produceS, consumeS };
  console.log(
    `${label.padEnd(9)} record ${avg.toFixed(0)} B | produce ${(RECORDS / produceS).toFixed(0)} rec/s ${((RECORDS * avg) / produceS / 1e6).toFixed(1)} MB/s | consume ${(RECORDS / consumeS).toFixed(0)} rec/s ${((RECORDS * avg) / consumeS / 1e6).toFixed(1)} MB/s`,
  );
  return f;
}

async function serdeFigures(serde: Serde): Promise<Record<string, number>> {
  const rec = batchRecord(1);
  const N = 20000;
  let t = performance.now();
  for (let i = 0; i < N; i++) serde.encode('bench-metrics', rec);
  const ours = N / ((performance.now() - t) / 1000);
  const lib = new AvroSerializer(serde.client, SerdeType.VALUE, { autoRegisterSchemas: false, useLatestVersion: true, subjectNameStrategyType: SubjectNameStrategyType.TOPIC });
  await lib.serialize('bench-metrics', rec);
  t = performance.now();
  for (let i = 0; i < N; i++) await lib.serialize('bench-metrics', rec);
  const theirs = N / ((performance.now() - t) / 1000);
  const buf = serde.encode('bench-metrics', rec);
  t = performance.now();
  for (let i = 0; i < N; i++) await serde.decode('bench-metrics', buf);
  const dec = N / ((performance.now() - t) / 1000);
  console.log(`serde     encode ${ours.toFixed(0)} rec/s (package AvroSerializer: ${theirs.toFixed(0)} rec/s) | decode ${dec.toFixed(0)} rec/s`);
  return { encode: ours, libraryEncode: theirs, decode: dec };
}

export async function run(): Promise<void> {
  // The serde registers schemas per topic; benchmark topics use the metrics schema.
  const serde = await createSerde({ url: 'mock://bench', topics: [] });
  await serde.register('bench-metrics', 'metric-batch.avsc');
  const sd = await serdeFigures(serde);
  const emb = await measure(new EmbeddedTransport(new EmbeddedBroker()), serde, 'bench-embedded', 'embedded');
  const kt = new KafkaTransport({ brokers: [BROKER], clientId: 'bench', connectTimeoutMs: 15000, requestTimeoutMs: 30000 });
  await kt.connect();
  const kaf = await measure(kt, serde, `${uniquePrefix('bench')}metrics`, 'kafkajs');
  await kt.close();
  // Same records and batching through librdkafka; its native module is built by infra/rdkafka.sh.
  const rt = new RdKafkaTransport({ brokers: [BROKER], clientId: 'bench', connectTimeoutMs: 15000, requestTimeoutMs: 30000 });
  let rdk: Figures | { unavailable: string };
  try {
    await rt.connect();
    rdk = await measure(rt, serde, `${uniquePrefix('bench')}metrics`, 'librdkafka');
    await rt.close();
  } catch (err) {
    await rt.close().catch(() => undefined);
    rdk = { unavailable: (err as Error).message };
    console.log(`librdkafka unavailable: ${rdk.unavailable}`);
  }
  console.log('JSON:' + JSON.stringify({ bench: 'transport', serde: sd, embedded: emb, kafka: kaf, librdkafka: rdk }));
}
