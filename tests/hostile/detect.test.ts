/**
 * Hostile input to the detect stage (issue 15): what an attacker or a careless user sends never
 * stops a detector, never ends in a stack trace, and is answered with one positioned line.
 * - CLI: rule texts past the depth and size limits, numbers outside float64, Object.prototype names
 *   as functions, bad options and files — one line on stderr, exit 2 for usage, 1 otherwise;
 * - online (embedded transport): a sample stamped 9e15 ms is dead-lettered and the group goes on;
 *   NaN and ±Infinity values are missing samples; rules-topic records that do not decode or do
 *   not check (1,500 nested parentheses) are rejected with their reason;
 * - a fast-check fuzzer over rule texts and rule files: a compiled rule or positioned one-line
 *   diagnostics, never a throw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { main } from '../../pipelines/core/cli.ts';
import { loadConfig } from '../../pipelines/core/config.ts';
import { DLQ_HEADERS } from '../../pipelines/core/dead-letter.ts';
import type { Anomaly, MetricBatch, RuleRecord } from '../../pipelines/core/records.ts';
import { createRuntime, type Runtime } from '../../pipelines/core/runtime.ts';
import { groupName, topicName } from '../../pipelines/core/topics.ts';
import { EmbeddedBroker } from '../../pipelines/core/transport/embedded.ts';
import { defineRule, parseRuleFile, prepareRule, startDetector, toRuleRecord } from '../../pipelines/detect/index.ts';
import { waitFor } from '../helpers/infra.ts';

const dir = mkdtempSync(join(tmpdir(), 'hostile-detect-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const T0 = Date.UTC(2024, 0, 1);
const csv = file('ok.csv', `timestamp,value\n${Array.from({ length: 50 }, (_, i) => `${T0 + i * 60_000},${10 + (i % 3)}`).join('\n')}\n`);

/** Runs the CLI in-process: exit code and what it wrote. */
async function cli(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  // The CLI writes strings; the test runner's own reports (buffers) pass through.
  const capture = (into: string[], orig: typeof process.stdout.write) =>
    ((chunk: unknown, ...rest: unknown[]) => (typeof chunk === 'string' ? (into.push(...chunk.split('\n').filter(Boolean)), true) : (orig as (...a: unknown[]) => boolean)(chunk, ...rest))) as typeof process.stdout.write;
  process.stdout.write = capture(out, o);
  process.stderr.write = capture(err, e);
  try {
    return { code: await main(argv), out, err };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

/** One line on stderr, no stack trace, the expected exit code and text. */
function oneLine(r: { code: number; err: string[] }, code: number, re: RegExp): void {
  assert.equal(r.err.length, 1, `one line on stderr, got ${JSON.stringify(r.err)}`);
  assert.equal(r.code, code, r.err[0]);
  assert.match(r.err[0]!, re);
  assert.doesNotMatch(r.err[0]!, /unexpected error|\bat .*\.ts:\d+/);
}

const deep = `${'('.repeat(1500)}value${')'.repeat(1500)} > 1`;

test('rules check: 1,500 nested parentheses, a 20 kB rule, 1e309 and constructor(1) are positioned one-line errors', async () => {
  const cases: [string, RegExp][] = [
    [deep, /:1:101: expression nested too deeply at '\(' \(more than 100 levels\)/],
    [`value > ${'1 + '.repeat(5000)}1`, /:1:10001: rule expression is 20009 characters, more than the limit of 10000/],
    ['value > 1e309', /:1:9: number '1e309' is outside the range of a 64-bit float/],
    ['value > mean(1e400h)', /:1:14: number '1e400' is outside the range/],
    ['constructor(1) > 1', /:1:1: unknown function 'constructor'$/],
  ];
  for (const [text, re] of cases) {
    const r = await cli('rules', 'check', file('r.txt', text));
    assert.equal(r.code, 1);
    assert.equal(r.out.length, 1, JSON.stringify(r.out));
    assert.match(r.out[0]!, re);
    assert.deepEqual(r.err, [`${join(dir, 'r.txt')}: 1 error(s)`]);
  }
});

test('Object.prototype names are unknown functions, never a "did you mean" of a native function', () => {
  for (const name of ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__', '__defineGetter__', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString']) {
    const { rule, diagnostics } = prepareRule({ id: 'r', kind: 'FN', severity: 'warning', description: '', expr: `${name}(1) > 1` });
    assert.equal(rule, undefined);
    assert.equal(diagnostics.length, 1, name);
    assert.doesNotMatch(diagnostics[0]!.message, /did you mean|native|\[/, `${name}: ${diagnostics[0]!.message}`);
    assert.match(diagnostics[0]!.message, new RegExp(`^unknown function '${name}'`));
  }
});

test('detect: bad options exit 2, bad files and rules exit 1, each with one line', async () => {
  oneLine(await cli('detect', '--csv', csv, '--max-series', '0'), 2, /--max-series: expected an integer ≥ 1, got 0/);
  oneLine(await cli('detect', '--csv', csv, '--base', 'prophet'), 2, /--base: expected one of .*none, got "prophet"/);
  oneLine(await cli('detect', '--csv', csv, '--season', 'daily'), 2, /--season: expected a duration/);
  oneLine(await cli('detect', '--csv', csv, '--window', '0'), 2, /--window: expected an integer from 1/);
  oneLine(await cli('detect', '--csv', csv, '--threshold=-1'), 2, /--threshold: expected a finite number > 0, got -1/);
  oneLine(await cli('detect', '--csv', csv, '--threshold', '1e309'), 2, /--threshold expects a number, got "1e309"/);
  oneLine(await cli('detect', '--csv', csv, '--rebuild', 'soon'), 2, /--rebuild: expected auto, all or a duration/);
  oneLine(await cli('detect', '--csv', csv, '--rebuild', '-1h'), 2, /argument is ambiguous.*--rebuild=-XYZ.*--help lists the options\)$/);
  oneLine(await cli('detect', '--csv', csv, '--no-such'), 2, /Unknown option '--no-such'.*--help lists the options/);
  oneLine(await cli('detect', '--csv', csv, '--base', 'none'), 2, /--base none needs --rules/);
  oneLine(await cli('detect', '--rules', file('x.yaml', 'value > 1')), 2, /--rules goes with --csv/);
  oneLine(await cli('detect', '--csv', join(dir, 'missing.csv')), 1, /cannot read CSV file .*missing\.csv: no such file/);
  oneLine(await cli('detect', '--csv', dir), 1, /is a directory/);
  oneLine(await cli('detect', '--csv', file('t.csv', 'timestamp,value\n9000000000000000,1\n')), 1, /t\.csv:2: bad timestamp '9000000000000000'/);
  oneLine(await cli('detect', '--csv', file('v.csv', `timestamp,value\n${T0},1e309\n`)), 1, /v\.csv:2: bad value '1e309'/);
  oneLine(await cli('detect', '--csv', csv, '--rules', file('deep.txt', deep)), 1, /deep\.txt:1:101: expression nested too deeply/);
  oneLine(await cli('detect', '--csv', csv, '--rules', file('two.yaml', 'rules:\n  - id: a\n    expr: value > 1e309\n  - id: b\n    expr: nope(1) > 1\n')), 1, /two\.yaml:3:19: .*outside the range of a 64-bit float.* \(and 1 more; panoptes rules check .* lists every one\)$/);
  // A good run still works, and NaN / empty values are missing samples.
  const r = await cli('detect', '--csv', file('gaps.csv', `timestamp,value\n${T0},1\n${T0 + 60_000},NaN\n${T0 + 120_000},\n${T0 + 180_000},2\n`), '--base', 'robust-z', '--window', '3');
  assert.equal(r.code, 0, r.err.join('\n'));
  assert.match(r.err.at(-1)!, /4 rows, 2 accepted, 0 anomalies \(skipped: 0 out of order, 0 duplicate timestamps, 2 missing\)/);
});

test('fuzz: any rule text is a compiled rule or one-line positioned diagnostics, never a throw', () => {
  const atoms = ['value', '(', ')', '1', '0.5', '1e309', '-1e308', '-', '+', '*', '/', '>', '<=', '==', '!=', 'and', 'or', 'not', 'for', '3', '5m', '1h30m', '1e400s', 'samples', 'mean(', 'std(', 'quantile(', 'ewma(', 'lag(', 'seasonal(', 'abs(', ',', ' ', '\n', '\t', '#c\n', 'constructor', '__proto__', 'toString', '.5', '0x10', '∞', '"', "'", ':', '- ', 'rules:', 'expr:', 'id:', '99999999999999999999999d', '0s'];
  const text = fc.oneof(
    fc.array(fc.oneof(fc.constantFrom(...atoms), fc.string({ maxLength: 3 })), { maxLength: 60 }).map((a) => a.join('')),
    fc.tuple(fc.nat({ max: 400 }), fc.constantFrom('(', 'not ', '-', 'abs(', '1 + ')).map(([n, s]) => `${s.repeat(n)}value > 1`),
  );
  fc.assert(
    fc.property(text, (src) => {
      const r = prepareRule({ id: 'r', kind: 'FN', severity: 'warning', description: '', expr: src });
      if (r.rule) return r.diagnostics.length === 0;
      assert.ok(r.diagnostics.length > 0);
      for (const d of r.diagnostics) {
        assert.ok(d.line >= 1 && d.col >= 1 && d.offset >= 0, JSON.stringify(d));
        assert.ok(!d.message.includes('\n') && d.message.length > 0, d.message);
      }
      // The same text as a rule file: as YAML's expr, or as the whole file.
      const f = src.length % 2 === 0 ? parseRuleFile(`rules:\n  - id: r\n    expr: ${JSON.stringify(src)}\n`, 'f.yaml') : parseRuleFile(src, 'g.yaml');
      for (const d of f.diagnostics) assert.ok(d.line >= 1 && d.col >= 1 && !d.message.includes('\n'), JSON.stringify(d));
      return true;
    }),
    { numRuns: 1000, seed: 15 },
  );
});

// --- online, on the embedded transport -------------------------------------------------------

async function runtime(prefix: string): Promise<Runtime> {
  return createRuntime(loadConfig({ env: { PANOPTES_TOPIC_PREFIX: prefix, PANOPTES_LOG_LEVEL: 'silent' } }), { stage: 'test', broker: new EmbeddedBroker() });
}

const batch = (fingerprint: string, samples: [number, number][]): MetricBatch => ({
  fingerprint,
  labels: { __name__: 'hostile', fp: fingerprint },
  samples: samples.map(([t, v]) => ({ timestampMs: t, value: v, stale: false })),
  source: 'test',
  receivedAtMs: 0,
  exemplarsDropped: 0,
  histogramsDropped: 0,
});

async function produce(rt: Runtime, items: MetricBatch[]): Promise<void> {
  const topic = topicName('metrics', rt.config.topicPrefix);
  const p = await rt.transport.producer();
  await p.send(items.map((b) => ({ topic, key: b.fingerprint, value: rt.serde.encode(topic, b) })));
  await p.close();
}

async function committed(rt: Runtime, group: string): Promise<number> {
  const c = await rt.transport.committed(groupName(group, rt.config.topicPrefix), topicName('metrics', rt.config.topicPrefix));
  return [...c.values()].reduce((s, o) => s + Number(o), 0);
}

async function anomalies(rt: Runtime): Promise<Anomaly[]> {
  const t = topicName('anomalies', rt.config.topicPrefix);
  const out: Anomaly[] = [];
  for (const r of await rt.transport.readToEnd(t)) out.push((await rt.serde.decode<Anomaly>(t, r.value)).value);
  return out;
}

test('online: a sample stamped 9e15 ms is dead-lettered with its reason and the group goes on; NaN and ±Infinity are missing samples', async () => {
  const rt = await runtime('poison.');
  const rules = topicName('rules', 'poison.');
  const p = await rt.transport.producer();
  await p.send([{ topic: rules, key: 'high', value: rt.serde.encode(rules, toRuleRecord(defineRule('value > 100', { id: 'high' }))) }]);
  await p.close();
  const m = (i: number) => T0 + i * 60_000;
  await produce(rt, [
    batch('a', [[m(0), 1], [m(1), 500]]),
    // The poison: 9e15 ms is past the Date range; its first sample would fire the rule.
    batch('a', [[m(2), 500], [9e15, 500]]),
    batch('a', [[m(3), NaN], [m(4), Infinity], [m(5), -Infinity], [m(6), 700]]),
  ]);
  const det = await startDetector(rt, { groupId: 'g', instanceId: 'i', base: 'none' });
  await waitFor(async () => (await committed(rt, 'g')) === 3, 'all three records committed', 10000, 20);
  await det.stop();
  const dead = await rt.transport.readToEnd(topicName('deadLetters', 'poison.'));
  assert.equal(dead.length, 1);
  assert.equal(dead[0]!.headers[DLQ_HEADERS.kind], 'process');
  assert.equal(dead[0]!.headers[DLQ_HEADERS.offset], '1');
  assert.match(dead[0]!.headers[DLQ_HEADERS.reason]!, /sample 1 of series a .*: timestamp 9000000000000000 ms is outside the date range/);
  // The poison record was refused whole (its first sample fired nothing); the next one went on.
  assert.deepEqual((await anomalies(rt)).map((a) => a.timestampMs), [m(1), m(6)]);
  const samples = await rt.metrics.getSingleMetric('panoptes_detect_samples_total')!.get();
  assert.equal(samples.values.find((v) => v.labels.outcome === 'nan')!.value, 3);
  await rt.close();
});

test('online: rules-topic records that do not decode or do not check (1,500 nested parentheses) are rejected with their reason; the detector goes on', async () => {
  const rt = await runtime('rules.');
  const topic = topicName('rules', 'rules.');
  const p = await rt.transport.producer();
  const deepRecord: RuleRecord = { ...toRuleRecord(defineRule('value > 1', { id: 'deep' })), expr: deep };
  await p.send([
    { topic, key: 'garbage', value: Buffer.from('not a rule record') },
    { topic, key: 'deep', value: rt.serde.encode(topic, deepRecord) },
  ]);
  const det = await startDetector(rt, { groupId: 'r', instanceId: 'r1', base: 'none' });
  assert.match(det.rejected().get('garbage')!, /does not decode/);
  assert.match(det.rejected().get('deep')!, /1:101: expression nested too deeply/);
  // On the tail: a good rule is deployed; more bad ones are rejected.
  await p.send([{ topic, key: 'spike', value: rt.serde.encode(topic, toRuleRecord(defineRule('value > 1000', { id: 'spike' }))) }]);
  await p.send([
    { topic, key: 'deep2', value: rt.serde.encode(topic, { ...deepRecord, id: 'deep2' }) },
    { topic, key: 'big', value: rt.serde.encode(topic, { ...deepRecord, id: 'big', expr: 'value > 1e309' }) },
    { topic, key: 'junk2', value: Buffer.from([0, 0, 0, 0, 99, 1]) },
  ]);
  await p.close();
  await waitFor(() => det.rules().all().some((d) => d.rule.spec.id === 'spike') && det.rejected().has('junk2'), 'the tail applied', 10000, 20);
  assert.match(det.rejected().get('big')!, /outside the range of a 64-bit float/);
  await produce(rt, [batch('x', [[T0, 1], [T0 + 60_000, 5000]])]);
  await waitFor(async () => (await committed(rt, 'r')) === 1, 'metrics committed', 10000, 20);
  assert.deepEqual((await anomalies(rt)).map((a) => a.ruleId), ['spike']);
  const m = await rt.metrics.getSingleMetric('panoptes_detect_rule_records_rejected_total')!.get();
  assert.deepEqual(Object.fromEntries(m.values.map((v) => [v.labels.reason, v.value])), { decode: 2, check: 3 });
  await det.stop();
  await rt.close();
});
