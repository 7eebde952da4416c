import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRetryAfter } from '../../../pipelines/llm/retry-after.ts';

const h = (o: Record<string, string>) => new Headers(o);

test('seconds, fractional seconds, milliseconds header', () => {
  assert.equal(parseRetryAfter(h({ 'retry-after': '2' })), 2000);
  assert.equal(parseRetryAfter(h({ 'retry-after': '0.5' })), 500);
  assert.equal(parseRetryAfter(h({ 'retry-after-ms': '250', 'retry-after': '9' })), 250);
});

test('an HTTP date relative to now; past dates mean no wait', () => {
  const now = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT');
  assert.equal(parseRetryAfter(h({ 'retry-after': 'Wed, 21 Oct 2026 07:28:30 GMT' }), now), 30_000);
  assert.equal(parseRetryAfter(h({ 'retry-after': 'Wed, 21 Oct 2026 07:27:00 GMT' }), now), 0);
});

test('absent or unreadable', () => {
  assert.equal(parseRetryAfter(undefined), undefined);
  assert.equal(parseRetryAfter(h({})), undefined);
  assert.equal(parseRetryAfter(h({ 'retry-after': 'soon' })), undefined);
  assert.equal(parseRetryAfter(h({ 'retry-after': '-1' })), undefined);
});
