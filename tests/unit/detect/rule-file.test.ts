import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RuleDiagnosticsError } from '../../../pipelines/detect/rules/diagnostics.ts';
import { defineRule, ruleVersion } from '../../../pipelines/detect/rules/rule.ts';
import { parseRuleFile } from '../../../pipelines/detect/rules/rule-file.ts';

const msgs = (src: string, file = 'r.yaml') => parseRuleFile(src, file).diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`);

describe('rule files', () => {
  it('loads rules with defaults and versions', () => {
    const src = `rules:
  - id: cpu-hot
    kind: FN
    severity: critical
    description: CPU far above its usual level
    expr: value > mean(60m) + 4 * std(60m) and value > quantile(0.99, 1d) for 3
  - id: nightly-batch
    kind: fp
    expr: |
      value < quantile(0.999, 7d)
        and max(1h) - min(1h) < 50
`;
    const { rules, diagnostics } = parseRuleFile(src, 'r.yaml');
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(
      rules.map((r) => [r.spec.id, r.spec.kind, r.spec.severity, r.canonical]),
      [
        ['cpu-hot', 'FN', 'critical', 'value > mean(1h) + 4 * std(1h) and value > quantile(0.99, 1d) for 3'],
        ['nightly-batch', 'FP', 'warning', 'value < quantile(0.999, 7d) and max(1h) - min(1h) < 50'],
      ],
    );
    assert.equal(rules[0]!.spec.description, 'CPU far above its usual level');
    assert.match(rules[0]!.version, /^[0-9a-f]{12}$/);
  });

  it('versions by canonical expression and kind only', () => {
    const a = defineRule('value>mean(60m)+4*std(60m)', { id: 'a', severity: 'info' });
    const b = defineRule('value > mean(1h) + 4 * std(1h)  # same meaning', { id: 'b', severity: 'critical', description: 'x' });
    const c = defineRule('value > mean(1h) + 4 * std(1h)', { kind: 'FP' });
    assert.equal(a.version, b.version);
    assert.notEqual(a.version, c.version);
    assert.equal(a.version, ruleVersion('value > mean(1h) + 4 * std(1h)', 'FN'));
    assert.notEqual(defineRule('value > mean(1h) for 2').version, defineRule('value > mean(1h) for 3').version);
  });

  it('treats a file holding just an expression as one FN rule named after the file', () => {
    const { rules, diagnostics } = parseRuleFile('# spikes\nvalue > 3 * median(1h)\n', '/x/spike-rule.expr');
    assert.deepEqual(diagnostics, []);
    assert.equal(rules.length, 1);
    assert.deepEqual([rules[0]!.spec.id, rules[0]!.spec.kind, rules[0]!.spec.severity], ['spike-rule', 'FN', 'warning']);
    assert.deepEqual(msgs('value > median(1h\n', 'e.rule'), ["2:1: expected ')' after arguments of median, found end of input"]);
  });

  it('positions expression errors in the file, for plain, quoted and block scalars', () => {
    const src = `rules:
  - id: a
    expr: value > stdev(1h)
  - id: b
    expr: "value > mean(1h) + medain(1h)"
  - id: c
    expr: |
      value > mean(1h)
        and value > quantil(0.9, 1h)
`;
    assert.deepEqual(msgs(src), [
      "3:19: rules[0] (a): unknown function 'stdev' (did you mean std?)",
      "5:31: rules[1] (b): unknown function 'medain' (did you mean median?)",
      "9:21: rules[2] (c): unknown function 'quantil' (did you mean quantile?)",
    ]);
  });

  it('validates the structure and reports every problem', () => {
    const src = `rules:
  - id: a
    severity: high
    kind: XX
    expr: value > 1
    colour: red
  - id: a
    expr: value > 2
  - id: "bad id"
    expr: value > 3
  - expr: value > 4
  - id: e
`;
    assert.deepEqual(msgs(src), [
      "3:15: rules[0].severity: expected one of info, warning, critical, found 'high'",
      "4:11: rules[0].kind: expected FN or FP, found 'XX'",
      "6:5: rules[0]: unknown key 'colour' (expected id, kind, severity, description, expr)",
      "7:9: rules[1].id: duplicate id 'a' (also rules[0])",
      "9:9: rules[2].id: 'bad id' is not a valid id (letters, digits, _ . : - /)",
      "11:5: rules[3]: missing 'id'",
      "12:5: rules[4]: missing 'expr'",
    ]);
    assert.deepEqual(msgs('rules: 3\n'), ["1:8: 'rules' must be a list of rules"]);
    assert.deepEqual(msgs('name: x\n'), ["1:1: expected a 'rules' list (or a single rule with 'expr')"]);
    assert.deepEqual(msgs('rules: [a'), ['1:10: Flow sequence in block collection must be sufficiently indented and end with a ] at line 1, column 10:']);
  });

  it('defineRule throws every diagnostic at once', () => {
    assert.throws(
      () => defineRule('foo(1h) > bar(1h)'),
      (err: unknown) => err instanceof RuleDiagnosticsError && err.diagnostics.length === 2 && err.message === "1:1: unknown function 'foo'\n1:11: unknown function 'bar'",
    );
  });
});
