import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createLlmClient } from '../../../pipelines/llm/client.ts';
import { LlmError, LlmOutputError } from '../../../pipelines/core/errors.ts';

const schema = { type: 'object', required: ['rule'], properties: { rule: { type: 'string' } } };

test('offline is chosen without a key and runs the agent functions', async () => {
  const c = createLlmClient({
    registry: new Registry(),
    env: {},
    offline: {
      'argos-detection': ({ messages }) => ({ rule: `value > ${messages.at(-1)!.content.length}` }),
      echo: ({ messages }) => messages.map((m) => m.content).join('|'),
    },
  });
  assert.equal(c.name, 'offline');
  const j = await c.chatJson<{ rule: string }>('argos-detection', [{ role: 'user', content: 'abc' }], schema, { prompt: { name: 'argos-detection', version: 1 } });
  assert.deepEqual(j.value, { rule: 'value > 3' });
  assert.deepEqual(j.usage, { promptTokens: 0, completionTokens: 0, totalTokens: 0 });
  const t = await c.chat('echo', [{ role: 'system', content: 's' }, { role: 'user', content: 'u' }]);
  assert.equal(t.text, 's|u');
  assert.deepEqual(c.usage().agents['argos-detection'], { promptTokens: 0, completionTokens: 0, calls: 1, failedCalls: 0, errors: 0, retries: 0, cost: 0 });
  assert.deepEqual(c.calls()[0]!.prompt, { name: 'argos-detection', version: 1 });
});

test('offline answers are validated like a model\'s', async () => {
  const c = createLlmClient({ registry: new Registry(), env: {}, offline: { bad: () => ({ rule: 3 }) } });
  await assert.rejects(c.chatJson('bad', [], schema), (e) => e instanceof LlmOutputError && e.raw === '{"rule":3}');
  assert.equal(c.usage().agents.bad!.failedCalls, 1);
});

test('an agent without a handler is a clear LlmError', async () => {
  const c = createLlmClient({ registry: new Registry(), env: {}, offline: { one: () => 'x' } });
  await assert.rejects(c.chat('two', []), (e) => e instanceof LlmError && /no handler for agent 'two' \(handlers: one\)/.test(e.message));
});

test('two clients can share one registry', () => {
  const registry = new Registry();
  createLlmClient({ registry, env: {} });
  createLlmClient({ registry, env: {} });
});

test('the client exposes its config with the key redacted', () => {
  const c = createLlmClient({ registry: new Registry(), env: { OPENAI_API_KEY: 'sk-secret', PANOPTES_LLM_MODEL: 'm' } });
  assert.equal(c.name, 'openai');
  assert.equal(c.config.apiKey, '(redacted)');
  assert.ok(!JSON.stringify(c.config).includes('sk-secret'));
});
