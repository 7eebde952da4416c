import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expireResult, resultToRecord } from '../../../pipelines/inference/records.ts';

const latency = { queueMs: 1, batchWaitMs: 0, execMs: 2, totalMs: 30, batchSize: 1 };

test('a late result is a rejection record, never a late answer; every record carries its deadline', () => {
  const late = resultToRecord('r1', { status: 'late', model: 'm', version: '1', outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 1], data: Float32Array.of(1) }], latency, deadlineAt: 1_000.4 });
  assert.equal(late.status, 'rejected');
  assert.deepEqual(late.outputs, []);
  assert.match(late.error!, /^deadline exceeded: .*a late answer is never sent/);
  assert.equal(late.deadlineMs, 1000);
  const ok = resultToRecord('r2', { status: 'ok', model: 'm', version: '1', outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 1], data: Float32Array.of(2) }], latency, deadlineAt: 2_000 });
  assert.equal(ok.status, 'ok');
  assert.deepEqual(ok.outputs[0]!.data, [2]);
  // Ready in time, but the deadline passed before it could be produced.
  assert.equal(expireResult(ok, 1_999).status, 'ok');
  const expired = expireResult(ok, 2_010);
  assert.equal(expired.status, 'rejected');
  assert.deepEqual(expired.outputs, []);
  assert.match(expired.error!, /ready 10 ms after the deadline/);
  assert.equal(expireResult({ ...ok, deadlineMs: null }, 9e12).status, 'ok');
});
