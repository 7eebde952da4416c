import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RuleError } from '../../../pipelines/core/errors.ts';
import { RobustZDetector } from '../../../pipelines/detect/base/robust-z.ts';
import { RuleDiagnosticsError } from '../../../pipelines/detect/diagnostics.ts';
import { DetectorPool } from '../../../pipelines/detect/detector-pool.ts';
import { buildRuleSet } from '../../../pipelines/detect/rule-set.ts';
import type { RuleSpec } from '../../../pipelines/detect/rule.ts';

const spec = (id: string, expr: string, kind: 'FN' | 'FP' = 'FN'): RuleSpec => ({ id, kind, severity: 'warning', description: '', expr });

describe('buildRuleSet', () => {
  it('checks every rule and reports all problems tagged with their rule', () => {
    const rules = buildRuleSet([spec('a', 'value > 1'), spec('b', 'value < mean(1h)', 'FP')]);
    assert.deepEqual(rules.map((r) => [r.spec.id, r.spec.kind]), [['a', 'FN'], ['b', 'FP']]);
    assert.throws(
      () => buildRuleSet([spec('a', 'value > 1'), spec('a', 'value > stdev(1h)'), spec('bad id', 'value >')]),
      (e: unknown) =>
        e instanceof RuleDiagnosticsError &&
        e.message === ["1:1: duplicate rule id 'a'", "1:9: a: unknown function 'stdev' (did you mean std?)", "1:1: rule id 'bad id' is not valid (letters, digits, _ . : - /)", '1:8: bad id: expected a number, value, a function call or (, found end of input'].join('\n'),
    );
  });
});

describe('DetectorPool', () => {
  it('keeps one detector per series with its own state, sharing the rule set', () => {
    const pool = new DetectorPool({ rules: buildRuleSet([spec('up', 'value > lag(1) for 2')]) });
    const fire = (k: string, t: number, v: number) => pool.update(k, t, v).fn.length > 0;
    assert.deepEqual([fire('a', 1, 1), fire('b', 1, 5), fire('a', 2, 2), fire('b', 2, 4), fire('a', 3, 3), fire('b', 3, 6)], [false, false, false, false, true, false]);
    assert.equal(pool.size, 2);
  });

  it('hot-reloads every series, keeping state of unchanged rules, and rejects bad sets whole', () => {
    const errors: string[] = [];
    const pool = new DetectorPool({ rules: buildRuleSet([spec('up', 'value > lag(1) for 2'), spec('div', '1 / value > 0')]), onRuleError: (k, f) => errors.push(`${k}:${f.ruleId}`) });
    pool.update('a', 1, 1);
    pool.update('a', 2, 2);
    pool.update('b', 1, 0);
    assert.deepEqual(errors, ['b:div']);
    const summary = pool.setRules(buildRuleSet([spec('up', 'value > lag(1) for 2'), spec('hot', 'value > 100')]));
    assert.deepEqual(summary, { kept: ['up'], added: ['hot'], removed: ['div'] });
    assert.deepEqual(pool.update('a', 3, 300).fn.map((f) => [f.ruleId, f.streak]), [['up', 2], ['hot', 1]]);
    assert.throws(() => pool.setRules([...buildRuleSet([spec('x', 'value > 1')]), ...buildRuleSet([spec('x', 'value > 2')])]), RuleError);
    assert.deepEqual(pool.get('a')!.rules.map((r) => r.spec.id), ['up', 'hot']);
  });

  it('gives each series its own base detector and evicts idle series', () => {
    const made: string[] = [];
    const pool = new DetectorPool({ base: (k) => (made.push(k), new RobustZDetector({ window: 5 })) });
    pool.update('a', 1_000, 1);
    pool.update('b', 5_000, 1);
    pool.update('a', 2_000, 1);
    assert.deepEqual(made, ['a', 'b']);
    assert.equal(pool.update('a', 3_000, 1).base?.ready, false);
    assert.equal(pool.evictIdle(4_000), 1);
    assert.equal(pool.get('a'), undefined);
    assert.ok(pool.get('b'));
  });
});
