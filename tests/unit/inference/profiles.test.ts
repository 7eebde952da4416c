import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProfileStore, SlidingWindow, batchSizesUpTo } from '../../../pipelines/inference/profiles.ts';

test('the estimate is the p99 of the last 10 measurements', () => {
  const w = new SlidingWindow(10);
  for (let i = 1; i <= 10; i++) w.add(i);
  assert.equal(w.quantile(0.99), 10);
  assert.equal(w.quantile(0.5), 5);
  w.add(0.5); // evicts the oldest (1)
  assert.equal(w.count, 10);
  for (let i = 0; i < 9; i++) w.add(2);
  assert.equal(w.quantile(0.99), 2, 'old outliers leave the window');
});

test('unmeasured batch sizes borrow from a larger bucket, else scale a smaller one', () => {
  const p = new ProfileStore({ batchSizes: [1, 2, 4, 8], defaultExecMs: 7 });
  assert.equal(p.execMs('m', 4), 7);
  p.recordExec('m', 2, 1);
  assert.equal(p.execMs('m', 2), 1);
  assert.equal(p.execMs('m', 8), 4, 'scaled linearly from bucket 2');
  p.recordExec('m', 8, 3);
  assert.equal(p.execMs('m', 4), 3, 'bounded by the larger bucket');
  assert.equal(p.execMs('m', 1), 1);
  assert.equal(p.bucket(3), 4);
  assert.throws(() => p.bucket(9), /largest profiled batch size 8/);
});

test('load estimates fall back from the model to any model to the default', () => {
  const p = new ProfileStore({ defaultLoadMs: 20 });
  assert.equal(p.loadMs('a'), 20);
  p.recordLoad('b', 4);
  assert.equal(p.loadMs('a'), 4);
  p.recordLoad('a', 2);
  assert.equal(p.loadMs('a'), 2);
});

test('batch sizes are the powers of two up to the maximum', () => {
  assert.deepEqual(batchSizesUpTo(16), [1, 2, 4, 8, 16]);
  assert.deepEqual(batchSizesUpTo(12), [1, 2, 4, 8, 12]);
  assert.deepEqual(batchSizesUpTo(1), [1]);
});
