import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgingWindow, DecayingPeak, ProfileStore, batchSizesUpTo } from '../../../pipelines/inference/profiles.ts';

test('the estimate is the p99 of the last 10 measurements, forgetting old ones', () => {
  const w = new AgingWindow(10, 1000);
  for (let i = 1; i <= 10; i++) w.add(i, 0);
  assert.equal(w.quantile(0.99, 0), 10);
  assert.equal(w.quantile(0.5, 0), 5);
  w.add(0.5, 10); // evicts the oldest (1)
  assert.equal(w.count(10), 10);
  for (let i = 0; i < 9; i++) w.add(2, 20);
  assert.equal(w.quantile(0.99, 20), 2, 'old outliers leave the window');
  w.add(30, 500);
  assert.equal(w.quantile(0.99, 500), 30, 'a spike counts while recent');
  assert.equal(w.quantile(0.99, 1100), 30);
  assert.equal(w.count(1100), 1, 'the older ten aged out');
  assert.equal(w.quantile(0.99, 1600), undefined);
});

test('unmeasured batch sizes borrow from a larger bucket, else scale a smaller one', () => {
  const p = new ProfileStore({ batchSizes: [1, 2, 4, 8], defaultExecMs: 7 });
  assert.equal(p.execMs('m', 4, 0), 7);
  p.recordExec('m', 2, 1, 0);
  assert.equal(p.execMs('m', 2, 0), 1);
  assert.equal(p.execMs('m', 8, 0), 4, 'scaled linearly from bucket 2');
  p.recordExec('m', 8, 3, 0);
  assert.equal(p.execMs('m', 4, 0), 3, 'bounded by the larger bucket');
  assert.equal(p.execMs('m', 1, 0), 1);
  assert.equal(p.bucket(3), 4);
  assert.throws(() => p.bucket(9), /largest profiled batch size 8/);
});

test('load estimates fall back from the model to any model to the default, and age out', () => {
  const p = new ProfileStore({ defaultLoadMs: 20, loadMaxAgeMs: 1000 });
  assert.equal(p.loadMs('a', 0), 20);
  p.recordLoad('b', 4, 0);
  assert.equal(p.loadMs('a', 0), 4);
  p.recordLoad('a', 2, 0);
  assert.equal(p.loadMs('a', 0), 4, 'one own measurement is not enough yet');
  p.recordLoad('a', 2, 0);
  p.recordLoad('a', 2, 0);
  assert.equal(p.loadMs('a', 0), 2);
  p.recordLoad('c', 50, 500);
  assert.equal(p.loadMs('d', 900), 50, 'a slow load dominates while it is recent');
  assert.equal(p.loadMs('d', 1600), 20, 'and is forgotten once old');
});

test('batch sizes are the powers of two up to the maximum', () => {
  assert.deepEqual(batchSizesUpTo(16), [1, 2, 4, 8, 16]);
  assert.deepEqual(batchSizesUpTo(12), [1, 2, 4, 8, 12]);
  assert.deepEqual(batchSizesUpTo(1), [1]);
});

test('the noise peak counts in full when seen, halves every half-life, and a larger one replaces it', () => {
  const p = new DecayingPeak(250);
  assert.equal(p.value(0), 0);
  p.add(40, 1000);
  assert.equal(p.value(1000), 40);
  assert.equal(p.value(1250), 20);
  assert.equal(p.value(1500), 10);
  p.add(5, 1500); // smaller than the faded peak: ignored
  assert.equal(p.value(1500), 10);
  p.add(30, 1500);
  assert.equal(p.value(1500), 30);
  assert.equal(p.value(1750), 15);
});
