import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OnlineDetector } from '../../../pipelines/detect/engine/online.ts';
import { RuleSet, toRuleRecord } from '../../../pipelines/detect/rules/rule-records.ts';
import { defineRule } from '../../../pipelines/detect/rules/rule.ts';
import { createBaseDetector } from '../../../pipelines/detect/base/index.ts';
import type { MetricBatch } from '../../../pipelines/core/records.ts';

function batch(fp: string, labels: Record<string, string>, t0: number, values: number[]): MetricBatch {
  return { fingerprint: fp, labels, samples: values.map((v, i) => ({ timestampMs: t0 + i * 60000, value: v, stale: false })), source: 't', receivedAtMs: 0, exemplarsDropped: 0, histogramsDropped: 0 };
}

const spike = defineRule('value > 100', { id: 'spike', severity: 'critical', description: 'over 100' });

test('RuleSet: set, unchanged, rejected with the checker reason, deleted', () => {
  const set = new RuleSet();
  assert.deepEqual(set.apply('spike', toRuleRecord(spike, { now: 1 })), { kind: 'set', id: 'spike', version: spike.version });
  assert.equal(set.apply('spike', toRuleRecord(spike, { now: 2 })).kind, 'unchanged');
  const bad = { ...toRuleRecord(spike), id: 'bad', expr: 'value > mean(' };
  const u = set.apply('bad', bad);
  assert.equal(u.kind, 'rejected');
  assert.match((u as { reason: string }).reason, /rule bad:1:\d+/);
  assert.equal(set.all().length, 1, 'the bad rule is not deployed, the good one stays');
  assert.equal(set.apply('spike', null).kind, 'deleted');
  assert.equal(set.all().length, 0);
});

test('RuleSet selectors choose the series a rule runs on', () => {
  const set = new RuleSet();
  set.apply('spike', toRuleRecord(spike, { selector: { service: 'checkout' } }));
  assert.equal(set.forLabels({ service: 'checkout', __name__: 'x' }).length, 1);
  assert.equal(set.forLabels({ service: 'cart' }).length, 0);
});

test('OnlineDetector: anomaly records name the rule, version, clauses; ids are deterministic', () => {
  const set = new RuleSet();
  set.apply('spike', toRuleRecord(spike));
  const d = new OnlineDetector(set, { now: () => 42 });
  const out = d.process(0, batch('fp1', { __name__: 'cpu' }, 0, [1, 2, 150, 3]));
  assert.equal(out.length, 1);
  const a = out[0];
  assert.equal(a.ruleId, 'spike');
  assert.equal(a.ruleVersion, spike.version);
  assert.equal(a.ruleKind, 'FN');
  assert.equal(a.severity, 'critical');
  assert.equal(a.timestampMs, 120000);
  assert.equal(a.value, 150);
  assert.equal(a.detectedAtMs, 42);
  assert.ok(a.clauses.length >= 1 && a.clauses[0].text.includes('150'));
  assert.match(a.explanation, /150/);
  const again = new OnlineDetector(set, { now: () => 7 }).process(3, batch('fp1', { __name__: 'cpu' }, 0, [1, 2, 150, 3]));
  assert.equal(again[0].id, a.id, 'same input, same id');
});

test('OnlineDetector: rebuild replays state without output, then process continues exactly', () => {
  const rule = defineRule('value > mean(30m) + 3 * std(30m) for 2', { id: 'sustained' });
  const set = new RuleSet();
  set.apply('sustained', toRuleRecord(rule));
  const values = Array.from({ length: 200 }, (_, i) => 10 + Math.sin(i / 3) + (i >= 120 && i < 126 ? 30 : 0));
  const batches = Array.from({ length: 20 }, (_, k) => batch('fp', { __name__: 'x' }, k * 10 * 60000, values.slice(k * 10, k * 10 + 10)));
  const whole = new OnlineDetector(set, { now: () => 0, baseFactory: () => createBaseDetector('robust-z') });
  const expected = batches.flatMap((b) => whole.process(0, b));
  assert.ok(expected.length > 0);
  const split = new OnlineDetector(set, { now: () => 0, baseFactory: () => createBaseDetector('robust-z') });
  for (const b of batches.slice(0, 11)) split.rebuild(0, b);
  const rest = batches.slice(11).flatMap((b) => split.process(0, b));
  assert.deepEqual(rest, expected.filter((a) => a.timestampMs >= 110 * 60000));
});

test('OnlineDetector: setRules hot-swaps; stale markers are skipped', () => {
  const set = new RuleSet();
  const d = new OnlineDetector(set, { now: () => 0 });
  assert.equal(d.process(0, batch('fp', {}, 0, [500])).length, 0, 'no rules, no base: nothing');
  const next = new RuleSet();
  next.apply('spike', toRuleRecord(spike));
  d.setRules(next);
  const b = batch('fp', {}, 60000, [500, 600]);
  b.samples[1].stale = true;
  assert.equal(d.process(0, b).length, 1, 'the stale marker is not evaluated');
});

test('OnlineDetector: a rule fault is reported once per series with that series labels; the others go on', () => {
  const set = new RuleSet();
  set.apply('overflow', toRuleRecord(defineRule('value * 1e308 < 0', { id: 'overflow' })));
  set.apply('spike', toRuleRecord(spike));
  const faults: string[] = [];
  const d = new OnlineDetector(set, { now: () => 0, onRuleError: (f, labels) => faults.push(`${labels.__name__} ${f.ruleId}@${f.t}`) });
  // 1 × 1e308 is finite; 5 × 1e308 and 7 × 1e308 overflow.
  const a = d.process(0, batch('fp-a', { __name__: 'a' }, 0, [1, 5, 150]));
  const b = d.process(0, batch('fp-b', { __name__: 'b' }, 0, [0, 0, 7, 150]));
  assert.deepEqual(faults, ['a overflow@60000', 'b overflow@120000']);
  assert.deepEqual([...a, ...b].map((x) => `${x.fingerprint} ${x.timestampMs} ${x.ruleId}`), ['fp-a 120000 spike', 'fp-b 180000 spike']);
});

test('OnlineDetector: its anomalies are those of SeriesDetector.update on the same samples (base + rules)', async () => {
  const { SeriesDetector } = await import('../../../pipelines/detect/engine/series-detector.ts');
  const rules = [defineRule('value > mean(30m) + 3 * std(30m) and value > quantile(0.9, 1h)', { id: 'band' }), spike];
  const set = new RuleSet();
  for (const r of rules) set.apply(r.spec.id, toRuleRecord(r));
  const online = new OnlineDetector(set, { baseFactory: () => createBaseDetector('ensemble'), now: () => 0 });
  const offline = new SeriesDetector({ rules, base: createBaseDetector('ensemble') });
  const values = Array.from({ length: 1500 }, (_, i) => 50 + 10 * Math.sin(i / 30) + ((i * 7919) % 13) / 3 + (i % 211 === 100 ? 60 : 0));
  const got: number[] = [];
  for (let i = 0; i < values.length; i += 50) for (const x of online.process(0, batch('fp', { __name__: 'x' }, i * 60000, values.slice(i, i + 50)))) got.push(x.timestampMs);
  const want = values.flatMap((v, i) => (offline.update(i * 60000, v).isAnomaly ? [i * 60000] : []));
  assert.ok(want.length >= 5, `${want.length} anomalies`);
  assert.deepEqual(got, want);
});
