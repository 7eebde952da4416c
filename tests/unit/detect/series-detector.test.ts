import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { RuleError } from '../../../pipelines/core/errors.ts';
import { combineLabels } from '../../../pipelines/detect/engine/aggregate.ts';
import type { BaseDetector, BaseResult } from '../../../pipelines/detect/base/types.ts';
import { DetectMetrics } from '../../../pipelines/detect/engine/metrics.ts';
import { defineRule } from '../../../pipelines/detect/rules/rule.ts';
import type { Decision, RuleFault } from '../../../pipelines/detect/engine/series-detector.ts';
import { SeriesDetector } from '../../../pipelines/detect/engine/series-detector.ts';
import { load } from './helpers.ts';

function feed(d: SeriesDetector, samples: { t: number; v: number }[]): Decision[] {
  return samples.map((s) => d.update(s.t, s.v));
}
const firedIds = (ds: Decision[]) => ds.map((d) => [...d.fn, ...d.fp].map((f) => f.ruleId).join(','));

describe('SeriesDetector input handling', () => {
  it('drops out-of-order and duplicate timestamps (first wins) and skips NaN', () => {
    const d = new SeriesDetector({ rules: [defineRule('sum(3 samples) > 10', { id: 's' })] });
    const t0 = 1_700_000_000_000;
    const out = feed(d, [
      { t: t0, v: 1 },
      { t: t0 + 60_000, v: 2 },
      { t: t0 + 60_000, v: 100 }, // duplicate: dropped, the 2 stays
      { t: t0 + 30_000, v: 100 }, // out of order
      { t: t0 + 120_000, v: NaN },
      { t: t0 + 180_000, v: Infinity },
      { t: t0 + 180_000, v: 3 }, // same timestamp as the skipped Infinity: duplicate
      { t: t0 + 240_000, v: 4 },
      { t: NaN, v: 4 },
      { t: t0 + 300_000, v: 5 },
    ]);
    assert.deepEqual(out.map((x) => x.status), ['accepted', 'accepted', 'duplicate', 'out-of-order', 'nan', 'nan', 'duplicate', 'accepted', 'nan', 'accepted']);
    // Windows saw 1, 2, 4, 5: sum of the last 3 is 7 then 11.
    assert.deepEqual(firedIds(out), ['', '', '', '', '', '', '', '', '', 's']);
    assert.equal(out[9]!.fn[0]!.text, 'sum(3 samples) 11 > 10');
    assert.deepEqual(d.stats, { accepted: 4, outOfOrder: 1, duplicates: 2, nan: 3, faults: 0, quarantined: 0 });
  });

  it('NaN samples neither advance nor reset a for streak; false resets it', () => {
    const d = new SeriesDetector({ rules: [defineRule('value > 5 for 3', { id: 'p' })] });
    const out = feed(d, load('1m', '6 NaN 6 6 6 1 6 6 6'));
    assert.deepEqual(out.map((x) => x.fn.map((f) => f.streak).join()), ['', '', '', '3', '4', '', '', '', '3']);
  });

  it('for a duration fires once the condition has held that long, across gaps', () => {
    const d = new SeriesDetector({ rules: [defineRule('value > 5 for 3m', { id: 'p' })] });
    const out = feed(d, load('1m', '6 6 _ 6 6 1 6'));
    assert.deepEqual(out.map((x) => x.isAnomaly), [false, false, true, true, false, false]);
    assert.equal(out[2]!.fn[0]!.explanation, 'value 6 is above the threshold 5 for 3m (3 samples)');
  });
});

describe('explanations', () => {
  it('names the rule, version and every clause value, and says it in one sentence', () => {
    const rule = defineRule('value > mean(4 samples) + 1 * std(4 samples) and value > quantile(0.5, 4 samples) for 2', { id: 'spike', severity: 'critical' });
    const d = new SeriesDetector({ rules: [rule] });
    const out = feed(d, load('1m', '1 1 1 9 12'));
    const f = out[4]!.fn[0]!;
    assert.equal(f.ruleId, 'spike');
    assert.equal(f.ruleVersion, rule.version);
    assert.equal(f.severity, 'critical');
    assert.equal(f.streak, 2);
    assert.deepEqual(f.clauses.map((c) => c.text), [
      'value 12 > mean(4 samples) 5.75 + 1 × std(4 samples) 4.87 = 10.6',
      'value 12 > quantile(0.5, 4 samples) 5',
    ]);
    assert.equal(f.explanation, 'value 12 is 1.3 standard deviations above its 4-sample mean 5.75, and value 12 is above the 50th percentile of its last 4 samples (5) for 2 samples');
  });

  it('explains z-scores over a time window like the design example', () => {
    const vals = Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? 40 : 42)).join(' ');
    const d = new SeriesDetector({ rules: [defineRule('value > mean(1h) + 4 * std(1h)', { id: 'z' })] });
    const out = feed(d, load('1m', `${vals} 95`));
    const f = out.at(-1)!.fn[0]!;
    assert.equal(f.text, 'value 95 > mean(1h) 41.9 + 4 × std(1h) 6.98 = 69.8');
    assert.equal(f.explanation, 'value 95 is 7.6 standard deviations above its 1h mean 41.9');
  });

  it('explains or, not, median/MAD and generic comparisons', () => {
    const d = new SeriesDetector({
      rules: [
        defineRule('value > 100 or value > median(3 samples) + 2 * mad(3 samples)', { id: 'a' }),
        defineRule('not (value < max(3 samples))', { id: 'b' }),
        defineRule('delta(3 samples) > lag(2)', { id: 'c' }),
      ],
    });
    const out = feed(d, load('1m', '1 2 9'));
    const [a, b, c] = out[2]!.fn;
    assert.equal(a!.text, 'value 9 > median(3 samples) 2 + 2 × mad(3 samples) 1 = 4');
    assert.equal(a!.explanation, 'value 9 is 7 MADs above its 3-sample median 2');
    assert.equal(b!.text, 'not (value 9 < max(3 samples) 9)');
    assert.equal(b!.explanation, 'value 9 is not below max(3 samples) 9');
    assert.equal(c!.explanation, 'delta(3 samples) 8 is above lag(2) 1');
  });
});

describe('quarantine', () => {
  it('quarantines a faulting rule, reports it, and keeps the others running', () => {
    const faults: RuleFault[] = [];
    const d = new SeriesDetector({
      rules: [defineRule('10 / value > 1', { id: 'div' }), defineRule('value >= 0', { id: 'ok' })],
      onRuleError: (f) => faults.push(f),
    });
    const out = feed(d, load('1m', '5 0 5 5', 0));
    assert.deepEqual(firedIds(out), ['div,ok', 'ok', 'ok', 'ok']);
    assert.equal(faults.length, 1);
    assert.equal(faults[0]!.ruleId, 'div');
    assert.equal(faults[0]!.t, 60_000);
    assert.equal(faults[0]!.message, `rule div@${d.rules[0]!.version} quarantined at t=60000: RuleRuntimeError: 1:1: division '/' produced a non-finite value from 10 and 0`);
    assert.deepEqual(d.quarantined(), ['div']);
    assert.deepEqual(d.stats.faults, 1);
    assert.equal(d.release('div'), true);
    assert.equal(d.release('div'), false);
    assert.deepEqual(firedIds([d.update(240_000, 5)]), ['div,ok']);
  });

  it('survives a throwing error callback', () => {
    const d = new SeriesDetector({ rules: [defineRule('1 / value > 0', { id: 'x' })], onRuleError: () => { throw new Error('logger down'); } });
    assert.equal(d.update(0, 0).isAnomaly, false);
    assert.deepEqual(d.quarantined(), ['x']);
  });
});

describe('hot reload', () => {
  it('keeps state for rules whose version is unchanged and starts changed ones fresh', () => {
    const a = defineRule('value > 5 for 3', { id: 'a' });
    const b = defineRule('value > 5 for 2', { id: 'b' });
    const gone = defineRule('value > 0', { id: 'gone' });
    const d = new SeriesDetector({ rules: [a, b, gone] });
    feed(d, load('1m', '6 6', 0));
    const a2 = defineRule('value  >  5 for 3', { id: 'a', severity: 'critical' }); // same version
    const b2 = defineRule('value > 5 for 3', { id: 'b' }); // new version
    const c = defineRule('value > 5', { id: 'c' });
    assert.deepEqual(d.setRules([a2, b2, c]), { kept: ['a'], added: ['b', 'c'], removed: ['gone'] });
    const next = d.update(120_000, 6);
    // a's streak survived (3rd sample), b restarted (1st), c has no for.
    assert.deepEqual(next.fn.map((f) => [f.ruleId, f.streak, f.severity]), [['a', 3, 'critical'], ['c', 1, 'warning']]);
  });

  it('rejects a set with duplicate ids and keeps the old one', () => {
    const d = new SeriesDetector({ rules: [defineRule('value > 5', { id: 'a' })] });
    assert.throws(() => d.setRules([defineRule('value > 1', { id: 'x' }), defineRule('value > 2', { id: 'x' })]), RuleError);
    assert.deepEqual(d.rules.map((r) => r.spec.id), ['a']);
  });
});

class FixedBase implements BaseDetector {
  readonly name = 'fixed';
  constructor(private readonly labels: boolean[]) {}
  private i = 0;
  update(): BaseResult {
    const a = this.labels[this.i++] ?? false;
    return { score: a ? 9 : 0, isAnomaly: a, explanation: a ? 'base says so' : 'normal', ready: true };
  }
}

describe('aggregation with the base detector (Argos)', () => {
  it('combines labels: FP removes base anomalies first, FN adds', () => {
    const table: [boolean, boolean, boolean, boolean][] = [
      [false, false, false, false],
      [true, false, false, true],
      [true, true, false, false],
      [false, true, false, false],
      [false, false, true, true],
      [true, true, true, true],
      [false, true, true, true],
    ];
    for (const [base, fp, fn, want] of table) assert.equal(combineLabels(base, fp, fn), want, `${base} ${fp} ${fn}`);
  });

  it('applies FP and FN rules to the base labels', () => {
    const d = new SeriesDetector({
      base: new FixedBase([true, true, false, false]),
      rules: [defineRule('value < 10', { id: 'small-is-fine', kind: 'FP' }), defineRule('value > 100', { id: 'huge', kind: 'FN' })],
    });
    const out = feed(d, load('1m', '50 5 5 500'));
    assert.deepEqual(out.map((x) => x.isAnomaly), [true, false, false, true]);
    assert.deepEqual(out.map((x) => x.suppressed), [false, true, false, false]);
    assert.equal(out[0]!.base!.explanation, 'base says so');
  });

  it('counts samples, firings and quarantines in the registry it is given', async () => {
    const registry = new Registry();
    const metrics = new DetectMetrics(registry);
    const d = new SeriesDetector({ rules: [defineRule('value > 1', { id: 'r' }), defineRule('1 / value > 0', { id: 'q' })], metrics });
    feed(d, [{ t: 1, v: 2 }, { t: 1, v: 2 }, { t: 0, v: 2 }, { t: 2, v: NaN }, { t: 3, v: 0 }]);
    const text = await registry.metrics();
    assert.match(text, /panoptes_detect_samples_total\{outcome="accepted"\} 2/);
    assert.match(text, /panoptes_detect_samples_total\{outcome="duplicate"\} 1/);
    assert.match(text, /panoptes_detect_samples_total\{outcome="out_of_order"\} 1/);
    assert.match(text, /panoptes_detect_samples_total\{outcome="nan"\} 1/);
    assert.match(text, /panoptes_detect_rule_firings_total\{rule="r",kind="FN"\} 1/);
    assert.match(text, /panoptes_detect_rule_faults_total\{rule="q"\} 1/);
    assert.match(text, /panoptes_detect_rules_quarantined 1/);
  });
});
