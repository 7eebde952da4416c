/**
 * The online detector as a stage, on the embedded transport: online and `detect --csv` agree on the
 * same series with the same options (defaults included); a rule fault is counted once; the series
 * cap holds; the rebuild on assignment reads only the
 * lookback the rules and base detector need and ends in the state an uninterrupted run has.
 * (Poison records and bad rule records: tests/hostile/detect.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommandArgs } from '../../../pipelines/core/cli.ts';
import type { CliIo } from '../../../pipelines/core/cli-types.ts';
import { loadConfig } from '../../../pipelines/core/config.ts';
import type { Anomaly, MetricBatch } from '../../../pipelines/core/records.ts';
import { createRuntime, type Runtime } from '../../../pipelines/core/runtime.ts';
import { groupName, topicName } from '../../../pipelines/core/topics.ts';
import { EmbeddedBroker } from '../../../pipelines/core/transport/embedded.ts';
import { commands } from '../../../pipelines/detect/cli.ts';
import { DEFAULT_BASE_DETECTOR, defineRule, detectSpec, startDetector, toRuleRecord } from '../../../pipelines/detect/index.ts';
import { waitFor } from '../../helpers/infra.ts';

const STEP = 60_000;
const T0 = Date.UTC(2024, 0, 1);

/** A daily-seasonal series at 1-minute steps with spikes (and a NaN and an Infinity, which are missing samples). */
function series(n: number): { t: number[]; v: number[] } {
  const t: number[] = [];
  const v: number[] = [];
  let seed = 7;
  const noise = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 2;
  for (let i = 0; i < n; i++) {
    t.push(T0 + i * STEP);
    let x = 100 + 20 * Math.sin((2 * Math.PI * i) / 1440) + noise();
    if (i > 400 && i % 337 === 0) x += 60;
    if (i === 500) x = NaN;
    if (i === 501) x = Infinity;
    v.push(x);
  }
  return { t, v };
}

function batches(s: { t: number[]; v: number[] }, fingerprint = 'fp-cmp', labels: Record<string, string> = { __name__: 'cmp' }, chunk = 20): MetricBatch[] {
  const out: MetricBatch[] = [];
  for (let i = 0; i < s.t.length; i += chunk) {
    out.push({ fingerprint, labels, samples: s.t.slice(i, i + chunk).map((t, k) => ({ timestampMs: t, value: s.v[i + k]!, stale: false })), source: 'test', receivedAtMs: 0, exemplarsDropped: 0, histogramsDropped: 0 });
  }
  return out;
}

async function runtime(prefix: string, broker = new EmbeddedBroker()): Promise<Runtime> {
  return createRuntime(loadConfig({ env: { PANOPTES_TOPIC_PREFIX: prefix, PANOPTES_LOG_LEVEL: 'silent' } }), { stage: 'test', broker });
}

async function produce(rt: Runtime, items: MetricBatch[], timestamp?: (i: number) => number): Promise<void> {
  const topic = topicName('metrics', rt.config.topicPrefix);
  const p = await rt.transport.producer();
  await p.send(items.map((b, i) => ({ topic, key: b.fingerprint, value: rt.serde.encode(topic, b), ...(timestamp ? { timestamp: timestamp(i) } : {}) })));
  await p.close();
}

async function committed(rt: Runtime, group: string): Promise<number> {
  const c = await rt.transport.committed(groupName(group, rt.config.topicPrefix), topicName('metrics', rt.config.topicPrefix));
  return [...c.values()].reduce((s, o) => s + Number(o), 0);
}

function io(signal = new AbortController().signal): CliIo & { lines: string[]; errs: string[] } {
  const lines: string[] = [];
  const errs: string[] = [];
  return { lines, errs, out: (l) => void lines.push(l), err: (l) => void errs.push(l), json: true, signal };
}

const detect = commands.find((c) => c.name === 'detect')!;

for (const flags of [[], ['--base', 'robust-z', '--window', '60', '--threshold', '5']]) {
  test(`online detect and detect --csv find the same anomalies (${flags.length === 0 ? `defaults: ${DEFAULT_BASE_DETECTOR}` : flags.join(' ')})`, async () => {
    const s = series(3000);
    const dir = mkdtempSync(join(tmpdir(), 'detect-cmp-'));
    const csv = join(dir, 's.csv');
    writeFileSync(csv, `timestamp,value\n${s.t.map((t, i) => `${t},${Number.isFinite(s.v[i]) ? s.v[i] : "NaN"}`).join('\n')}\n`);
    const offline = io();
    assert.equal(await detect.run(parseCommandArgs(detect, ['--csv', csv, ...flags, '--json']), offline), 0);
    const expected = offline.lines.map((l) => JSON.parse(l) as { t: number; rule: string }).map((a) => `${a.t} ${a.rule}`);
    assert.ok(expected.length >= 3, `the offline run finds anomalies (${expected.length})`);

    // The online command runs on the default embedded broker, configured from the environment.
    const prefix = `cmp${flags.length}.`;
    process.env.PANOPTES_TOPIC_PREFIX = prefix;
    process.env.PANOPTES_LOG_LEVEL = 'silent';
    const rt = await createRuntime(loadConfig(), { stage: 'test' });
    const items = batches(s);
    await produce(rt, items);
    const stop = new AbortController();
    const online = io(stop.signal);
    const running = detect.run(parseCommandArgs(detect, [...flags, '--json', '--group', 'cmp']), online);
    await waitFor(async () => (await committed(rt, 'cmp')) === items.length, 'every record committed', 20000, 20);
    stop.abort();
    assert.equal(await running, 0);
    await rt.close();
    const base = flags.length === 0 ? DEFAULT_BASE_DETECTOR : 'robust-z';
    const got = online.lines.map((l) => JSON.parse(l) as Anomaly).map((a) => `${a.timestampMs} ${a.ruleId ?? `base:${a.detector}`}`);
    assert.ok(got.every((g) => g.endsWith(`base:${base}`)));
    assert.deepEqual(got, expected);
  });
}

test('a rule fault online is counted once in panoptes_detect_rule_faults_total', async () => {
  const rt = await runtime('faults.');
  const topic = topicName('rules', 'faults.');
  const p = await rt.transport.producer();
  await p.send([{ topic, key: 'overflow', value: rt.serde.encode(topic, toRuleRecord(defineRule('value * 1e308 > 1', { id: 'overflow' }))) }]);
  await p.close();
  // Two series: one fault each (the rule is then quarantined on that series).
  await produce(rt, [...batches(series(40), 'fp-a', { __name__: 'a' }), ...batches(series(40), 'fp-b', { __name__: 'b' })]);
  const det = await startDetector(rt, { groupId: 'f', instanceId: 'f1', base: 'none' });
  await waitFor(async () => (await committed(rt, 'f')) === 4, 'metrics committed', 10000, 20);
  await det.stop();
  const m = await rt.metrics.getSingleMetric('panoptes_detect_rule_faults_total')!.get();
  assert.deepEqual(m.values.map((v) => [v.labels.rule, v.value]), [['overflow', 2]]);
  await rt.close();
});

test('maxSeries caps the series tracked; the excess is dropped and counted, never tracked', async () => {
  const rt = await runtime('cap.');
  const items = Array.from({ length: 50 }, (_, i) => batches(series(5), `fp-${i}`, { __name__: 'cap', i: String(i) })[0]!);
  await produce(rt, items);
  const det = await startDetector(rt, { groupId: 'c', instanceId: 'c1', base: 'none', maxSeries: 10 });
  await waitFor(async () => (await committed(rt, 'c')) === 50, 'metrics committed', 10000, 20);
  assert.equal(det.seriesCount(), 10);
  await det.stop();
  const dropped = await rt.metrics.getSingleMetric('panoptes_detect_series_dropped_total')!.get();
  assert.equal(dropped.values[0]!.value, 40);
  const samples = await rt.metrics.getSingleMetric('panoptes_detect_samples_total')!.get();
  assert.equal(samples.values.find((v) => v.labels.outcome === 'series_cap')!.value, 40 * 5);
  await rt.close();
});

test('the rebuild on assignment seeks by timestamp to what the rules need, and ends where an uninterrupted run is', async () => {
  const broker = new EmbeddedBroker();
  const rt = await runtime('rebuild.', broker);
  const rulesTopic = topicName('rules', 'rebuild.');
  const rule = defineRule('value > mean(2h) + 4 * std(2h) for 2', { id: 'band' });
  const p = await rt.transport.producer();
  await p.send([{ topic: rulesTopic, key: 'band', value: rt.serde.encode(rulesTopic, toRuleRecord(rule)) }]);
  await p.close();
  // Two days of one series, one record per 10 minutes, each record stamped with its samples' time.
  const s = series(2880);
  for (const i of [1700, 1701, 2300, 2301, 2302]) s.v[i] = s.v[i]! + 80;
  const items = batches(s, 'fp-rb', { __name__: 'rb' }, 10);
  const stamp = (i: number) => T0 + (i * 10 + 9) * STEP;
  const half = 200;
  await produce(rt, items.slice(0, half), stamp);
  const first = await startDetector(rt, { groupId: 'rb', instanceId: 'one', base: 'none' });
  await waitFor(async () => (await committed(rt, 'rb')) === half, 'the first half committed', 10000, 20);
  await first.stop();
  await produce(rt, items.slice(half), (i) => stamp(i + half));
  const second = await startDetector(rt, { groupId: 'rb', instanceId: 'two', base: 'none' });
  await waitFor(async () => (await committed(rt, 'rb')) === items.length, 'the second half committed', 10000, 20);
  await second.stop();
  const info = [...second.lastRebuild().values()][0]!;
  // 2h for the window + 2 samples for `for`, at the 1-minute interval learned, with slack: far less than 200 records.
  assert.ok(info.records > 12 && info.records < 30, `replayed ${info.records} records of ${half}`);
  assert.ok(info.lookbackMs < 4 * 3_600_000, `lookback ${info.lookbackMs} ms`);
  // The anomalies equal one uninterrupted run over everything.
  const all = new EmbeddedBroker();
  const rt2 = await runtime('rebuild.', all);
  const p2 = await rt2.transport.producer();
  await p2.send([{ topic: rulesTopic, key: 'band', value: rt2.serde.encode(rulesTopic, toRuleRecord(rule)) }]);
  await p2.close();
  await produce(rt2, items, stamp);
  const whole = await startDetector(rt2, { groupId: 'rb', instanceId: 'w', base: 'none' });
  await waitFor(async () => (await committed(rt2, 'rb')) === items.length, 'the uninterrupted run committed', 10000, 20);
  await whole.stop();
  const read = async (r: Runtime) => {
    const t = topicName('anomalies', 'rebuild.');
    const out: string[] = [];
    for (const rec of await r.transport.readToEnd(t)) out.push(String((await r.serde.decode<Anomaly>(t, rec.value)).value.timestampMs));
    return out.sort();
  };
  const expected = await read(rt2);
  assert.ok(expected.length >= 2, `the rule fires (${expected.length})`);
  assert.deepEqual(await read(rt), expected);
  await rt.close();
  await rt2.close();
});

test('the spec: every option has a flag and a doc, the base default is the base module\'s, errors name the flag', () => {
  assert.equal(detectSpec.defaults().base, DEFAULT_BASE_DETECTOR);
  for (const [k, f] of Object.entries(detectSpec.fields)) assert.ok(f.doc.length > 20, `${k} has a doc`);
  assert.throws(() => detectSpec.fromArgs(parseCommandArgs(detect, ['--max-series', '0'])), /--max-series: expected an integer ≥ 1, got 0/);
  assert.throws(() => detectSpec.fromArgs(parseCommandArgs(detect, ['--rebuild', 'soon'])), /--rebuild: expected auto, all or a duration/);
  assert.throws(() => detectSpec.fromArgs(parseCommandArgs(detect, ['--base', 'prophet'])), /--base: expected one of/);
});
