import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../../../pipelines/core/logger.ts';
import { sendAll, type SendResult, type TopicMessages } from '../../../../pipelines/core/transport/kafka.ts';

const batch = (): TopicMessages => [
  { topic: 'metrics', messages: [0, 1, 2, 0, 1].map((p, i) => ({ key: `k${i}`, value: Buffer.from(String(i)), headers: undefined, partition: p })) },
  { topic: 'anomalies', messages: [{ key: 'a', value: Buffer.from('a'), headers: undefined, partition: 2 }] },
];
const ok = (topicName: string, partition: number): SendResult => ({ topicName, partition, errorCode: 0, baseOffset: '0' });

test('sendAll resends exactly the records of partitions the answer left out (kafkajs#1303)', async () => {
  const calls: TopicMessages[] = [];
  const res = await sendAll(async (b) => {
    calls.push(b);
    // First answer: metrics[1] missing, as when its leader moved to a broker that had already answered.
    if (calls.length === 1) return [ok('metrics', 0), ok('metrics', 2), ok('anomalies', 2)];
    return b.flatMap((t) => [...new Set(t.messages.map((m) => m.partition!))].map((p) => ok(t.topic, p)));
  }, batch(), silentLogger);
  assert.equal(calls.length, 2);
  assert.deepEqual(calls[1]!.map((t) => [t.topic, t.messages.map((m) => m.key)]), [['metrics', ['k1', 'k4']]]);
  assert.deepEqual(res.map((r) => `${r.topicName}[${r.partition}]`).sort(), ['anomalies[2]', 'metrics[0]', 'metrics[1]', 'metrics[2]']);
});

test('sendAll sends once when every partition answers, and gives up (retriable) when one never does', async () => {
  let n = 0;
  await sendAll(async (b) => (n++, b.flatMap((t) => t.messages.map((m) => ok(t.topic, m.partition!)))), batch(), silentLogger);
  assert.equal(n, 1);
  n = 0;
  await assert.rejects(
    sendAll(async () => (n++, [ok('metrics', 0), ok('metrics', 1), ok('anomalies', 2)]), batch(), silentLogger),
    (e: Error & { retriable?: boolean }) => /metrics\[2\] was never acknowledged after 5 attempts/.test(e.message) && e.retriable === true,
  );
  assert.equal(n, 5);
});

test('a coordinator that moved is recognised by kafkajs\'s error names, also under its retries-exceeded wrapper', async () => {
  const { isCoordinatorMove } = await import('../../../../pipelines/core/transport/kafka.ts');
  const k = (await import('kafkajs')).default as unknown as Record<string, new (...a: unknown[]) => Error>;
  for (const [type, code] of [['GROUP_COORDINATOR_NOT_AVAILABLE', 15], ['NOT_COORDINATOR_FOR_GROUP', 16], ['GROUP_LOAD_IN_PROGRESS', 14]] as const) {
    const e = new k.KafkaJSProtocolError!({ message: type, type, code, retriable: true });
    assert.equal(isCoordinatorMove(e), true, type);
    assert.equal(isCoordinatorMove(new k.KafkaJSNumberOfRetriesExceeded!(e, { retryCount: 5, retryTime: 1 })), true, `${type} after retries`);
  }
  assert.equal(isCoordinatorMove(new k.KafkaJSProtocolError!({ message: 'x', type: 'INVALID_PRODUCER_EPOCH', code: 47, retriable: false })), false);
  assert.equal(isCoordinatorMove(new Error('other')), false);
});
