/**
 * The online detector on real Kafka against the offline run of the same NAB series: equal
 * anomalies; after kill -9 and restart no duplicate and no gap (read_committed); two instances
 * together equal one; a rule published while running takes effect without a restart.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Anomaly, MetricBatch } from '../../../pipelines/core/records.ts';
import { createRuntime, type Runtime } from '../../../pipelines/core/runtime.ts';
import { groupName, topicName } from '../../../pipelines/core/topics.ts';
import { startDetector } from '../../../pipelines/detect/consumer.ts';
import { toRuleRecord } from '../../../pipelines/detect/rules/rule-records.ts';
import { defineRule, type CheckedRule } from '../../../pipelines/detect/rules/rule.ts';
import { childEnv, ensureInfra, kafkaConfig, ROOT, uniquePrefix, waitFor } from '../../helpers/infra.ts';
import { nabSeries, offlineAnomalies, toBatches } from '../../helpers/nab-stream.ts';

const SERIES = ['realKnownCause/nyc_taxi.csv', 'realKnownCause/ec2_request_latency_system_failure.csv', 'realAWSCloudwatch/rds_cpu_utilization_cc0c53.csv'];
const RULES: CheckedRule[] = [
  defineRule('value > quantile(0.99, 1d) and value > mean(1h) + 2 * std(1h)', { id: 'extreme-high', severity: 'critical', description: 'far above the last day' }),
  defineRule('value < mean(1d) - 2 * std(1d) for 2', { id: 'collapse', severity: 'warning', description: 'collapse below the daily band' }),
];

const series = nabSeries(SERIES);
const batches = toBatches(series, 50);
const expected = offlineAnomalies(series, RULES, 'robust-z');
const runtimes: Runtime[] = [];

async function runtime(prefix: string): Promise<Runtime> {
  const rt = await createRuntime(kafkaConfig(prefix), { stage: 'test' });
  runtimes.push(rt);
  return rt;
}

async function produce(rt: Runtime, items: MetricBatch[]): Promise<void> {
  const topic = topicName('metrics', rt.config.topicPrefix);
  const p = await rt.transport.producer();
  for (let i = 0; i < items.length; i += 200) await p.send(items.slice(i, i + 200).map((b) => ({ topic, key: b.fingerprint, value: rt.serde.encode(topic, b) })));
  await p.close();
}

async function publishRules(rt: Runtime, rules: CheckedRule[]): Promise<void> {
  const topic = topicName('rules', rt.config.topicPrefix);
  const p = await rt.transport.producer();
  await p.send(rules.map((r) => ({ topic, key: r.spec.id, value: rt.serde.encode(topic, toRuleRecord(r)) })));
  await p.close();
}

async function committedCount(rt: Runtime, group: string): Promise<number> {
  const c = await rt.transport.committed(groupName(group, rt.config.topicPrefix), topicName('metrics', rt.config.topicPrefix));
  return [...c.values()].reduce((s, o) => s + Number(o), 0);
}

async function anomalies(rt: Runtime): Promise<Anomaly[]> {
  const topic = topicName('anomalies', rt.config.topicPrefix);
  const out: Anomaly[] = [];
  for (const r of await rt.transport.readToEnd(topic)) out.push((await rt.serde.decode<Anomaly>(topic, r.value)).value);
  return out;
}

const keyOf = (a: Anomaly) => `${a.fingerprint}@${a.timestampMs} ${a.ruleId ?? 'base'}`;

before(() => {
  ensureInfra();
  assert.ok(expected.length > 10, `the offline run finds anomalies (${expected.length})`);
});

after(async () => {
  for (const rt of runtimes) await rt.close().catch(() => undefined);
});

test('NAB series through metrics: the anomalies topic equals the offline run', async () => {
  const rt = await runtime(uniquePrefix('detect-one'));
  await publishRules(rt, RULES);
  await produce(rt, batches);
  const det = await startDetector(rt, { groupId: 'det', instanceId: 'one', base: 'robust-z' });
  await waitFor(async () => (await committedCount(rt, 'det')) === batches.length, 'all metrics committed', 120000, 500);
  await det.stop();
  const got = await anomalies(rt);
  assert.deepEqual(got.map(keyOf).sort(), expected);
  const withRule = got.find((a) => a.ruleId === 'extreme-high');
  assert.ok(withRule, 'a rule fired');
  assert.equal(withRule.ruleVersion, RULES[0].version);
  assert.ok(withRule.clauses.length > 0 && withRule.explanation.length > 0);
});

function spawnDetector(prefix: string, instance: string): { child: ChildProcess; commits: () => number } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'tests/helpers/detector-process.ts')], {
    cwd: ROOT,
    env: childEnv({ PANOPTES_TRANSPORT: 'kafka', PANOPTES_BROKERS: kafkaConfig(prefix).brokers.join(','), PANOPTES_REGISTRY_URL: kafkaConfig(prefix).registryUrl, PANOPTES_TOPIC_PREFIX: prefix, PANOPTES_LOG_LEVEL: 'error', DETECTOR_GROUP: 'det', DETECTOR_INSTANCE: instance, DETECTOR_MAX_BATCH: '5' }),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let commits = 0;
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    commits += (s.match(/^committed /gm) ?? []).length;
  });
  return { child, commits: () => commits };
}

test('kill -9 mid-stream and restart: no duplicate, no gap against the offline run', async () => {
  const prefix = uniquePrefix('detect-kill');
  const rt = await runtime(prefix);
  await publishRules(rt, RULES);
  await produce(rt, batches);
  const first = spawnDetector(prefix, 'victim');
  await waitFor(() => first.commits() >= 8, 'the first detector to commit some batches', 120000, 20);
  first.child.kill('SIGKILL');
  await new Promise((r) => first.child.once('exit', r));
  const mid = await committedCount(rt, 'det');
  assert.ok(mid > 0 && mid < batches.length, `killed mid-stream (${mid}/${batches.length} committed)`);
  const second = spawnDetector(prefix, 'victim');
  try {
    await waitFor(async () => (await committedCount(rt, 'det')) === batches.length, 'the restarted detector to finish', 180000, 500);
  } finally {
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  }
  const got = (await anomalies(rt)).map(keyOf).sort();
  assert.equal(new Set(got).size, got.length, 'no duplicate anomaly');
  assert.deepEqual(got, expected, 'no gap');
});

test('two instances split the partitions and together produce the same anomalies as one', async () => {
  const rt = await runtime(uniquePrefix('detect-two'));
  const rt2 = await createRuntime(kafkaConfig(rt.config.topicPrefix), { stage: 'test' });
  runtimes.push(rt2);
  await publishRules(rt, RULES);
  const a = await startDetector(rt, { groupId: 'det', instanceId: 'a', base: 'robust-z' });
  const b = await startDetector(rt2, { groupId: 'det', instanceId: 'b', base: 'robust-z' });
  await produce(rt, batches);
  await waitFor(async () => (await committedCount(rt, 'det')) === batches.length, 'all metrics committed by the pair', 180000, 500);
  const seriesA = a.seriesCount();
  const seriesB = b.seriesCount();
  await Promise.all([a.stop(), b.stop()]);
  assert.ok(seriesA > 0 && seriesB > 0, `both instances held series (${seriesA}, ${seriesB})`);
  assert.deepEqual((await anomalies(rt)).map(keyOf).sort(), expected);
});

test('a rule published while running takes effect without a restart', async () => {
  const rt = await runtime(uniquePrefix('detect-reload'));
  const det = await startDetector(rt, { groupId: 'det', instanceId: 'r', base: 'none' });
  const one = [series[0]];
  const all = toBatches(one, 50);
  const half = Math.floor(all.length / 2);
  await produce(rt, all.slice(0, half));
  await waitFor(async () => (await committedCount(rt, 'det')) === half, 'first half committed', 60000, 200);
  assert.equal((await anomalies(rt)).length, 0, 'no rules, no base: no anomalies');
  const rule = defineRule('value > 0', { id: 'always', severity: 'info' });
  await publishRules(rt, [rule]);
  await waitFor(() => det.rules().all().some((d) => d.rule.spec.id === 'always'), 'the rule to reach the detector', 30000, 100);
  await produce(rt, all.slice(half));
  await waitFor(async () => (await committedCount(rt, 'det')) === all.length, 'second half committed', 60000, 200);
  await det.stop();
  const got = await anomalies(rt);
  const secondHalfSamples = all.slice(half).reduce((s, b) => s + b.samples.length, 0);
  assert.equal(got.length, secondHalfSamples, 'every later sample flagged by the new rule');
  assert.ok(got.every((a) => a.ruleId === 'always' && a.ruleVersion === rule.version));
});
