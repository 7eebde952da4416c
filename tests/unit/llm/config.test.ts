import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadLlmConfig, modelFor, agentEnvSuffix, parsePrices } from '../../../pipelines/llm/config.ts';
import { ConfigError } from '../../../pipelines/core/errors.ts';

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail('expected a ConfigError');
}

test('offline is the default without OPENAI_API_KEY', () => {
  const c = loadLlmConfig({});
  assert.equal(c.provider, 'offline');
  assert.equal(c.timeoutMs, 60_000);
  assert.equal(c.maxRetries, 5);
});

test('openai with a key, a base URL and per-agent models', () => {
  const c = loadLlmConfig({
    OPENAI_API_KEY: 'k',
    OPENAI_BASE_URL: 'http://127.0.0.1:8000/v1',
    PANOPTES_LLM_MODEL: 'small',
    PANOPTES_LLM_MODEL_DETECTION: 'big',
    PANOPTES_LLM_MODEL_ARGOS_REVIEW: 'reviewer',
    PANOPTES_LLM_TIMEOUT_MS: '1500',
  });
  assert.equal(c.provider, 'openai');
  assert.equal(c.baseURL, 'http://127.0.0.1:8000/v1');
  assert.equal(c.timeoutMs, 1500);
  assert.equal(modelFor(c, 'detection'), 'big');
  assert.equal(modelFor(c, 'argos-review'), 'reviewer');
  assert.equal(modelFor(c, 'atlas-service'), 'small');
});

test('agent names map to env suffixes', () => {
  assert.equal(agentEnvSuffix('argos-detection'), 'ARGOS_DETECTION');
  assert.equal(agentEnvSuffix('lab.react agent'), 'LAB_REACT_AGENT');
});

test('every bad key is named with what was expected', () => {
  const issues = issuesOf(() =>
    loadLlmConfig({
      OPENAI_API_KEY: 'k',
      OPENAI_BASE_URL: 'ftp://x',
      PANOPTES_LLM_PROVIDER: 'anthropic',
      PANOPTES_LLM_TIMEOUT_MS: '-3',
      PANOPTES_LLM_MAX_RETRIES: '2.5',
      PANOPTES_LLM_MAX_TOKENS: 'lots',
      PANOPTES_LLM_PRICES: '{"m": {"prompt": 1}}',
    }),
  );
  const paths = issues.map((i) => i.split(':')[0]);
  assert.deepEqual(paths.sort(), [
    'OPENAI_BASE_URL',
    'PANOPTES_LLM_MAX_RETRIES',
    'PANOPTES_LLM_MAX_TOKENS',
    'PANOPTES_LLM_MODEL',
    'PANOPTES_LLM_PRICES',
    'PANOPTES_LLM_PROVIDER',
    'PANOPTES_LLM_TIMEOUT_MS',
  ]);
  assert.ok(issues.some((i) => i.includes("got 'anthropic'")));
});

test('openai provider without a key is a config error', () => {
  const issues = issuesOf(() => loadLlmConfig({ PANOPTES_LLM_PROVIDER: 'openai', PANOPTES_LLM_MODEL: 'm' }));
  assert.deepEqual(issues.map((i) => i.split(':')[0]), ['OPENAI_API_KEY']);
});

test('a cost budget needs a price for every configured model', () => {
  const issues = issuesOf(() =>
    loadLlmConfig({ OPENAI_API_KEY: 'k', PANOPTES_LLM_MODEL: 'a', PANOPTES_LLM_MODEL_X: 'b', PANOPTES_LLM_MAX_COST: '1', PANOPTES_LLM_PRICES: '{"a":{"prompt":1,"completion":2}}' }),
  );
  assert.deepEqual(issues, ['PANOPTES_LLM_PRICES: PANOPTES_LLM_MAX_COST is set but these models have no price: b']);
});

test('an agent without any model names the keys to set', () => {
  const c = loadLlmConfig({ OPENAI_API_KEY: 'k', PANOPTES_LLM_MODEL_DETECTION: 'm' });
  assert.throws(() => modelFor(c, 'review'), /PANOPTES_LLM_MODEL_REVIEW: no model for agent 'review'/);
});

test('prices parse per million tokens', () => {
  assert.deepEqual(parsePrices('{"m":{"prompt":0.15,"completion":0.6}}'), { m: { prompt: 0.15, completion: 0.6 } });
  assert.match(parsePrices('[1]') as string, /object keyed by model/);
  assert.match(parsePrices('{') as string, /expected JSON/);
});
