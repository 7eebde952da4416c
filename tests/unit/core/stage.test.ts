/**
 * The one consumer loop (core/stage.ts) on the embedded transport: the record policy (decode and
 * process failures dead-lettered, the stage going on), retriable failures stopping the stage with
 * nothing committed, readiness around the rebuild.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRuntime, type Runtime } from '../../../pipelines/core/runtime.ts';
import { loadConfig } from '../../../pipelines/core/config.ts';
import { DLQ_HEADERS } from '../../../pipelines/core/dead-letter.ts';
import { ConnectError } from '../../../pipelines/core/errors.ts';
import { isoTime } from '../../../pipelines/core/time.ts';
import { runStage } from '../../../pipelines/core/stage.ts';
import { EmbeddedBroker } from '../../../pipelines/core/transport/embedded.ts';
import { topicName } from '../../../pipelines/core/topics.ts';
import type { MetricBatch } from '../../../pipelines/core/records.ts';

const batch = (t: number): MetricBatch => ({ fingerprint: 'f', labels: { __name__: 'x' }, samples: [{ timestampMs: t, value: 1, stale: false }], source: 'test', receivedAtMs: 0, exemplarsDropped: 0, histogramsDropped: 0 });

async function setup(env: Record<string, string> = {}): Promise<{ rt: Runtime; input: string; out: string }> {
  const rt = await createRuntime(loadConfig({ env: { PANOPTES_LOG_LEVEL: 'silent', ...env } }), { stage: 'test', broker: new EmbeddedBroker() });
  const input = topicName('metrics', '');
  await rt.transport.ensureTopics([{ name: 'out', partitions: 1 }]);
  return { rt, input, out: 'out' };
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a poison record (a time past the Date range) and an undecodable one are dead-lettered; the stage goes on', async () => {
  const { rt, input, out } = await setup();
  const p = await rt.transport.producer();
  await p.send([
    { topic: input, key: 'f', value: rt.serde.encode(input, batch(1_000)), partition: 0 },
    { topic: input, key: 'f', value: Buffer.from('not avro'), partition: 0 },
    { topic: input, key: 'f', value: rt.serde.encode(input, batch(9e15)), partition: 0 },
    { topic: input, key: 'f', value: rt.serde.encode(input, batch(2_000)), partition: 0 },
  ]);
  let readyWhileRebuilding: number | undefined;
  const stage = await runStage<MetricBatch>(rt, {
    name: 'test',
    topic: input,
    groupId: 'g1',
    instanceId: 'i1',
    delivery: 'exactly-once',
    onAssign: async () => {
      const g = rt.metrics.getSingleMetric('panoptes_stage_ready') as unknown as { get(): Promise<{ values: { value: number }[] }> };
      readyWhileRebuilding = (await g.get()).values[0]?.value;
    },
    process: (b) => [{ topic: out, value: Buffer.from(isoTime(b.samples[0]!.timestampMs)) }],
  });
  await until(async () => (await rt.transport.committed('g1', input)).get(0) === '4', 'the batch to commit');
  const outs = await rt.transport.readToEnd(out);
  assert.deepEqual(outs.map((r) => r.value!.toString()), ['1970-01-01T00:00:01.000Z', '1970-01-01T00:00:02.000Z']);
  const dead = await rt.transport.readToEnd(topicName('deadLetters', ''));
  assert.deepEqual(dead.map((r) => [r.headers[DLQ_HEADERS.offset], r.headers[DLQ_HEADERS.kind], r.headers[DLQ_HEADERS.stage]]), [['1', 'decode', 'test'], ['2', 'process', 'test']]);
  assert.match(dead[1]!.headers[DLQ_HEADERS.reason]!, /outside the date range/);
  assert.ok(dead[1]!.value!.equals(rt.serde.encode(input, batch(9e15))), 'the original bytes are kept');
  assert.equal(readyWhileRebuilding, 0, 'not ready while rebuilding');
  assert.equal(stage.ready(), true);
  const metrics = await rt.metrics.getSingleMetricAsString('panoptes_stage_records_total');
  assert.match(metrics, /outcome="processed"} 2/);
  assert.match(metrics, /outcome="dead_letter"} 2/);
  await stage.stop();
  await p.close();
  await rt.close();
});

test('a retriable failure stops the stage and commits nothing; the record is not dead-lettered', async () => {
  const { rt, input } = await setup();
  const p = await rt.transport.producer();
  await p.send([{ topic: input, key: 'f', value: rt.serde.encode(input, batch(1_000)), partition: 0 }]);
  const stage = await runStage<MetricBatch>(rt, {
    name: 'test', topic: input, groupId: 'g2', instanceId: 'i1', delivery: 'at-least-once',
    process: () => {
      throw new ConnectError('registry unreachable');
    },
  });
  const err = await stage.failed;
  assert.match(String((err as Error).message), /registry unreachable/);
  assert.equal((await rt.transport.committed('g2', input)).get(0), undefined);
  assert.equal((await rt.transport.readToEnd(topicName('deadLetters', ''))).length, 0);
  assert.equal(stage.health().ok, false);
  await stage.stop();
  await p.close();
  await rt.close();
});

test('onProcessFailure=fail stops on the poison record instead', async () => {
  const { rt, input } = await setup({ PANOPTES_ON_PROCESS_FAILURE: 'fail' });
  const p = await rt.transport.producer();
  await p.send([{ topic: input, key: 'f', value: rt.serde.encode(input, batch(9e15)), partition: 0 }]);
  const stage = await runStage<MetricBatch>(rt, {
    name: 'test', topic: input, groupId: 'g3', instanceId: 'i1', delivery: 'exactly-once',
    process: (b) => [{ topic: 'out', value: Buffer.from(isoTime(b.samples[0]!.timestampMs)) }],
  });
  assert.match(String((await stage.failed as Error).message), /outside the date range/);
  await stage.stop();
  await p.close();
  await rt.close();
});
