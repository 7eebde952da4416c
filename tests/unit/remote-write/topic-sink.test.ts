import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSerde } from '../../../pipelines/core/serde.ts';
import { EmbeddedBroker, EmbeddedTransport } from '../../../pipelines/core/transport/embedded.ts';
import { topicName, topicSpecs } from '../../../pipelines/core/topics.ts';
import type { MetricBatch } from '../../../pipelines/core/records.ts';
import { TopicSink } from '../../../connectors/remote-write/topic-sink.ts';
import { TimeoutError } from '../../../pipelines/core/errors.ts';

async function setup() {
  // A broker of its own per test: the default one is shared by the whole process.
  const transport = new EmbeddedTransport(new EmbeddedBroker());
  await transport.connect();
  await transport.ensureTopics(topicSpecs('t1.'));
  const serde = await createSerde({ url: 'mock://rw-sink', prefix: 't1.', topics: ['metrics'] });
  const topic = topicName('metrics', 't1.');
  return { transport, serde, topic };
}

function batch(name: string, n: number, extra: Partial<MetricBatch> = {}): MetricBatch {
  return {
    fingerprint: `fp-${name}`,
    labels: { __name__: name },
    samples: Array.from({ length: n }, (_, i) => ({ timestampMs: 1000 + i, value: i === 1 ? NaN : i, stale: i === 2 })),
    source: 'remote-write',
    receivedAtMs: 5,
    exemplarsDropped: 0,
    histogramsDropped: 0,
    ...extra,
  };
}

test('each batch becomes one Avro record keyed by fingerprint; NaN and stale survive the round trip', async () => {
  const { transport, serde, topic } = await setup();
  const sink = new TopicSink({ producer: await transport.producer(), serde, topic });
  await sink.write([batch('a', 3), batch('b', 1)], Date.now() + 5000);
  const records = await transport.readToEnd(topic);
  assert.equal(records.length, 2);
  const byKey = new Map(records.map((r) => [r.key!.toString(), r]));
  const a = (await serde.decode<MetricBatch>(topic, byKey.get('fp-a')!.value)).value;
  assert.deepEqual(a.labels, { __name__: 'a' });
  assert.equal(a.samples.length, 3);
  assert.ok(Number.isNaN(a.samples[1]!.value));
  assert.equal(a.samples[2]!.stale, true);
  assert.ok(sink.healthy());
  await transport.close();
});

test('a series longer than maxSamplesPerRecord is split in order on one key; drops reported once', async () => {
  const { transport, serde, topic } = await setup();
  const sink = new TopicSink({ producer: await transport.producer(), serde, topic, maxSamplesPerRecord: 4 });
  await sink.write([batch('long', 10, { histogramsDropped: 3 })], Date.now() + 5000);
  const records = await transport.readToEnd(topic);
  assert.equal(records.length, 3);
  assert.equal(new Set(records.map((r) => r.partition)).size, 1);
  const parts = await Promise.all(records.sort((x, y) => Number(x.offset) - Number(y.offset)).map(async (r) => (await serde.decode<MetricBatch>(topic, r.value)).value));
  assert.deepEqual(parts.map((p) => p.samples.length), [4, 4, 2]);
  assert.deepEqual(parts.flatMap((p) => p.samples.map((s) => s.timestampMs)), Array.from({ length: 10 }, (_, i) => 1000 + i));
  assert.deepEqual(parts.map((p) => p.histogramsDropped), [3, 0, 0]);
  await transport.close();
});

test('a write whose deadline already passed sends nothing', async () => {
  const { transport, serde, topic } = await setup();
  const sink = new TopicSink({ producer: await transport.producer(), serde, topic });
  await assert.rejects(sink.write([batch('a', 1)], Date.now() - 1), TimeoutError);
  assert.equal((await transport.readToEnd(topic)).length, 0);
  await transport.close();
});

test('a failing producer makes the sink unhealthy until a write succeeds', async () => {
  let fail = true;
  const sent: number[] = [];
  const producer = {
    async send(records: unknown[]) {
      if (fail) throw new Error('broker down');
      sent.push(records.length);
      return [];
    },
    async transaction(): Promise<never> {
      throw new Error('no');
    },
    async close() {},
  };
  const sink = new TopicSink({ producer, serde: { schemaId: () => 1 }, topic: 'm' });
  await assert.rejects(sink.write([batch('a', 1)], Date.now() + 1000), /broker down/);
  assert.equal(sink.healthy(), false);
  fail = false;
  await sink.write([batch('a', 1)], Date.now() + 1000);
  assert.equal(sink.healthy(), true);
  assert.deepEqual(sent, [1]);
});
