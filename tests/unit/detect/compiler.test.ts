import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompiledProgram } from '../../../pipelines/detect/rules/compiler.ts';
import { FALSE, TRUE, UNKNOWN, RuleRuntimeError } from '../../../pipelines/detect/rules/program.ts';
import type { RuleProgram } from '../../../pipelines/detect/rules/program.ts';
import { ReferenceProgram } from '../../../pipelines/detect/rules/reference.ts';
import { defineRule } from '../../../pipelines/detect/rules/rule.ts';
import { load } from './helpers.ts';

const backends = [
  ['compiled', (e: string) => new CompiledProgram(defineRule(e))],
  ['reference', (e: string) => new ReferenceProgram(defineRule(e))],
] as const;

function run(p: RuleProgram, step: string, values: string): number[] {
  return load(step, values).map((s) => p.step(s.t, s.v));
}

for (const [name, make] of backends) {
  describe(`${name} program`, () => {
    it('computes window aggregates over the last N samples', () => {
      const p = make('mean(5 samples) + std(5 samples) + min(5 samples) + max(5 samples) + sum(5 samples) + count(5 samples) > 0');
      run(p, '1m', '1 2 3 4 5 6');
      assert.equal(p.leaf('mean(5 samples)'), 4);
      assert.equal(p.leaf('sum(5 samples)'), 20);
      assert.ok(Math.abs(p.leaf('std(5 samples)') - Math.SQRT2) < 1e-12);
      assert.equal(p.leaf('min(5 samples)'), 2);
      assert.equal(p.leaf('max(5 samples)'), 6);
      assert.equal(p.leaf('count(5 samples)'), 5);
    });

    it('computes quantiles, median and MAD with linear interpolation', () => {
      const p = make('quantile(0.9, 10 samples) > median(10 samples) and mad(10 samples) > 0 and quantile(0, 10 samples) < quantile(1, 10 samples)');
      const truth = run(p, '1m', '7 3 9 1 10 2 8 6 4 5');
      assert.equal(truth.at(-1), TRUE);
      assert.equal(p.leaf('quantile(0.9, 10 samples)'), 9.1);
      assert.equal(p.leaf('median(10 samples)'), 5.5);
      assert.equal(p.leaf('mad(10 samples)'), 2.5);
      assert.equal(p.leaf('quantile(0, 10 samples)'), 1);
      assert.equal(p.leaf('quantile(1, 10 samples)'), 10);
    });

    it('is unknown until the series spans the window, then uses (t − W, t]', () => {
      const p = make('count(3m) >= 3');
      assert.deepEqual(run(p, '1m', '5 5 5 5 5'), [UNKNOWN, UNKNOWN, UNKNOWN, TRUE, TRUE]);
      assert.equal(p.leaf('count(3m)'), 3);
      const q = make('count(3m) >= 3');
      // A gap: at the last sample only it and the one before are within 3m.
      assert.deepEqual(run(q, '1m', '1 1 1 1 _ _ 1 1'), [UNKNOWN, UNKNOWN, UNKNOWN, TRUE, FALSE, FALSE]);
      assert.equal(q.leaf('count(3m)'), 2);
    });

    it('computes rate, delta, lag, seasonal and ewma', () => {
      const p = make('rate(2m) > 0 and delta(3 samples) > 0 and lag(2) >= 0 and seasonal(3m) >= 0 and ewma(0.5) > 0 and ewma(1m) > 0 and ewma(1 samples) > 0');
      const truth = run(p, '1m', '0 10 _ 20 40');
      assert.equal(truth.at(-1), TRUE);
      assert.equal(p.leaf('rate(2m)'), 20 / 60);
      assert.equal(p.leaf('delta(3 samples)'), 30);
      assert.equal(p.leaf('lag(2)'), 10);
      assert.equal(p.leaf('seasonal(3m)'), 10);
      assert.equal(p.leaf('ewma(0.5)'), 26.25);
      // halflife 1m over a 2m gap weights the new sample 1 − 2^−2 = 0.75.
      assert.equal(p.leaf('ewma(1m)'), 28.125);
      assert.equal(p.leaf('ewma(1 samples)'), 26.25);
    });

    it('lag and seasonal are unknown before there is history', () => {
      const p = make('value > lag(3) or value > seasonal(5m)');
      assert.deepEqual(run(p, '1m', '1 2 3 4 5 6 7'), [UNKNOWN, UNKNOWN, UNKNOWN, TRUE, TRUE, TRUE, TRUE]);
    });

    it('evaluates and/or/not with short circuit and unknowns (Kleene)', () => {
      const p = make('mean(3 samples) != 0 and value / mean(3 samples) > 2');
      assert.deepEqual(run(p, '1m', '0 0 0 0 0 1 9 9'), [UNKNOWN, UNKNOWN, FALSE, FALSE, FALSE, TRUE, TRUE, FALSE]);
      const q = make('value > 100 or lag(1) > 0');
      assert.deepEqual(run(q, '1m', '200 1 1'), [TRUE, TRUE, TRUE]);
      const r = make('not (value > lag(1))');
      assert.deepEqual(run(r, '1m', '1 2 1'), [UNKNOWN, FALSE, TRUE]);
      const s = make('value < 0 and lag(1) > 0');
      assert.deepEqual(run(s, '1m', '1 1'), [FALSE, FALSE]);
    });

    it('faults on division by zero and overflow, with the position', () => {
      const p = make('value > 1 / (value - 3)');
      assert.deepEqual(run(p, '1m', '5 4'), [TRUE, TRUE]);
      assert.throws(() => run(p, '1m', '3'), (e: unknown) => e instanceof RuleRuntimeError && e.message === "1:9: division '/' produced a non-finite value from 1 and 0");
      const q = make('value * 1e308 > 1');
      assert.throws(() => run(q, '1m', '10'), (e: unknown) => e instanceof RuleRuntimeError && e.message.startsWith("1:1: '*' produced a non-finite value"));
    });
  });
}

describe('compiled program', () => {
  it('shares one window and one aggregate between clauses', () => {
    const p = new CompiledProgram(defineRule('value > mean(60m) + std(1h) and mean(1h) > 0 and max(3600s) > min(60 samples)'));
    const windows = (p as unknown as { windows: unknown[] }).windows;
    assert.equal(windows.length, 2);
    const leaves = (p as unknown as { leaves: Map<string, unknown> }).leaves;
    assert.deepEqual([...leaves.keys()].sort(), ['max(1h)', 'mean(1h)', 'min(60 samples)', 'std(1h)']);
  });

  it('keeps the variance accurate on a large offset over a long run', () => {
    const p = new CompiledProgram(defineRule('std(100 samples) > 0'));
    let seed = 7;
    const rnd = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const xs: number[] = [];
    for (let i = 0; i < 200_000; i++) {
      const x = 1e9 + rnd();
      xs.push(x);
      p.step(i * 1000, x);
    }
    const w = xs.slice(-100);
    const mean = w.reduce((a, b) => a + b, 0) / 100;
    const std = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / 100);
    assert.ok(Math.abs(p.leaf('std(100 samples)') - std) < 1e-6 * std, `${p.leaf('std(100 samples)')} vs ${std}`);
  });
});
