import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkRule, didYouMean } from '../../../pipelines/detect/rules/checker.ts';
import type { CheckOptions } from '../../../pipelines/detect/rules/checker.ts';
import { parseRule } from '../../../pipelines/detect/rules/parser.ts';

function check(src: string, opts: CheckOptions = {}): string[] {
  return checkRule(parseRule(src), opts).map((d) => `${d.line}:${d.col}: ${d.message}`);
}

describe('checker', () => {
  it('accepts every function in its documented form', () => {
    const ok = [
      'value > mean(1h) + 4 * std(1h) and value > quantile(0.99, 1d) for 3',
      'min(30 samples) < max(30 samples) and sum(5m) / count(5m) == mean(5m)',
      'abs(value - median(1h)) > 3 * 1.4826 * mad(1h) for 10m',
      'ewma(0.1) > ewma(30m) and ewma(10 samples) > 0',
      'rate(5m) > 0.5 or delta(10 samples) < -3',
      'value > lag(1) * 2 and value > lag(3 samples) and value > 1.2 * seasonal(1d)',
      'not (value > 1)',
    ];
    for (const src of ok) assert.deepEqual(check(src), [], src);
  });

  it('returns every error, in source order, with positions', () => {
    assert.deepEqual(check('value > stdev(1h) + mean(5m + 1) and quantile(1.5, 3) or 5'), [
      "1:9: unknown function 'stdev' (did you mean std?)",
      "1:26: operator '+' needs numbers on both sides, found a duration (windows are only function arguments, e.g. mean(1h)) on the left",
      "1:38: 'and' needs conditions on both sides, found a number on the right (did you mean a comparison?)",
      '1:47: q of quantile must be in [0, 1], found 1.5',
      '1:52: window of quantile must be a duration (1h) or a sample count (60 samples), found a number',
      "1:58: 'or' needs conditions on both sides, found a number on the right (did you mean a comparison?)",
    ]);
  });

  it('checks arity, argument kinds and ranges', () => {
    assert.deepEqual(check('mean(1h, 2h) > 1'), ['1:1: mean takes 1 argument (window), found 2']);
    assert.deepEqual(check('quantile(1h) > 1'), ['1:1: quantile takes 2 arguments (q, window), found 1', '1:10: q of quantile must be a constant number in [0, 1], found a duration (windows are only function arguments, e.g. mean(1h))']);
    assert.deepEqual(check('quantile(value, 1h) > 1'), ['1:10: q of quantile must be a constant number in [0, 1], found a number']);
    assert.deepEqual(check('quantile(-0.1, 1h) > 1'), ['1:10: q of quantile must be in [0, 1], found -0.1']);
    assert.deepEqual(check('ewma(0) > 1 and ewma(1.5) > 1'), ['1:6: alpha of ewma must be in (0, 1], found 0', '1:22: alpha of ewma must be in (0, 1], found 1.5']);
    assert.deepEqual(check('lag(0) > 1 or lag(2.5) > 1 or lag(1h) > 1'), [
      '1:5: lag must be a whole number of samples ≥ 1, found 0',
      '1:19: lag must be a whole number of samples ≥ 1, found 2.5',
      '1:35: lag needs a constant whole number of samples ≥ 1, found a duration (windows are only function arguments, e.g. mean(1h))',
    ]);
    assert.deepEqual(check('seasonal(7 samples) > 1'), ['1:10: period of seasonal must be a duration (1d), found a sample count (windows are only function arguments, e.g. mean(1h))']);
    assert.deepEqual(check('mean(0 samples) > 1'), ['1:6: window of mean must be a whole number of samples ≥ 1, found 0']);
    assert.deepEqual(check('abs(1h) > 1'), ['1:5: argument of abs must be a number, found a duration (windows are only function arguments, e.g. mean(1h))']);
  });

  it('checks types of operators and of the whole rule', () => {
    assert.deepEqual(check('mean(1h)'), ['1:1: a rule must be a condition (e.g. value > 10), found a number']);
    assert.deepEqual(check('value > 1 + (value > 2)'), ["1:13: operator '+' needs numbers on both sides, found a condition on the right"]);
    assert.deepEqual(check('not value'), ["1:5: 'not' needs a condition, found a number (did you mean a comparison such as value > 10?)"]);
    assert.deepEqual(check('-(value > 1) < 0'), ["1:2: unary '-' needs a number, found a condition"]);
    assert.deepEqual(check('5m > value'), ["1:1: comparison '>' needs numbers on both sides, found a duration (windows are only function arguments, e.g. mean(1h)) on the left"]);
  });

  it('caps windows (configurable)', () => {
    assert.deepEqual(check('value > mean(30d)'), ['1:14: window of mean 30d is larger than the limit 7d']);
    assert.deepEqual(check('value > mean(2h) for 3h', { maxWindowMs: 3_600_000 }), ['1:14: window of mean 2h is larger than the limit 1h', '1:22: for 3h is larger than the limit 1h']);
    assert.deepEqual(check('value > mean(500 samples) and value > lag(501)', { maxWindowSamples: 500 }), ['1:43: lag of 501 samples is larger than the limit 500']);
    assert.deepEqual(check('value > seasonal(8d)'), ['1:18: period of seasonal 8d is larger than the limit 7d']);
  });

  it('suggests function names', () => {
    assert.equal(didYouMean('avg'), 'mean');
    assert.equal(didYouMean('stddev'), 'std');
    assert.equal(didYouMean('quantil'), 'quantile');
    assert.equal(didYouMean('medain'), 'median');
    assert.equal(didYouMean('percentile'), 'quantile');
    assert.equal(didYouMean('frobnicate'), undefined);
    assert.deepEqual(check('value > medain(1h)'), ["1:9: unknown function 'medain' (did you mean median?)"]);
    assert.deepEqual(check('value > frobnicate(1h)'), ["1:9: unknown function 'frobnicate'"]);
  });
});
