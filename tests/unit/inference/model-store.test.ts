import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelStore } from '../../../pipelines/inference/model-store.ts';

test('plans LRU evictions within the budget and never evicts pinned or loading models', () => {
  const s = new ModelStore(300);
  s.beginLoad('a', 100, 0);
  s.finishLoad('a', true);
  s.beginLoad('b', 100, 1);
  s.finishLoad('b', true);
  s.beginLoad('c', 100, 2); // still loading: pinned
  assert.deepEqual(s.planEviction(100), ['a']);
  s.pin('a', 3); // a in use now, b is least recently used
  assert.deepEqual(s.planEviction(100), ['b']);
  assert.equal(s.planEviction(250), undefined, 'pinned a and loading c cannot go');
  s.unpin('a');
  assert.deepEqual(s.planEviction(200), ['b', 'a']);
  assert.equal(s.planEviction(301), undefined, 'larger than the whole budget');
  s.finishLoad('c', false);
  assert.equal(s.state('c'), undefined, 'a failed load frees its bytes');
  assert.equal(s.usedBytes, 200);
  assert.throws(() => s.beginLoad('d', 200, 4), /exceeds the budget/);
});
