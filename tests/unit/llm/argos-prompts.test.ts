/**
 * The Argos prompt templates teach the model the rule language; these checks keep them honest
 * against the real compiler: every function it knows is described, every example compiles, the
 * three agents see the same description, and each template renders with its documented variables.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPrompt, renderPrompt } from '../../../pipelines/llm/prompts.ts';
import { functionList } from '../../../pipelines/detect/rules/functions.ts';
import { prepareRule } from '../../../pipelines/detect/rules/rule.ts';

const vars: Record<string, string[]> = {
  'argos-detection': ['series', 'interval', 'kind', 'stats', 'data', 'base_errors', 'rules'],
  'argos-repair': ['kind', 'expr', 'errors', 'intent', 'attempt'],
  'argos-review': ['kind', 'series', 'previous', 'expr', 'diff', 'metrics_before', 'metrics_after', 'changed_segments'],
};

function languageSection(system: string): string {
  const start = system.indexOf('## The Panoptes rule language');
  const end = system.indexOf('Answer with one JSON object');
  assert.ok(start >= 0 && end > start, 'language section present');
  return system.slice(start, end);
}

for (const [name, keys] of Object.entries(vars)) {
  test(`${name}.v1 renders with exactly its documented variables`, () => {
    const tpl = loadPrompt(name, 1);
    assert.deepEqual(tpl.sections.map((s) => s.role), ['system', 'user']);
    const full = Object.fromEntries(keys.map((k) => [k, `<${k}>`]));
    const msgs = renderPrompt(tpl, full);
    for (const k of keys) assert.ok(msgs[1]!.content.includes(`<${k}>`) || msgs[0]!.content.includes(`<${k}>`), `${k} used`);
    for (const k of keys) {
      const { [k]: _dropped, ...rest } = full;
      assert.throws(() => renderPrompt(tpl, rest), new RegExp(`missing variable\\(s\\) \\{\\{${k}\\}\\}`));
    }
    assert.ok(!msgs[0]!.content.includes('<!--'), 'maintainer notes are not sent');
  });
}

test('the three agents get the same language description', () => {
  const [a, b, c] = Object.keys(vars).map((n) => languageSection(loadPrompt(n, 1).sections[0]!.text));
  assert.equal(a, b);
  assert.equal(a, c);
});

test('every function of the rule language is described', () => {
  const lang = languageSection(loadPrompt('argos-detection', 1).sections[0]!.text);
  for (const f of functionList) assert.match(lang, new RegExp(`\`${f.name}\\(`), f.name);
});

test('every example in the description compiles; the named mistakes do not', () => {
  const lang = languageSection(loadPrompt('argos-detection', 1).sections[0]!.text);
  const examples = [...lang.slice(lang.indexOf('Valid examples:')).matchAll(/^- `(.+)`$/gm)].map((m) => m[1]!);
  assert.ok(examples.length >= 5);
  const check = (expr: string) => prepareRule({ id: 'x', kind: 'FN', severity: 'warning', description: '', expr });
  for (const e of examples) assert.deepEqual(check(e).diagnostics, [], e);
  for (const bad of ['1 < value < 5', 'value > avg(1h)', 'value > stddev(1h)', 'value > percentile(0.9, 1h)', 'value > mean(8d)']) {
    assert.ok(check(bad).diagnostics.length > 0, bad);
  }
});
