/**
 * Poison records on real Kafka (issue 15): a metrics record with a sample stamped 9e15 ms and one
 * that is not Avro are dead-lettered with their reason, and the records after them are processed;
 * rules-topic records that do not decode or do not check (1,500 nested parentheses) are rejected
 * with their reason, never stopping the detector, and a good rule after them is deployed.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DLQ_HEADERS } from '../../../pipelines/core/dead-letter.ts';
import type { Anomaly, MetricBatch, RuleRecord } from '../../../pipelines/core/records.ts';
import { createRuntime, type Runtime } from '../../../pipelines/core/runtime.ts';
import { groupName, topicName } from '../../../pipelines/core/topics.ts';
import { defineRule, startDetector, toRuleRecord } from '../../../pipelines/detect/index.ts';
import { ensureInfra, kafkaConfig, uniquePrefix, waitFor } from '../../helpers/infra.ts';

const T0 = Date.UTC(2024, 0, 1);
const runtimes: Runtime[] = [];

const batch = (fingerprint: string, samples: [number, number][]): MetricBatch => ({
  fingerprint,
  labels: { __name__: 'poison_test', fp: fingerprint },
  samples: samples.map(([t, v]) => ({ timestampMs: t, value: v, stale: false })),
  source: 'test',
  receivedAtMs: Date.now(),
  exemplarsDropped: 0,
  histogramsDropped: 0,
});

before(() => ensureInfra());
after(async () => {
  for (const rt of runtimes) await rt.close().catch(() => undefined);
});

test('poison records on metrics are dead-lettered, bad records on rules rejected; the detector goes on', async () => {
  const rt = await createRuntime(kafkaConfig(uniquePrefix('detect-poison')), { stage: 'test' });
  runtimes.push(rt);
  const prefix = rt.config.topicPrefix;
  const metrics = topicName('metrics', prefix);
  const rules = topicName('rules', prefix);
  const p = await rt.transport.producer();
  const deep: RuleRecord = { ...toRuleRecord(defineRule('value > 1', { id: 'deep' })), expr: `${'('.repeat(1500)}value${')'.repeat(1500)} > 1` };
  await p.send([
    { topic: rules, key: 'garbage', value: Buffer.from('not a rule record') },
    { topic: rules, key: 'deep', value: rt.serde.encode(rules, deep) },
    { topic: rules, key: 'high', value: rt.serde.encode(rules, toRuleRecord(defineRule('value > 100', { id: 'high' }))) },
  ]);
  const m = (i: number) => T0 + i * 60_000;
  // One key, one partition: the poison sits between good records of the same series.
  await p.send([
    { topic: metrics, key: 'a', value: rt.serde.encode(metrics, batch('a', [[m(0), 1], [m(1), 500]])) },
    { topic: metrics, key: 'a', value: rt.serde.encode(metrics, batch('a', [[m(2), 500], [9e15, 500]])) },
    { topic: metrics, key: 'a', value: Buffer.from('not avro at all') },
    { topic: metrics, key: 'a', value: rt.serde.encode(metrics, batch('a', [[m(3), 1], [m(4), 700]])) },
  ]);

  const found: Anomaly[] = [];
  const det = await startDetector(rt, { groupId: 'poison', instanceId: 'p1', base: 'none', onCommitted: ({ anomalies }) => void found.push(...anomalies) });
  assert.match(det.rejected().get('garbage')!, /does not decode/);
  assert.match(det.rejected().get('deep')!, /1:101: expression nested too deeply/);
  const committed = async () => [...(await rt.transport.committed(groupName('poison', prefix), metrics)).values()].reduce((s, o) => s + Number(o), 0);
  await waitFor(async () => (await committed()) === 4, 'the four metrics records committed', 60000, 200);

  // After the poison: more bad rules on the tail, then a good one, then more metrics.
  await p.send([
    { topic: rules, key: 'deep2', value: rt.serde.encode(rules, { ...deep, id: 'deep2' }) },
    { topic: rules, key: 'junk', value: Buffer.from([0, 0, 0, 0, 99, 1, 2]) },
    { topic: rules, key: 'low', value: rt.serde.encode(rules, toRuleRecord(defineRule('value < -100', { id: 'low' }))) },
  ]);
  await waitFor(() => det.rules().all().some((d) => d.rule.spec.id === 'low') && det.rejected().has('deep2') && det.rejected().has('junk'), 'the tail applied the rules records', 60000, 200);
  await p.send([{ topic: metrics, key: 'a', value: rt.serde.encode(metrics, batch('a', [[m(5), -500]])) }]);
  await waitFor(async () => (await committed()) === 5, 'the fifth record committed', 60000, 200);
  assert.equal(det.ready(), true);
  await det.stop();
  await p.close();

  const dead = await rt.transport.readToEnd(topicName('deadLetters', prefix));
  assert.deepEqual(dead.map((d) => [d.headers[DLQ_HEADERS.offset], d.headers[DLQ_HEADERS.kind]]), [['1', 'process'], ['2', 'decode']]);
  assert.match(dead[0]!.headers[DLQ_HEADERS.reason]!, /timestamp 9000000000000000 ms is outside the date range/);
  // The poison record fired nothing (refused whole); the records after it did.
  assert.deepEqual(found.map((a) => [a.timestampMs, a.ruleId]), [[m(1), 'high'], [m(4), 'high'], [m(5), 'low']]);
});
