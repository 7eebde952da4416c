import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Budget, estimateTokens } from '../../../pipelines/llm/budget.ts';
import { BudgetExceededError, ConfigError } from '../../../pipelines/core/errors.ts';

const msgs = [{ role: 'user' as const, content: 'x'.repeat(400) }];

test('estimate: about four characters per token plus per-message overhead', () => {
  assert.equal(estimateTokens(msgs), 104);
  assert.equal(estimateTokens([]), 0);
});

test('no limits: never throws, still counts', () => {
  const b = new Budget({ prices: {} });
  const r = b.beforeCall('a', 'm', msgs, 1e9);
  b.afterCall('a', 'm', { promptTokens: 10, completionTokens: 5, totalTokens: 15 }, r);
  assert.deepEqual(b.state(), { tokens: 15, cost: 0, reservedTokens: 0 });
});

test('token limit: before (estimate + completion cap) and after (real usage)', () => {
  const b = new Budget({ maxTokens: 200, prices: {} });
  assert.throws(() => b.beforeCall('a', 'm', msgs, 97), (e) => e instanceof BudgetExceededError && e.details.phase === 'before');
  b.beforeCall('a', 'm', msgs, 96);
  b.afterCall('a', 'm', { promptTokens: 100, completionTokens: 100, totalTokens: 200 });
  assert.throws(() => b.afterCall('a', 'm', { promptTokens: 1, completionTokens: 0, totalTokens: 1 }), (e) => e instanceof BudgetExceededError && e.details.phase === 'after');
});

test('cost limit with per-model prices; an unpriced model is a config error', () => {
  const b = new Budget({ maxCost: 1, prices: { m: { prompt: 2, completion: 10 } } });
  assert.equal(b.costOf('m', 1e6, 0), 2);
  assert.equal(b.costOf('other', 1, 1), undefined);
  assert.throws(() => b.beforeCall('a', 'm', msgs, 100_000), BudgetExceededError); // 0.000208 + 1.0
  b.beforeCall('a', 'm', msgs, 90_000);
  assert.equal(b.afterCall('a', 'm', { promptTokens: 100_000, completionTokens: 50_000, totalTokens: 150_000 }), 0.7);
  assert.throws(() => b.beforeCall('a', 'other', msgs), ConfigError);
});

test('calls in flight hold their estimate; release gives it back once', () => {
  const b = new Budget({ maxTokens: 300, prices: {} });
  const r1 = b.beforeCall('a', 'm', msgs, 46); // 150
  const r2 = b.beforeCall('b', 'm', msgs, 46); // 150: 300 held
  assert.equal(b.state().reservedTokens, 300);
  assert.throws(() => b.beforeCall('c', 'm', msgs), (e) => e instanceof BudgetExceededError && /held by calls in flight/.test(e.message));
  b.release(r1);
  b.release(r1);
  assert.equal(b.state().reservedTokens, 150);
  b.afterCall('b', 'm', { promptTokens: 100, completionTokens: 20, totalTokens: 120 }, r2);
  assert.deepEqual(b.state(), { tokens: 120, cost: 0, reservedTokens: 0, maxTokens: 300 });
  b.beforeCall('c', 'm', msgs);
});
