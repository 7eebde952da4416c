/**
 * Records keyed alike must land on the same partition whichever client produced them: librdkafka
 * is configured with murmur2_random, which must agree with kafkajs/Java (pipelines/core/transport/murmur2.ts).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { partitionForKey } from '../../../pipelines/core/transport/murmur2.ts';
import { RdKafkaTransport } from '../../../pipelines/core/transport/rdkafka.ts';
import { BROKER, ROOT, ensureInfra, uniquePrefix } from '../../helpers/infra.ts';

let t: RdKafkaTransport;

before(async () => {
  ensureInfra();
  execFileSync('bash', [join(ROOT, 'infra', 'rdkafka.sh')], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 20 * 60_000 });
  t = new RdKafkaTransport({ brokers: [BROKER], clientId: 'partitioning', connectTimeoutMs: 15000, requestTimeoutMs: 30000 });
  await t.connect();
});

after(async () => {
  await t?.close();
});

test('librdkafka places keyed records on the partition kafkajs and the Java client choose', async () => {
  const topic = `${uniquePrefix('rdk-partitioning')}keys`;
  await t.ensureTopics([{ name: topic, partitions: 7 }]);
  const p = await t.producer();
  const keys = Array.from({ length: 200 }, (_, i) => `series-${i * 7919}${'x'.repeat(i % 7)}`);
  await p.send(keys.map((k) => ({ topic, key: k, value: Buffer.from(k) })));
  await p.close();
  const got = await t.readToEnd(topic);
  assert.equal(got.length, keys.length);
  for (const r of got) assert.equal(r.partition, partitionForKey(r.key!, 7), `key ${r.key!.toString()}`);
});
