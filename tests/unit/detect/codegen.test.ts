/**
 * The generated condition: built once per rule, shared by every series, and made only of fixed
 * templates — no rule text (numbers, function names, windows) is ever spelled into the source.
 * Its semantics are checked against the reference interpreter in compiler-vs-reference.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateCondition } from '../../../pipelines/detect/rules/codegen.ts';
import { CompiledProgram } from '../../../pipelines/detect/rules/compiler.ts';
import { defineRule } from '../../../pipelines/detect/rules/rule.ts';

describe('generated condition', () => {
  it('holds no rule text: constants, names and windows are passed in, not spelled out', () => {
    const rule = defineRule('value > 12345.678 * quantile(0.975, 90m) or not (abs(value - ewma(0.3)) / std(77 samples) <= 4.5e-3)', { id: 'x' });
    const g = generateCondition(rule.ast);
    const src = g.make.toString();
    for (const text of ['12345.678', '0.975', '90m', '1h30m', 'quantile', 'ewma', '0.3', '77', 'std', '4.5e-3', '0.0045', 'samples']) {
      assert.ok(!src.includes(text), `generated source contains '${text}'`);
    }
    assert.deepEqual([...g.consts].sort(), [12345.678, 0.0045].sort());
    assert.deepEqual(g.leafKeys, ['quantile(0.975, 1h30m)', 'ewma(0.3)', 'std(77 samples)']);
  });

  it('is generated once per rule and shared by every program running it', () => {
    const rule = defineRule('value > mean(1h) + 3 * std(1h)', { id: 'y' });
    assert.equal(generateCondition(rule.ast), generateCondition(rule.ast));
    const a = new CompiledProgram(rule);
    const b = new CompiledProgram(rule);
    // Separate state: b's windows do not see a's samples.
    for (let i = 0; i < 200; i++) a.step(1_000_000 + i * 60_000, i % 7);
    assert.equal(b.step(1_000_000, 5), 2, 'a fresh program is unknown until its window is complete');
    assert.equal(a.step(1_000_000 + 200 * 60_000, 1e6), 1);
  });

  it('reports a fault at the node that made it, with the operands', () => {
    const rule = defineRule('mean(2 samples) / (value - value) > 1', { id: 'z' });
    const p = new CompiledProgram(rule);
    p.step(1000, 3);
    assert.throws(() => p.step(2000, 3), /1:1: division '\/' produced a non-finite value from 3 and 0/);
  });
});
