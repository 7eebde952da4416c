import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFixture } from '../../../pipelines/llm/replay/fixture.ts';
import { InputError } from '../../../pipelines/core/errors.ts';

test('defaults: times 1, no delay, response_format supported', () => {
  const f = parseFixture({ name: 'x', steps: [{ reply: { content: 'hi' } }] });
  assert.deepEqual(f, { name: 'x', responseFormat: true, steps: [{ match: {}, reply: { content: 'hi' }, times: 1, delayMs: 0 }] });
});

test('every problem is named by its path', () => {
  assert.throws(
    () =>
      parseFixture(
        {
          stepz: [],
          steps: [
            { reply: { content: 'a', json: {} } },
            { match: { agent: 3, lastUser: 'x' }, reply: { error: { status: 200 } } },
            { reply: {}, times: -1 },
            { reply: { hang: false, usage: { prompt_tokens: 'many' } } },
          ],
        },
        'f.yaml',
      ),
    (err) => {
      assert.ok(err instanceof InputError);
      assert.deepEqual(err.details.issues, [
        '$.stepz: unknown key (expected one of name, responseFormat, steps)',
        '$.steps[0].reply: expected exactly one of content, json, refusal, error, hang, body, got content, json',
        '$.steps[1].match.lastUser: unknown key (expected one of agent, model, contains, responseFormat)',
        '$.steps[1].match.agent: expected a string',
        '$.steps[1].reply.error.status: expected an HTTP error status 400..599',
        '$.steps[2].times: expected an integer >= 0 (0 = unlimited)',
        '$.steps[2].reply: expected exactly one of content, json, refusal, error, hang, body, got none',
        '$.steps[3].reply.hang: expected true',
        '$.steps[3].reply.usage: expected {prompt_tokens: integer, completion_tokens: integer}',
      ]);
      assert.match(err.message, /^replay fixture f\.yaml:/);
      return true;
    },
  );
});
