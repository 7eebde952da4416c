/**
 * The inference Kafka interface on the embedded transport: delivery semantics with a controllable
 * handler (commit only up to the first unanswered record, re-delivery after a stop that could not
 * drain, dead letters), and concurrent admission into a real pool.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DLQ_HEADERS } from '../../../pipelines/core/dead-letter.ts';
import { createRuntime, type Runtime } from '../../../pipelines/core/runtime.ts';
import { groupName, topicName } from '../../../pipelines/core/topics.ts';
import { EmbeddedBroker } from '../../../pipelines/core/transport/embedded.ts';
import { startInferenceStage, type RequestHandler } from '../../../pipelines/inference/consumer.ts';
import type { InferenceRequestRecord, InferenceResultRecord } from '../../../pipelines/inference/records.ts';
import { embeddedConfig, uniquePrefix, waitFor } from '../../helpers/infra.ts';
import { rowOf, startPool } from './helpers.ts';

function request(id: string, model: string, data: number[] = [], deadlineMs: number | null = null): InferenceRequestRecord {
  return { id, model, modelVersion: null, inputs: [{ name: 'input', datatype: 'FP32', shape: [1, data.length], data }], deadlineMs, sentAtMs: Date.now() };
}

async function runtime(): Promise<Runtime> {
  return createRuntime(embeddedConfig(uniquePrefix('inference-embedded')), { stage: 'inference', broker: new EmbeddedBroker() });
}

async function results(rt: Runtime): Promise<InferenceResultRecord[]> {
  const topic = topicName('inferenceResults', rt.config.topicPrefix);
  const recs = await rt.transport.readToEnd(topic);
  return Promise.all(recs.map(async (r) => (await rt.serde.decode<InferenceResultRecord>(topic, r.value)).value));
}

/** A handler that answers at once, except for model `hold`, answered when released. */
function gatedHandler() {
  const held = new Map<string, () => void>();
  const handler: RequestHandler = {
    handle(r) {
      const answer = (): InferenceResultRecord => ({ requestId: r.id, model: r.model, status: 'ok', outputs: [], error: null, queueMs: 0, batchWaitMs: 0, execMs: 0, totalMs: 0, batchSize: 1 });
      if (r.model !== 'hold') return Promise.resolve(answer());
      return new Promise((resolve) => held.set(r.id, () => resolve(answer())));
    },
  };
  return { handler, held };
}

test('offsets are committed only up to the first unanswered request; a stop that cannot drain leaves it to be delivered again', async () => {
  const rt = await runtime();
  const requests = topicName('inferenceRequests', rt.config.topicPrefix);
  const group = groupName('inference-test', rt.config.topicPrefix);
  const committed = async () => (await rt.transport.committed(group, requests)).get(0);
  const p = await rt.transport.producer();
  try {
    const { handler, held } = gatedHandler();
    const stage = await startInferenceStage(rt, handler, { groupId: 'inference-test' });
    await p.send([
      { topic: requests, partition: 0, key: 'r0', value: rt.serde.encode(requests, request('r0', 'm')) },
      { topic: requests, partition: 0, key: 'r1', value: rt.serde.encode(requests, request('r1', 'hold')) },
      { topic: requests, partition: 0, key: 'r2', value: rt.serde.encode(requests, request('r2', 'm')) },
      { topic: requests, partition: 0, key: 'bad', value: Buffer.from('not avro at all') },
      { topic: requests, partition: 0, key: 'r4', value: rt.serde.encode(requests, request('r4', 'm')) },
    ]);
    await waitFor(async () => (await results(rt)).length === 3, 'the three answerable results');
    const dead = await waitFor(async () => (await rt.transport.readToEnd(topicName('deadLetters', rt.config.topicPrefix)))[0], 'the dead letter');
    assert.equal(dead.value?.toString(), 'not avro at all');
    assert.equal(dead.headers[DLQ_HEADERS.topic], requests);
    assert.equal(dead.headers[DLQ_HEADERS.offset], '3');
    assert.equal(dead.headers[DLQ_HEADERS.stage], 'inference');
    assert.deepEqual((await results(rt)).map((r) => r.requestId).sort(), ['r0', 'r2', 'r4']);
    await waitFor(async () => (await committed()) === '1', 'the commit up to the held request');
    assert.equal(stage.inFlight(), 1);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(await committed(), '1', 'r1 is unanswered, so nothing past it is committed');

    held.get('r1')!();
    await waitFor(async () => (await committed()) === '5', 'the commit of the whole partition');
    assert.deepEqual((await results(rt)).map((r) => r.requestId).sort(), ['r0', 'r1', 'r2', 'r4']);

    // stop() answers what is in flight before it commits and leaves.
    await p.send([{ topic: requests, partition: 0, key: 'r5', value: rt.serde.encode(requests, request('r5', 'hold')) }]);
    await waitFor(() => held.has('r5'), 'r5 in flight');
    const stopping = stage.stop();
    // stop() waits for in-flight work; give it a moment, then check it has not committed past r5.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await committed(), '5');
    held.get('r5')!();
    await stopping;
    assert.equal(await committed(), '6', 'a stop that drains answers and commits r5');
    const answered = (await results(rt)).map((r) => r.requestId);
    assert.equal(answered.filter((id) => id === 'r5').length, 1);

    // A request still held when stop() gives up draining stays uncommitted and is answered by the next instance.
    await p.send([{ topic: requests, partition: 0, key: 'r6', value: rt.serde.encode(requests, request('r6', 'hold')) }]);
    const second = gatedHandler();
    const stage2 = await startInferenceStage(rt, second.handler, { groupId: 'inference-test', drainTimeoutMs: 100 });
    await waitFor(() => second.held.has('r6'), 'r6 in flight');
    await stage2.stop();
    assert.equal(await committed(), '6', 'r6 was never answered: its offset stays uncommitted');
    const third = gatedHandler();
    const stage3 = await startInferenceStage(rt, third.handler, { groupId: 'inference-test' });
    await waitFor(() => third.held.has('r6'), 'r6 delivered again to the next instance');
    third.held.get('r6')!();
    await waitFor(async () => (await committed()) === '7', 'r6 committed');
    await stage3.stop();
    assert.deepEqual((await results(rt)).map((r) => r.requestId).sort(), ['r0', 'r1', 'r2', 'r4', 'r5', 'r6']);
  } finally {
    await p.close();
    await rt.close();
  }
});

test('requests of a batch are admitted together, so the pool batches them', async () => {
  const rt = await runtime();
  const { pool } = await startPool({ maxBatch: 16 });
  const requests = topicName('inferenceRequests', rt.config.topicPrefix);
  const p = await rt.transport.producer();
  try {
    const stage = await startInferenceStage(rt, pool);
    const sent = Array.from({ length: 40 }, (_, i) => request(`q${i}`, 'mlp-s', rowOf(32, i)));
    await p.send(sent.map((r) => ({ topic: requests, partition: 0, key: r.id, value: rt.serde.encode(requests, r) })));
    const got = await waitFor(async () => {
      const rs = await results(rt);
      return rs.length >= 40 ? rs : null;
    }, '40 results');
    assert.equal(got.length, 40, 'exactly one result per request');
    assert.deepEqual(got.map((r) => r.requestId).sort(), sent.map((r) => r.id).sort());
    for (const r of got) assert.equal(r.status, 'ok', `${r.requestId}: ${r.error}`);
    assert.ok(Math.max(...got.map((r) => r.batchSize)) > 1, `batch sizes ${got.map((r) => r.batchSize).join(',')}: records were run one at a time`);
    const direct = await pool.infer({ model: 'mlp-s', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 32], data: rowOf(32, 7) }] });
    assert.equal(direct.status, 'ok');
    if (direct.status === 'ok') assert.deepEqual(got.find((r) => r.requestId === 'q7')!.outputs[0]!.data, Array.from(direct.outputs[0]!.data));
    await stage.stop();
  } finally {
    await p.close();
    await pool.close();
    await rt.close();
  }
});

test('a failed commit is retried; a failed produce stops the stage without committing its records', async () => {
  const rt = await runtime();
  const requests = topicName('inferenceRequests', rt.config.topicPrefix);
  const group = groupName('inference-faults', rt.config.topicPrefix);
  const committed = async () => (await rt.transport.committed(group, requests)).get(0);
  // Faults injected around the real embedded transport.
  let commitFailures = 1;
  let produceFails = false;
  const realConsumer = rt.transport.consumer.bind(rt.transport);
  const realProducer = rt.transport.producer.bind(rt.transport);
  rt.transport.consumer = async (o) => {
    const c = await realConsumer(o);
    const commit = c.commit.bind(c);
    c.commit = async (positions) => {
      if (commitFailures-- > 0) throw new Error('injected commit failure');
      return commit(positions);
    };
    return c;
  };
  const p = await realProducer();
  rt.transport.producer = async (o) => {
    const real = await realProducer(o);
    const send = real.send.bind(real);
    real.send = async (records) => {
      if (produceFails && records.some((r) => r.topic.endsWith('inference.results'))) throw new Error('injected produce failure');
      return send(records);
    };
    return real;
  };
  try {
    const { handler } = gatedHandler();
    const stage = await startInferenceStage(rt, handler, { groupId: 'inference-faults', commitIntervalMs: 20 });
    await p.send([0, 1].map((i) => ({ topic: requests, partition: 0, key: `a${i}`, value: rt.serde.encode(requests, request(`a${i}`, 'm')) })));
    await waitFor(async () => (await committed()) === '2', 'the commit after the injected failure');
    assert.match(await rt.metrics.metrics(), /panoptes_inference_kafka_commits_total\{[^}]*outcome="failed"[^}]*\} 1\b/);

    produceFails = true;
    await p.send([{ topic: requests, partition: 0, key: 'b', value: rt.serde.encode(requests, request('b', 'm')) }]);
    let timer: NodeJS.Timeout | undefined;
    const err = await Promise.race([stage.failed, new Promise((r) => (timer = setTimeout(() => r('no failure'), 10_000)))]);
    clearTimeout(timer);
    assert.match(String((err as Error).message ?? err), /injected produce failure/);
    await stage.stop();
    assert.equal(await committed(), '2', 'the record whose result was never acknowledged stays uncommitted');
    assert.deepEqual((await results(rt)).map((r) => r.requestId).sort(), ['a0', 'a1']);
  } finally {
    await p.close();
    await rt.close();
  }
});
