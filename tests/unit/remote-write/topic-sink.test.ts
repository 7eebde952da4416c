import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSerde } from '../../../pipelines/core/serde.ts';
import { EmbeddedBroker, EmbeddedTransport } from '../../../pipelines/core/transport/embedded.ts';
import { topicName, topicSpecs } from '../../../pipelines/core/topics.ts';
import type { MetricBatch } from '../../../pipelines/core/records.ts';
import { isTooLarge, TopicSink } from '../../../connectors/remote-write/topic-sink.ts';
import { encodeWriteRequest as encodeRecords, NO_LIMITS } from '../../../connectors/remote-write/wire/write-request.ts';
import { rejectionOf } from '../../../connectors/remote-write/wire/reject.ts';
import { InputError, TimeoutError, TransportError } from '../../../pipelines/core/errors.ts';
import { encodeWriteRequest, sortedLabels } from './proto.ts';
import { STALE_NAN } from './helpers.ts';

async function setup() {
  // A broker of its own per test: the default one is shared by the whole process.
  const transport = new EmbeddedTransport(new EmbeddedBroker());
  await transport.connect();
  await transport.ensureTopics(topicSpecs('t1.'));
  const serde = await createSerde({ url: 'mock://rw-sink', prefix: 't1.', topics: ['metrics'] });
  const topic = topicName('metrics', 't1.');
  return { transport, serde, topic };
}

/** A request of series named `names`, each with `n` samples (the second NaN, the third stale). */
function request(schemaId: number, names: string[], n: number, maxSamplesPerRecord = 10_000) {
  const raw = encodeWriteRequest({
    timeseries: names.map((name) => ({
      labels: sortedLabels({ __name__: name }),
      samples: Array.from({ length: n }, (_, i) => ({ timestamp: 1000 + i, value: i === 1 ? NaN : i === 2 ? STALE_NAN : i })),
    })),
  });
  return encodeRecords(raw, { schemaId, source: 'remote-write', receivedAtMs: 5 }, { ...NO_LIMITS, maxSamplesPerRecord });
}

test('each record is produced keyed by fingerprint with the registered schema id; NaN and stale survive the round trip', async () => {
  const { transport, serde, topic } = await setup();
  const sink = new TopicSink({ producer: await transport.producer(), serde, topic });
  assert.equal(sink.schemaId, serde.schemaId(topic));
  await sink.write(request(sink.schemaId, ['a', 'b'], 3), Date.now() + 5000);
  const records = await transport.readToEnd(topic);
  assert.equal(records.length, 2);
  const decoded = await Promise.all(records.map(async (r) => ({ key: r.key!.toString(), v: (await serde.decode<MetricBatch>(topic, r.value)).value })));
  const a = decoded.find((d) => d.v.labels.__name__ === 'a')!;
  assert.equal(a.key, a.v.fingerprint);
  assert.equal(a.v.samples.length, 3);
  assert.ok(Number.isNaN(a.v.samples[1]!.value));
  assert.deepEqual(a.v.samples.map((s) => s.stale), [false, false, true]);
  assert.ok(sink.healthy());
  await transport.close();
});

test('the parts of a split series land on one partition, in order', async () => {
  const { transport, serde, topic } = await setup();
  const sink = new TopicSink({ producer: await transport.producer(), serde, topic });
  await sink.write(request(sink.schemaId, ['long'], 10, 4), Date.now() + 5000);
  const records = await transport.readToEnd(topic);
  assert.equal(records.length, 3);
  assert.equal(new Set(records.map((r) => r.partition)).size, 1);
  const parts = await Promise.all(records.sort((x, y) => Number(x.offset) - Number(y.offset)).map(async (r) => (await serde.decode<MetricBatch>(topic, r.value)).value));
  assert.deepEqual(parts.flatMap((p) => p.samples.map((s) => s.timestampMs)), Array.from({ length: 10 }, (_, i) => 1000 + i));
  await transport.close();
});

test('a write whose deadline already passed sends nothing', async () => {
  const { transport, serde, topic } = await setup();
  const sink = new TopicSink({ producer: await transport.producer(), serde, topic });
  await assert.rejects(sink.write(request(sink.schemaId, ['a'], 1), Date.now() - 1), TimeoutError);
  assert.equal((await transport.readToEnd(topic)).length, 0);
  await transport.close();
});

function fakeProducer(fail: () => Error | null, sent: number[]) {
  return {
    async send(records: unknown[]) {
      const err = fail();
      if (err) throw err;
      sent.push(records.length);
      return [];
    },
    async transaction(): Promise<never> {
      throw new Error('no');
    },
    async close() {},
  };
}

test('a failing producer makes the sink unhealthy until a write succeeds', async () => {
  let fail: Error | null = new Error('broker down');
  const sent: number[] = [];
  const sink = new TopicSink({ producer: fakeProducer(() => fail, sent), serde: { schemaId: () => 1 }, topic: 'm' });
  await assert.rejects(sink.write(request(1, ['a'], 1), Date.now() + 1000), /broker down/);
  assert.equal(sink.healthy(), false);
  fail = null;
  await sink.write(request(1, ['a'], 1), Date.now() + 1000);
  assert.equal(sink.healthy(), true);
  assert.deepEqual(sent, [1]);
});

test('a record Kafka refuses as too large is an InputError (400 record_too_large), not a retriable failure', async () => {
  // librdkafka's and the broker's MESSAGE_TOO_LARGE (code 10), kafkajs's protocol error type.
  for (const cause of [Object.assign(new Error('Broker: Message size too large'), { code: 10 }), Object.assign(new Error('The request included a message larger than the max message size the server will accept'), { type: 'MESSAGE_TOO_LARGE' })]) {
    const err = new TransportError('produce failed', { cause });
    assert.ok(isTooLarge(err));
    const sink = new TopicSink({ producer: fakeProducer(() => err, []), serde: { schemaId: () => 1 }, topic: 'm' });
    const got = await sink.write(request(1, ['a'], 1), Date.now() + 1000).then(() => null, (e: unknown) => e);
    assert.ok(got instanceof InputError, String(got));
    assert.equal(rejectionOf(got)?.reason, 'record_too_large');
    assert.equal(sink.healthy(), true, 'a refused record says nothing about the broker');
  }
  assert.equal(isTooLarge(new TransportError('produce failed', { cause: Object.assign(new Error('timed out'), { code: 7 }) })), false);
});
