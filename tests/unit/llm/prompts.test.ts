import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPrompt, parsePrompt, prompt, promptVersions, renderPrompt, substitute } from '../../../pipelines/llm/prompts.ts';
import { InputError, NotFoundError } from '../../../pipelines/core/errors.ts';

test('substitutes {{var}} with and without spaces; objects as JSON', () => {
  assert.equal(substitute('a {{x}} b {{ y }} c', { x: 1, y: 'two' }), 'a 1 b two c');
  assert.equal(substitute('{{o}}', { o: { k: [1] } }), '{\n  "k": [\n    1\n  ]\n}');
});

test('every missing variable is named in one error', () => {
  assert.throws(
    () => substitute('{{a}} {{b}} {{a}} {{c}}', { b: 'ok' }, 'prompt t.v1'),
    (err) => {
      assert.ok(err instanceof InputError);
      assert.equal(err.message, 'prompt t.v1: missing variable(s) {{a}}, {{c}}');
      assert.deepEqual(err.details.missing, ['a', 'c']);
      return true;
    },
  );
});

test('role markers split a template into messages; other comments are dropped', () => {
  const t = parsePrompt('t', 1, '<!-- maintainer note -->\n<!-- role: system -->\nYou are {{who}}.\n<!-- role: user -->\nData: {{data}}\n');
  assert.deepEqual(renderPrompt(t, { who: 'a reviewer', data: '1 2 3' }), [
    { role: 'system', content: 'You are a reviewer.' },
    { role: 'user', content: 'Data: 1 2 3' },
  ]);
  assert.deepEqual(parsePrompt('u', 1, 'just {{x}}').sections, [{ role: 'user', text: 'just {{x}}' }]);
  assert.throws(() => parsePrompt('bad', 2, '<!-- role: tool -->x'), /bad\.v2: unknown role 'tool'/);
});

test('versions: the highest by default, an explicit one on request', () => {
  const dir = mkdtempSync(join(tmpdir(), 'prompts-'));
  try {
    writeFileSync(join(dir, 'agent.v1.md'), 'one {{x}}');
    writeFileSync(join(dir, 'agent.v2.md'), 'two {{x}}');
    writeFileSync(join(dir, 'agent.v10.md'), 'ten {{x}}');
    writeFileSync(join(dir, 'other.v1.md'), 'other');
    assert.deepEqual(promptVersions('agent', dir), [1, 2, 10]);
    assert.equal(loadPrompt('agent', undefined, dir).version, 10);
    const { messages, ref } = prompt('agent', { x: 'X' }, 2, dir);
    assert.deepEqual(ref, { name: 'agent', version: 2 });
    assert.deepEqual(messages, [{ role: 'user', content: 'two X' }]);
    assert.throws(() => loadPrompt('agent', 3, dir), (e) => e instanceof NotFoundError && /versions present: 1, 2, 10/.test(e.message));
    assert.throws(() => loadPrompt('nope', undefined, dir), NotFoundError);
  } finally {
    rmSync(dir, { recursive: true });
  }
});
