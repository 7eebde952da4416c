import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractJson } from '../../../pipelines/llm/json-extract.ts';

const ok = (text: string) => {
  const r = extractJson(text);
  assert.ok(r.ok, `expected JSON in ${JSON.stringify(text)}`);
  return r.value;
};

test('plain JSON, fenced blocks and objects inside prose', () => {
  assert.deepEqual(ok('{"a":1}'), { a: 1 });
  assert.deepEqual(ok('Sure:\n```json\n{"a": 2}\n```\nbye'), { a: 2 });
  assert.deepEqual(ok('```\n[1, 2]\n```'), [1, 2]);
  assert.deepEqual(ok('The answer is {"rule": "value > {x}", "n": [1, {"b": "}"}]} ok?'), { rule: 'value > {x}', n: [1, { b: '}' }] });
});

test('the first fenced json block wins over later objects', () => {
  assert.deepEqual(ok('```json\n{"first": true}\n```\n{"second": true}'), { first: true });
});

test('skips unbalanced or invalid candidates to find a valid one', () => {
  assert.deepEqual(ok('use {curly} notation, e.g. {"a": "\\"q\\""}'), { a: '"q"' });
});

test('no JSON, or broken JSON, is reported', () => {
  const r = extractJson('no json here');
  assert.deepEqual(r, { ok: false, problem: 'no JSON object found in the answer' });
  const f = extractJson('```json\n{"a": 1,,}\n```');
  assert.equal(f.ok, false);
  assert.match((f as { problem: string }).problem, /fenced block is not valid JSON/);
});
