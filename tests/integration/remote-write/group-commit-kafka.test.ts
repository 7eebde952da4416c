/**
 * The group-commit producer `panoptes ingest` uses on librdkafka (ProducerOptions.groupCommit:
 * failures-only delivery reports, one flush per group of concurrent sends), on the real broker:
 * every record of a resolved send is stored; a send with a record Kafka refuses is rejected as too
 * large, never resolved, while sends around it keep working.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { RdKafkaTransport } from '../../../pipelines/core/transport/rdkafka.ts';
import { murmur2 } from '../../../pipelines/core/transport/murmur2.ts';
import type { OutRecord, Producer } from '../../../pipelines/core/transport/types.ts';
import { isTooLarge } from '../../../connectors/remote-write/topic-sink.ts';
import { BROKER, ensureInfra, ROOT, uniquePrefix } from '../../helpers/infra.ts';

const prefix = uniquePrefix('rw-group');
const topic = `${prefix}metrics`;
const small = `${prefix}small`;
let transport: RdKafkaTransport;
let producer: Producer;

before(async () => {
  ensureInfra();
  // Builds librdkafka's native module if it does not load (a no-op once built); fails if it cannot.
  execFileSync('bash', [join(ROOT, 'infra', 'rdkafka.sh')], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 20 * 60_000 });
  transport = new RdKafkaTransport({ brokers: [BROKER], clientId: 'rw-group-it', connectTimeoutMs: 15000, requestTimeoutMs: 30000 });
  await transport.connect();
  // `small` refuses any record batch over 2,000 bytes (the producer's own limit is 1,000,000).
  await transport.ensureTopics([{ name: topic, partitions: 6 }, { name: small, partitions: 1, configs: { 'max.message.bytes': '2000' } }]);
  producer = await transport.producer({ deliveryTimeoutMs: 10_000, groupCommit: true });
});

after(async () => {
  await producer?.close();
  await transport?.close();
});

const records = (tag: string, n: number, to = topic): OutRecord[] => Array.from({ length: n }, (_, i) => ({ topic: to, key: `${tag}-${i % 97}`, value: Buffer.from(`${tag}:${i}`) }));

test('concurrent sends each resolve once all their records are stored; every record is there once, keyed as Kafka partitions', { timeout: 120_000 }, async () => {
  const sends = Array.from({ length: 8 }, (_, k) => records(`s${k}`, 500));
  const results = await Promise.all(sends.map((r) => producer.send(r)));
  assert.deepEqual(results, sends.map(() => []), 'group commit returns no positions');
  const stored = await transport.readToEnd(topic);
  assert.equal(stored.length, 8 * 500);
  const values = new Set(stored.map((r) => r.value!.toString()));
  assert.equal(values.size, 8 * 500, 'no record twice');
  for (const r of stored) assert.equal(r.partition, (murmur2(r.key!) & 0x7fffffff) % 6, 'Java-compatible partitioning');
});

test('a record the broker refuses fails its send as too large; sends before and after it resolve', { timeout: 120_000 }, async () => {
  const before = await producer.send(records('before', 50));
  assert.deepEqual(before, []);
  const big: OutRecord = { topic: small, key: 'k', value: Buffer.alloc(5000, 1) };
  const failed = await producer.send([...records('ok', 3, small), big]).then(
    () => null,
    (err: unknown) => err,
  );
  assert.ok(failed, 'the send with the refused record was not acknowledged');
  assert.ok(isTooLarge(failed), `too large: ${String(failed)}`);
  // A failure reported during a send fails that send only: later ones resolve again.
  assert.deepEqual(await producer.send(records('after', 50)), []);
  const stored = (await transport.readToEnd(topic)).map((r) => r.value!.toString());
  assert.ok(stored.includes('before:49') && stored.includes('after:49'));
});
