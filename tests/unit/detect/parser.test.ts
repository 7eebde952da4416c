import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RuleSyntaxError } from '../../../pipelines/detect/rules/diagnostics.ts';
import { parseDuration } from '../../../pipelines/detect/rules/lexer.ts';
import { parseRule } from '../../../pipelines/detect/rules/parser.ts';
import { printRule } from '../../../pipelines/detect/rules/printer.ts';

function syntaxError(src: string): string {
  try {
    parseRule(src);
  } catch (err) {
    assert.ok(err instanceof RuleSyntaxError, `expected RuleSyntaxError, got ${String(err)}`);
    assert.equal(err.code, 'PANOPTES_RULE');
    return err.message;
  }
  assert.fail(`expected a syntax error for ${src}`);
}

describe('parser', () => {
  it('parses the design example and prints it canonically', () => {
    const ast = parseRule('value > mean(60m) + 4 * std(60m) and value > quantile(0.99, 1d) for 3');
    assert.deepEqual(ast.persistence && { kind: ast.persistence.kind, n: (ast.persistence as { n: number }).n }, { kind: 'samples', n: 3 });
    assert.equal(printRule(ast), 'value > mean(1h) + 4 * std(1h) and value > quantile(0.99, 1d) for 3');
  });

  it('respects precedence and associativity', () => {
    assert.equal(printRule(parseRule('value - (1 - 2) > 2 * (3 + 4)')), 'value - (1 - 2) > 2 * (3 + 4)');
    assert.equal(printRule(parseRule('(value - 1) - 2 > -(3)')), 'value - 1 - 2 > -3');
    assert.equal(printRule(parseRule('not value > 1 or value < 0 and value > -5')), 'not value > 1 or value < 0 and value > -5');
    const ast = parseRule('a_b() > 1 or value > 1 and value < 2');
    assert.equal(ast.body.type === 'logic' && ast.body.op, 'or');
    assert.equal(printRule(parseRule('not (value > 1 and value < 3)')), 'not (value > 1 and value < 3)');
  });

  it('reads durations, compound durations and sample counts', () => {
    assert.equal(parseDuration('90m'), 5_400_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('2w'), 14 * 86_400_000);
    assert.equal(parseDuration('5'), undefined);
    assert.equal(printRule(parseRule('mean(90m) > mean(60 samples) for 5m')), 'mean(1h30m) > mean(60 samples) for 5m');
    assert.equal(printRule(parseRule('mean(1 sample) > 0 for 2 samples')), 'mean(1 samples) > 0 for 2');
  });

  it('skips # comments', () => {
    assert.equal(printRule(parseRule('# hot\nvalue > 1 # inline\n  and value < 5')), 'value > 1 and value < 5');
  });

  it('gives line, column and what was expected', () => {
    assert.equal(syntaxError('value > mean(60m and value > 1'), "1:18: expected ')' after arguments of mean, found 'and'");
    assert.equal(syntaxError('value > quantile(0.9 1h)'), "1:22: expected ',' or ')' after arguments of quantile, found '1h'");
    assert.equal(syntaxError('value >'), '1:8: expected a number, value, a function call or (, found end of input');
    assert.equal(syntaxError('value > 1\n  and (value < 2'), "2:17: expected ')' to close '(', found end of input");
    assert.equal(syntaxError('value > 1 > 0'), "1:11: comparisons cannot be chained (found '>'); join them with 'and'");
    assert.equal(syntaxError('value = 1'), "1:7: unexpected character '=' (use '==' to compare)");
    assert.equal(syntaxError('value > 1 && value < 2'), "1:11: unexpected character '&' (use 'and')");
    assert.equal(syntaxError('mean(5min) > 1'), "1:7: unknown duration unit 'min' in '5min' (expected ms, s, m, h, d or w)");
    assert.equal(syntaxError('value > 1 for'), "1:14: expected a sample count (for 3) or a duration (for 5m) after 'for', found end of input");
    assert.equal(syntaxError('value > 1 for 2.5'), '1:15: for needs a whole number of samples ≥ 1 or a duration, found \'2.5\'');
    assert.equal(syntaxError('value > 1 for 3 and value < 2'), "1:17: expected end of rule after the for clause, found 'and'");
    assert.equal(syntaxError('value > threshold'), "1:9: unknown name 'threshold' (the current sample is 'value'; functions are called with parentheses)");
    assert.equal(syntaxError('value > mean'), "1:9: expected '(' after function name mean");
    assert.equal(syntaxError('value() > 1'), "1:6: 'value' is the current sample, not a function: write 'value', or lag(1) for the previous one");
    assert.equal(syntaxError('value > 1)'), "1:10: unmatched ')'");
    assert.equal(syntaxError(''), '1:1: expected an expression, found end of input');
  });
});
