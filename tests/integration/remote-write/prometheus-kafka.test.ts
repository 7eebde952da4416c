/**
 * A real Prometheus remote-writing through the receiver into real Kafka (Avro via the real
 * schema registry), then a broker outage in the middle of it:
 *   1. the counter series read back from the topic equals Prometheus's own query for the range;
 *   2. Kafka is stopped for 20 s (infra/kafka/down.sh) while Prometheus keeps writing: the
 *      receiver answers 503, Prometheus retries, and once Kafka is back (infra/kafka/up.sh) no
 *      sample of the compared range is missing from the topic. Duplicates are counted and
 *      printed; see the README (at-least-once) for when they can occur.
 * The broker is a private one, started and stopped with the same infra scripts but their own
 * run directory and ports (PANOPTES_INFRA_RUN, PANOPTES_KAFKA_PORT, ...), so stopping it does not
 * pull the shared broker from under other tests, and nobody else's reset can wipe this one. The
 * schema registry is the shared one (infra/up.sh). Fails if either cannot start.
 * The producer is kafkajs's, or librdkafka's with PANOPTES_TEST_KAFKA_CLIENT=librdkafka.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { RemoteWriteReceiver } from '../../../connectors/remote-write/server.ts';
import { TopicSink } from '../../../connectors/remote-write/topic-sink.ts';
import { createSerde, type Serde } from '../../../pipelines/core/serde.ts';
import { KafkaTransport } from '../../../pipelines/core/transport/kafka.ts';
import { RdKafkaTransport } from '../../../pipelines/core/transport/rdkafka.ts';
import { topicName } from '../../../pipelines/core/topics.ts';
import type { MetricBatch } from '../../../pipelines/core/records.ts';
import type { Producer, Transport } from '../../../pipelines/core/transport/types.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureInfra, REGISTRY, uniquePrefix } from '../../helpers/infra.ts';
import { CounterTarget, freePort, infra, infraAsync, PrometheusProcess, sleep, waitFor } from './prometheus.ts';

const prefix = uniquePrefix('rw');
const topic = topicName('metrics', prefix);
const prom = new PrometheusProcess();
const target = new CounterTarget();
const registry = new Registry();
let transport: Transport;
const CLIENT = process.env.PANOPTES_TEST_KAFKA_CLIENT === 'librdkafka' ? 'librdkafka' : 'kafkajs';
let serde: Serde;
let producer: Producer;
let receiver: RemoteWriteReceiver;
const runDir = mkdtempSync(join(tmpdir(), 'rw-kafka-'));
let kafkaEnv: Record<string, string> = {};

before(async () => {
  ensureInfra();
  const port = await freePort();
  let controller = await freePort();
  while (controller === port) controller = await freePort();
  kafkaEnv = { PANOPTES_INFRA_RUN: runDir, PANOPTES_KAFKA_PORT: String(port), PANOPTES_KAFKA_CONTROLLER_PORT: String(controller), PANOPTES_KAFKA_HEAP: '384m' };
  await infraAsync('kafka/up.sh', kafkaEnv);
  const o = { brokers: [`127.0.0.1:${port}`], clientId: 'rw-it', connectTimeoutMs: 15000, requestTimeoutMs: 30000 };
  transport = CLIENT === 'librdkafka' ? new RdKafkaTransport(o) : new KafkaTransport(o);
  await transport.connect();
  await transport.ensureTopics([{ name: topic, partitions: 6 }]);
  serde = await createSerde({ url: REGISTRY, prefix, topics: ['metrics'] });
  producer = await transport.producer({ deliveryTimeoutMs: 5000, groupCommit: true }); // as panoptes ingest creates it
  receiver = new RemoteWriteReceiver({ listen: '127.0.0.1:0', deadlineMs: 5000 }, { sink: new TopicSink({ producer, serde, topic, registry }), registry });
  await target.start();
  const url = await receiver.start();
  await prom.start({ writeUrl: `${url}/api/v1/write`, targetPort: target.port });
});

after(async () => {
  await prom.stop();
  await target.stop();
  await receiver?.close();
  await producer?.close().catch(() => undefined);
  await transport?.close().catch(() => undefined);
  // Only ever the private broker: without its run directory down.sh would stop the shared one.
  if (kafkaEnv.PANOPTES_INFRA_RUN === runDir) infra('kafka/down.sh', kafkaEnv);
  rmSync(runDir, { recursive: true, force: true });
});

async function counterValue(name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return ((m?.values ?? []) as { value: number; labels: Record<string, string | number> }[])
    .filter((v) => Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val))
    .reduce((s, v) => s + v.value, 0);
}

interface FromTopic {
  batches: { batch: MetricBatch; partition: number; key: string }[];
}

async function readTopic(): Promise<FromTopic> {
  // Right after the broker restarts the admin client's metadata can be stale (NOT_LEADER on
  // list-offsets): reading the topic is retried, it is not what this test is about.
  let records;
  for (let attempt = 1; ; attempt++) {
    try {
      records = await transport.readToEnd(topic);
      break;
    } catch (err) {
      if (attempt >= 30) throw err;
      await sleep(1000);
    }
  }
  const batches = [];
  for (const r of records) {
    const { value } = await serde.decode<MetricBatch>(topic, r.value);
    batches.push({ batch: value, partition: r.partition, key: r.key!.toString() });
  }
  return { batches };
}

function counterSamples(t: FromTopic): { timestampMs: number; value: number; stale: boolean }[] {
  return t.batches.filter((b) => b.batch.labels.__name__ === 'rw_test_scrapes_total').flatMap((b) => b.batch.samples);
}

async function acknowledgedCounterSamples(): Promise<number> {
  return counterSamples(await readTopic()).length;
}

test('Prometheus → receiver → Kafka: records keyed by fingerprint, one partition per series, range equals Prometheus', { timeout: 240_000 }, async () => {
  await waitFor('10 counter samples in Kafka', 120_000, async () => (await acknowledgedCounterSamples()) >= 10);
  const t = await readTopic();
  const partitionsByKey = new Map<string, Set<number>>();
  for (const b of t.batches) {
    assert.equal(b.key, b.batch.fingerprint);
    assert.equal(b.batch.source, 'remote-write');
    (partitionsByKey.get(b.key) ?? partitionsByKey.set(b.key, new Set()).get(b.key)!).add(b.partition);
  }
  for (const [key, parts] of partitionsByKey) assert.equal(parts.size, 1, `series ${key} on one partition`);

  const got = counterSamples(t).sort((a, b) => a.timestampMs - b.timestampMs);
  const endMs = got[got.length - 1]!.timestampMs;
  const [fromProm] = await prom.rangeSamples('rw_test_scrapes_total', 120, endMs);
  const received = got.filter((s) => !s.stale && s.timestampMs > endMs - 120_000).map((s) => [s.timestampMs, s.value]);
  assert.ok(fromProm!.samples.length >= 10);
  assert.deepEqual(received, fromProm!.samples);
});

test('Kafka down 20 s while Prometheus writes: 503 meanwhile, then nothing of the range missing', { timeout: 420_000 }, async (t) => {
  const startMs = Date.now();
  const before503 = await counterValue('panoptes_remote_write_requests_total', { code: '503' });
  await sleep(3000);
  await infraAsync('kafka/down.sh', kafkaEnv);
  const downAt = Date.now();
  await sleep(20_000);
  const during503 = await counterValue('panoptes_remote_write_requests_total', { code: '503' });
  const healthDuring = (await fetch(`${receiver.url}/healthz`)).status;
  const restartAt = Date.now();
  await infraAsync('kafka/up.sh', kafkaEnv);
  const upAt = Date.now();
  t.diagnostic(`kafka stopped for ${((restartAt - downAt) / 1000).toFixed(1)} s (+${((upAt - restartAt) / 1000).toFixed(1)} s to start again); 503 replies meanwhile: ${during503 - before503}; /healthz during the outage: ${healthDuring}`);
  assert.equal(healthDuring, 503);
  assert.ok(during503 > before503, 'the receiver answered 503 while Kafka was down');

  // Prometheus catches up: samples scraped well after the restart are in Kafka.
  await waitFor('counter samples from after the restart in Kafka', 180_000, async () => counterSamples(await readTopic()).some((s) => s.timestampMs > upAt + 5000));
  const tAfter = await readTopic();
  const all = counterSamples(tAfter).sort((a, b) => a.timestampMs - b.timestampMs);
  const endMs = all.filter((s) => s.timestampMs > upAt + 5000)[0]!.timestampMs;
  const rangeS = Math.ceil((endMs - startMs) / 1000) + 30;
  const [fromProm] = await prom.rangeSamples('rw_test_scrapes_total', rangeS, endMs);
  const expected = fromProm!.samples;
  // Range selectors never return staleness markers, so they are left out of the comparison.
  const inRange = all.filter((s) => !s.stale && s.timestampMs > endMs - rangeS * 1000 && s.timestampMs <= endMs);
  const staleInRange = all.filter((s) => s.stale && s.timestampMs > endMs - rangeS * 1000 && s.timestampMs <= endMs).length;

  const seen = new Map<number, number>();
  for (const s of inRange) seen.set(s.timestampMs, (seen.get(s.timestampMs) ?? 0) + 1);
  const missing = expected.filter(([ts]) => !seen.has(ts));
  const duplicated = [...seen.values()].filter((n) => n > 1).length;

  // Duplicates over every series of the topic, not only the compared one.
  const pairs = new Map<string, number>();
  for (const b of tAfter.batches) for (const s of b.batch.samples) pairs.set(`${b.key}@${s.timestampMs}`, (pairs.get(`${b.key}@${s.timestampMs}`) ?? 0) + 1);
  const dupPairs = [...pairs.values()].filter((n) => n > 1).length;
  t.diagnostic(
    `compared range: ${expected.length} samples in Prometheus, ${inRange.length} in Kafka (+${staleInRange} staleness markers), missing ${missing.length}, duplicated timestamps ${duplicated}; ` +
      `whole topic: ${pairs.size} distinct (series, timestamp) pairs, ${dupPairs} stored more than once; ` +
      `Prometheus retried ${await prom.selfMetric('prometheus_remote_storage_samples_retried_total')} samples, failed ${await prom.selfMetric('prometheus_remote_storage_samples_failed_total')}`,
  );
  assert.ok(expected.length >= 25, `the range holds samples from before, during and after the outage (${expected.length})`);
  assert.deepEqual(missing, [], 'no sample Prometheus has is missing from Kafka');
  // Values agree, duplicates aside.
  const firstByTs = new Map<number, number>();
  for (const s of inRange) if (!firstByTs.has(s.timestampMs)) firstByTs.set(s.timestampMs, s.value);
  assert.deepEqual([...firstByTs].sort((a, b) => a[0] - b[0]), expected);
  assert.equal(duplicated, 0, 'no sample of the compared range stored twice');
});
