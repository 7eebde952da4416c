import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PredictionLog } from '../../../pipelines/inference/prediction-log.ts';

test('keeps only the newest entries and summarizes the error', () => {
  const log = new PredictionLog(4);
  for (let i = 0; i < 6; i++) log.add({ kind: 'INFER', model: 'm', batch: 1, predictedMs: 1, actualMs: 1 + i * 0.1 });
  const list = log.list();
  assert.equal(list.length, 4);
  assert.deepEqual(list.map((e) => Math.round(e.actualMs * 10)), [12, 13, 14, 15]);
  const s = log.summary('INFER');
  assert.equal(s.count, 4);
  assert.ok(Math.abs(s.absErrorP99Ms - 0.5) < 1e-9);
  assert.equal(s.underpredictedFraction, 1);
  assert.equal(log.summary('LOAD').count, 0);
});
