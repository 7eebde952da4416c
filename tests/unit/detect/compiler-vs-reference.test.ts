/**
 * Property: for random rules over random series (NaN values, gaps, duplicate and out-of-order
 * timestamps), the compiled detector makes exactly the decisions of the tree-walking reference
 * interpreter — same firings, streaks, faults and quarantines — and reports the same clause
 * values (to rounding: the incremental variance is computed differently).
 * Values are small integers so sums are exact and ties (value == mean) are real ties in both.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { defineRule } from '../../../pipelines/detect/rules/rule.ts';
import type { CheckedRule } from '../../../pipelines/detect/rules/rule.ts';
import { SeriesDetector } from '../../../pipelines/detect/engine/series-detector.ts';

const win = fc.oneof(fc.constantFrom('1m', '2m', '3m', '5m', '10m', '90s'), fc.constantFrom('1 samples', '2 samples', '3 samples', '5 samples', '8 samples'));
const leaf: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constant('value') },
  { weight: 2, arbitrary: fc.integer({ min: -3, max: 6 }).map(String) },
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom('mean', 'std', 'min', 'max', 'sum', 'count', 'median', 'mad', 'rate', 'delta'), win).map(([f, w]) => `${f}(${w})`) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('0', '0.1', '0.5', '0.9', '0.99', '1'), win).map(([q, w]) => `quantile(${q}, ${w})`) },
  { weight: 2, arbitrary: fc.constantFrom('ewma(0.5)', 'ewma(0.1)', 'ewma(2m)', 'ewma(3 samples)', 'ewma(1)') },
  { weight: 2, arbitrary: fc.constantFrom('lag(1)', 'lag(2)', 'lag(4 samples)', 'seasonal(2m)', 'seasonal(5m)') },
);
const num: fc.Arbitrary<string> = fc.letrec<{ num: string }>((tie) => ({
  num: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.tuple(tie('num'), fc.constantFrom('+', '-', '*'), tie('num')).map(([a, op, b]) => `(${a} ${op} ${b})`),
    // Divisors that are exactly zero in both backends at the same samples: faults must agree.
    fc.tuple(tie('num'), fc.constantFrom('value', 'lag(1)', 'count(3m)', '2', 'delta(2 samples)')).map(([a, b]) => `(${a} / ${b})`),
    tie('num').map((a) => `abs(${a})`),
    tie('num').map((a) => `-${a}`),
  ),
})).num;
const cmp = fc.tuple(num, fc.constantFrom('>', '>=', '<', '<=', '==', '!='), num).map(([a, op, b]) => `${a} ${op} ${b}`);
const cond: fc.Arbitrary<string> = fc.letrec<{ c: string }>((tie) => ({
  c: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    cmp,
    fc.tuple(tie('c'), fc.constantFrom('and', 'or'), tie('c')).map(([a, op, b]) => `(${a} ${op} ${b})`),
    tie('c').map((a) => `not (${a})`),
  ),
})).c;
const ruleArb = fc.tuple(cond, fc.constantFrom('', ' for 2', ' for 3', ' for 3m'), fc.constantFrom('FN', 'FP')).map(([c, f, k]) => ({ expr: c + f, kind: k as 'FN' | 'FP' }));
const sampleArb = fc.record({
  dt: fc.constantFrom(60_000, 60_000, 60_000, 60_000, 120_000, 300_000, 0, -60_000, 30_000),
  v: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: -20, max: 20 }) }, { weight: 1, arbitrary: fc.constant(NaN) }),
});

function close(a: number, b: number): boolean {
  if (a === b) return true;
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

/** A fault message with every decimal number rounded to 12 significant digits. */
const roundNumbers = (m: string) => m.replace(/-?\d+\.\d+(e[-+]?\d+)?/g, (x) => String(Number(Number(x).toPrecision(12))));

describe('compiled rules equal the reference interpreter', () => {
  it('on random rules and series', () => {
    let compared = 0;
    let fired = 0;
    let faults = 0;
    fc.assert(
      fc.property(fc.array(ruleArb, { minLength: 1, maxLength: 3 }), fc.array(sampleArb, { minLength: 1, maxLength: 120, size: 'max' }), (specs, samples) => {
        const rules: CheckedRule[] = specs.map((s, i) => defineRule(s.expr, { id: `r${i}`, kind: s.kind }));
        const errs: Record<string, string[]> = { compiled: [], reference: [] };
        const mk = (backend: 'compiled' | 'reference') => new SeriesDetector({ rules, backend, onRuleError: (f) => errs[backend]!.push(`${f.ruleId}@${f.t}: ${f.message}`) });
        const a = mk('compiled');
        const b = mk('reference');
        let t = 1_700_000_000_000;
        for (const s of samples) {
          t += s.dt;
          const da = a.update(t, s.v);
          const db = b.update(t, s.v);
          compared++;
          assert.equal(da.status, db.status);
          assert.equal(da.isAnomaly, db.isAnomaly);
          const fa = [...da.fn, ...da.fp];
          const fb = [...db.fn, ...db.fp];
          assert.deepEqual(fa.map((f) => [f.ruleId, f.streak]), fb.map((f) => [f.ruleId, f.streak]), `at t=${t}`);
          fired += fa.length;
          fa.forEach((f, i) => {
            const g = fb[i]!;
            assert.deepEqual(f.clauses.map((c) => c.expr), g.clauses.map((c) => c.expr));
            f.clauses.forEach((c, j) => {
              assert.ok(close(c.left, g.clauses[j]!.left) && close(c.right, g.clauses[j]!.right), `${c.text} vs ${g.clauses[j]!.text}`);
            });
          });
        }
        // Same faults (rule, time, node, operator); operands printed in the message may differ in
        // the last digits (the incremental variance rounds differently), so they are compared at 12.
        assert.deepEqual(errs['compiled']!.map(roundNumbers), errs['reference']!.map(roundNumbers));
        assert.deepEqual(a.stats, b.stats);
        faults += a.stats.faults;
      }),
      { seed: 20261127, numRuns: 250 },
    );
    console.log(`compared ${compared} samples, ${fired} firings, ${faults} faults`);
    // The generators must actually exercise firing and faults, or the property says little.
    assert.ok(fired > 1000, `only ${fired} firings compared`);
    assert.ok(faults > 5, `only ${faults} faults compared`);
    assert.ok(compared > 10_000);
  });
});
