import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPool, rowOf, testModels } from './helpers.ts';
import { robustZScore } from '../../../pipelines/inference/models/zscore.ts';

test('serves requests through worker threads and reports statuses and the latency breakdown', async () => {
  const { pool, registry } = await startPool();
  try {
    const x = rowOf(64);
    const r = await pool.infer({ model: 'zscore-w64', inputs: [{ name: 'window', shape: [1, 64], datatype: 'FP32', data: x }] });
    assert.equal(r.status, 'ok');
    if (r.status !== 'ok') return;
    assert.deepEqual(r.outputs[0]!.shape, [1, 1]);
    assert.ok(Math.abs(r.outputs[0]!.data[0]! - robustZScore(Float32Array.from(x))) < 1e-3);
    for (const k of ['queueMs', 'batchWaitMs', 'execMs', 'totalMs'] as const) assert.ok(r.latency[k] >= 0, k);
    assert.ok(r.latency.execMs > 0);
    // Concurrent requests of one model get batched, and each gets its own rows back.
    const many = await Promise.all(Array.from({ length: 12 }, (_, k) => pool.infer({ model: 'mlp-s', inputs: [{ name: 'input', shape: [1, 32], data: rowOf(32, k) }] })));
    assert.ok(many.every((m) => m.status === 'ok'));
    const solo = await pool.infer({ model: 'mlp-s', inputs: [{ name: 'input', shape: [1, 32], data: rowOf(32, 5) }] });
    assert.ok(solo.status === 'ok' && many[5]!.status === 'ok');
    if (solo.status === 'ok' && many[5]!.status === 'ok') {
      const a = Array.from(solo.outputs[0]!.data);
      const b = Array.from(many[5]!.outputs[0]!.data);
      a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 1e-5));
    }
    const text = await registry.metrics();
    assert.match(text, /panoptes_inference_requests_total\{model="mlp-s",status="ok"\} 13/);
    assert.match(text, /panoptes_inference_goodput_total\{model="zscore-w64"\} 1/);
    assert.match(text, /panoptes_inference_prediction_error_seconds_count\{action="INFER"\}/);
    assert.match(text, /panoptes_inference_queue_depth 0/);
  } finally {
    await pool.close();
  }
});

test('admission rejects a request that cannot meet its deadline before running it', async () => {
  const { pool, registry } = await startPool();
  try {
    const ok = await pool.infer({ model: 'mlp-m', inputs: [{ name: 'input', shape: [1, 128], data: rowOf(128) }] });
    assert.equal(ok.status, 'ok');
    const r = await pool.infer({ model: 'mlp-m', deadlineMs: 0.05, inputs: [{ name: 'input', shape: [1, 128], data: rowOf(128) }] });
    assert.equal(r.status, 'rejected');
    if (r.status === 'rejected') assert.match(r.reason, /deadline cannot be met/);
    assert.equal(r.latency.execMs, 0, 'never ran');
    assert.equal(r.latency.batchSize, 0);
    assert.match(await registry.metrics(), /panoptes_inference_admission_total\{decision="refused",stage="arrival"\} 1/);
  } finally {
    await pool.close();
  }
});

test('a request without a deadline gets the model default SLO; unknown models and bad tensors are typed errors', async () => {
  const models = testModels(3000);
  const { pool } = await startPool({}, models);
  try {
    const r = await pool.infer({ model: 'mlp-s', inputs: [{ name: 'input', shape: [1, 32], data: rowOf(32) }] });
    assert.equal(r.status, 'ok');
    const nf = await pool.infer({ model: 'nope', inputs: [] });
    assert.equal(nf.status, 'error');
    if (nf.status === 'error') assert.equal(nf.error.code, 'PANOPTES_NOT_FOUND');
    const bad = await pool.infer({ model: 'mlp-s', inputs: [{ name: 'input', shape: [1, 30], data: rowOf(30) }] });
    assert.equal(bad.status, 'error');
    if (bad.status === 'error') {
      assert.equal(bad.error.code, 'PANOPTES_INPUT');
      assert.match(bad.error.message, /expected inputs: input FP32 \[-1,32\]/);
    }
  } finally {
    await pool.close();
  }
});

test('evicts least-recently-used models on a real worker under a memory budget', async () => {
  const models = testModels();
  const size = (n: string) => models.find((m) => m.name === n)!.sizeBytes;
  // Room for mlp-s plus zscore-w64 plus mlp-m, not for mlp-l as well.
  const budget = size('mlp-s') + size('zscore-w64') + size('mlp-m') + 10;
  const { pool, registry } = await startPool({ memoryBudgetBytes: Math.max(budget, size('mlp-l') + 10) }, models);
  try {
    const call = (model: string) => {
      const m = models.find((x) => x.name === model)!;
      const dim = m.signature.inputs[0]!.shape[1]!;
      return pool.infer({ model, inputs: [{ name: m.signature.inputs[0]!.name, shape: [1, dim], data: rowOf(dim) }] });
    };
    for (const m of ['mlp-s', 'zscore-w64', 'mlp-s']) assert.equal((await call(m)).status, 'ok');
    assert.deepEqual(pool.residency()[0]!.models.sort(), ['mlp-s', 'zscore-w64']);
    assert.equal((await call('mlp-l')).status, 'ok');
    const after = pool.residency()[0]!;
    assert.ok(after.models.includes('mlp-l'));
    assert.ok(after.usedBytes <= pool.options.memoryBudgetBytes);
    assert.match(await registry.metrics(), /panoptes_inference_evictions_total [1-9]/);
    // The evicted models still serve: they are loaded again on demand.
    assert.equal((await call('zscore-w64')).status, 'ok');
    assert.ok(pool.residency()[0]!.usedBytes <= pool.options.memoryBudgetBytes);
  } finally {
    await pool.close();
  }
});

test('handle() maps Kafka request records to result records', async () => {
  const { pool } = await startPool();
  try {
    const res = await pool.handle({ id: 'r-1', model: 'mlp-s', modelVersion: null, inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 32], data: [...rowOf(32), ...rowOf(32, 2)] }], deadlineMs: Date.now() + 2000, sentAtMs: Date.now() });
    assert.equal(res.requestId, 'r-1');
    assert.equal(res.status, 'ok');
    assert.equal(res.error, null);
    assert.deepEqual(res.outputs[0]!.shape, [2, 8]);
    assert.equal(res.outputs[0]!.data.length, 16);
    assert.equal(res.batchSize, 2);
    const gone = await pool.handle({ id: 'r-2', model: 'mlp-s', modelVersion: null, inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 32], data: rowOf(32) }], deadlineMs: Date.now() - 5, sentAtMs: 0 });
    assert.equal(gone.status, 'rejected');
    const nf = await pool.handle({ id: 'r-3', model: 'mlp-s', modelVersion: '9', inputs: [], deadlineMs: null, sentAtMs: 0 });
    assert.equal(nf.status, 'error');
    assert.match(nf.error!, /^PANOPTES_NOT_FOUND/);
  } finally {
    await pool.close();
  }
});

test('a busy controller thread takes finished results synchronously (deliverResults), each exactly once', async () => {
  const { pool, registry } = await startPool();
  try {
    const call = (k: number) => pool.infer({ model: 'mlp-s', inputs: [{ name: 'input', shape: [1, 32], data: rowOf(32, k) }] });
    // Warm (the model loaded and profiled), and each row's answer alone for comparison.
    const solo: number[][] = [];
    for (let k = 0; k < 6; k++) {
      const r = await call(k);
      assert.equal(r.status, 'ok');
      if (r.status === 'ok') solo.push(Array.from(r.outputs[0]!.data));
    }
    const before = pool.counts.ok;
    const results = Array.from({ length: 6 }, (_, k) => call(k));
    // Let the scheduler dispatch them all, then hold the thread without yielding to the loop: the
    // results can only come through deliverResults (a port's 'message' event needs the loop).
    for (let i = 0; i < 1000 && pool.queueDepth > 0; i++) await new Promise((r) => setImmediate(r));
    assert.equal(pool.queueDepth, 0);
    const until = performance.now() + 10_000;
    while (pool.counts.ok < before + 6 && performance.now() < until) pool.deliverResults();
    assert.equal(pool.counts.ok, before + 6, 'all six results taken while the thread stayed busy');
    const got = await Promise.all(results);
    got.forEach((r, k) => {
      assert.equal(r.status, 'ok');
      if (r.status === 'ok') Array.from(r.outputs[0]!.data).forEach((v, i) => assert.ok(Math.abs(v - solo[k]![i]!) < 1e-5));
    });
    // Once each: the ports' 'message' events that follow find nothing more to complete.
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(pool.counts.ok, before + 6);
    const text = await registry.metrics();
    assert.match(text, new RegExp(`panoptes_inference_requests_total\\{model="mlp-s",status="ok"\\} ${before + 6}\\b`));
    const done = Number(/panoptes_inference_actions_total\{action="INFER",outcome="done"\} (\d+)/.exec(text)![1]);
    const delivered = Number(/panoptes_inference_deliver_seconds_count (\d+)/.exec(text)![1]);
    assert.equal(delivered, done, 'one delivery per completed batch');
  } finally {
    await pool.close();
  }
});
