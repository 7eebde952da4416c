/**
 * Every schema round-trips through real Kafka and the real registry; the registry holds the
 * subjects afterwards; poison records land in the dead-letter topic and the next good record is
 * processed; start-up against a server that is down fails fast with a clear message.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AvroDeserializer } from '@confluentinc/schemaregistry/dist/serde/avro.js';
import { SerdeType } from '@confluentinc/schemaregistry/dist/serde/serde.js';
import { decodeBatch, DLQ_HEADERS } from '../../../pipelines/core/dead-letter.ts';
import { loadConfig } from '../../../pipelines/core/config.ts';
import { createRuntime, type Runtime } from '../../../pipelines/core/runtime.ts';
import { TOPICS, topicName, type TopicKey } from '../../../pipelines/core/topics.ts';
import type { InRecord } from '../../../pipelines/core/transport/types.ts';
import { ensureInfra, kafkaConfig, REGISTRY, uniquePrefix, waitFor } from '../../helpers/infra.ts';
import { sampleRecords } from '../../helpers/records.ts';

let rt: Runtime;
const prefix = uniquePrefix('serde');

before(async () => {
  ensureInfra();
  rt = await createRuntime(kafkaConfig(prefix), { stage: 'test' });
});

after(async () => {
  await rt?.close();
});

/** NaN is not equal to itself under deepEqual's rules for our purposes: compare as JSON with NaN marked. */
const canon = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'number' && Number.isNaN(x) ? 'NaN' : x));

test('every schema round-trips through real Kafka and the registry', async () => {
  const samples = sampleRecords();
  const keys = Object.keys(samples) as TopicKey[];
  assert.equal(keys.length, Object.values(TOPICS).filter((t) => t.schema).length, 'a sample for every schema');
  const p = await rt.transport.producer();
  await p.send(keys.map((k) => ({ topic: topicName(k, prefix), key: k, value: rt.serde.encode(topicName(k, prefix), samples[k]) })));
  await p.close();
  const official = new AvroDeserializer(rt.serde.client, SerdeType.VALUE, {});
  for (const k of keys) {
    const recs = await rt.transport.readToEnd(topicName(k, prefix));
    assert.equal(recs.length, 1, `one record on ${k}`);
    const { value, schemaId } = await rt.serde.decode(topicName(k, prefix), recs[0].value);
    assert.equal(schemaId, rt.serde.schemaId(topicName(k, prefix)));
    assert.equal(canon(value), canon(samples[k]), `${k} decodes equal`);
    // The bytes are standard Confluent framing: the package's own deserializer reads them too.
    const viaLib = await official.deserialize(topicName(k, prefix), recs[0].value!);
    assert.equal(canon(viaLib), canon(samples[k]), `${k} via @confluentinc/schemaregistry`);
  }
  // Asked one by one: the registry's subject list is paged (Apicurio answers 1,000 at most), and a
  // registry shared by many test runs holds more.
  for (const k of keys) {
    const res = await fetch(`${REGISTRY}/subjects/${encodeURIComponent(`${topicName(k, prefix)}-value`)}/versions`);
    assert.equal(res.status, 200, `registry holds ${topicName(k, prefix)}-value`);
  }
  const cfg = await fetch(`${REGISTRY}/config/${encodeURIComponent(`${topicName('metrics', prefix)}-value`)}`);
  assert.equal(cfg.status, 200);
  assert.match(JSON.stringify(await cfg.json()), /BACKWARD/);
});

test('an incompatible schema change is refused by the registry (BACKWARD)', async () => {
  const subject = `${topicName('rules', prefix)}-value`;
  const breaking = { type: 'record', name: 'Rule', namespace: 'io.panoptes.rules', fields: [{ name: 'id', type: 'string' }, { name: 'mustHave', type: 'int' }] };
  await assert.rejects(rt.serde.client.register(subject, { schemaType: 'AVRO', schema: JSON.stringify(breaking) }, false));
});

test('poison records go to the dead-letter topic with the reason; the next good record is processed', async () => {
  const topic = topicName('metrics', prefix);
  const good = sampleRecords().metrics;
  const p = await rt.transport.producer();
  await p.send([
    { topic, key: 'bad-1', value: Buffer.from('not avro at all') },
    { topic, key: 'bad-2', value: Buffer.from([0, 0, 0x7f, 0xff, 0xff, 1, 2, 3]) }, // unknown schema id
    { topic, key: 'good', value: rt.serde.encode(topic, good) },
  ]);
  const group = `${prefix}dlq`;
  const c = await rt.transport.consumer({ groupId: group, fromBeginning: true });
  await c.subscribe([topic]);
  const processed: unknown[] = [];
  let seen = 0;
  await c.run({
    eachBatch: async (b) => {
      seen += b.records.length;
      const d = await decodeBatch(rt.serde, b.records, { policy: 'dead-letter', stage: 'test', prefix });
      if (d.dead.length) await p.send(d.dead);
      processed.push(...d.ok.map((o) => o.value));
    },
  });
  // The sample record from the round-trip test is on this topic too: 1 + 3 records.
  await waitFor(() => seen >= 4, 'all four records', 30000);
  await c.stop();
  await p.close();
  assert.equal(processed.length, 2, 'both good records processed');
  const dead: InRecord[] = await rt.transport.readToEnd(topicName('deadLetters', prefix));
  assert.deepEqual(dead.map((r) => r.key!.toString()).sort(), ['bad-1', 'bad-2']);
  const bad1 = dead.find((r) => r.key!.toString() === 'bad-1')!;
  assert.equal(bad1.value!.toString(), 'not avro at all', 'original bytes kept');
  assert.match(bad1.headers[DLQ_HEADERS.reason], /magic byte/);
  assert.equal(bad1.headers[DLQ_HEADERS.topic], topic);
  const bad2 = dead.find((r) => r.key!.toString() === 'bad-2')!;
  assert.match(bad2.headers[DLQ_HEADERS.reason], /unknown schema id/);
});

test('start-up fails fast and clearly when Kafka or the registry is down', async () => {
  const noKafka = loadConfig({ env: { PANOPTES_BROKERS: '127.0.0.1:1', PANOPTES_CONNECT_TIMEOUT_MS: '2000', PANOPTES_LOG_LEVEL: 'silent' } });
  const t0 = Date.now();
  await assert.rejects(createRuntime(noKafka, { stage: 'test' }), /cannot reach Kafka at 127\.0\.0\.1:1/);
  assert.ok(Date.now() - t0 < 20000, 'no hang');
  const noRegistry = kafkaConfig(uniquePrefix('noreg'), { PANOPTES_REGISTRY_URL: 'http://127.0.0.1:1/apis/ccompat/v7', PANOPTES_CONNECT_TIMEOUT_MS: '2000' });
  await assert.rejects(createRuntime(noRegistry, { stage: 'test' }), /cannot reach the schema registry/);
});
