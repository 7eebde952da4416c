import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPool, rowOf } from './helpers.ts';

for (const mode of ['exit', 'throw'] as const) {
  test(`a crashing worker (${mode}) fails its in-flight requests at once, is replaced, and the pool keeps serving`, async () => {
    const { pool, registry } = await startPool({ workers: 1, crashHook: { model: 'mlp-m', mode } });
    try {
      const warm = await pool.infer({ model: 'mlp-s', inputs: [{ name: 'input', shape: [1, 32], data: rowOf(32) }] });
      assert.equal(warm.status, 'ok');
      const doomed = await Promise.all([1, 2, 3].map((k) => pool.infer({ model: 'mlp-m', deadlineMs: 5000, inputs: [{ name: 'input', shape: [1, 128], data: rowOf(128, k) }] })));
      for (const d of doomed) {
        assert.equal(d.status, 'error');
        if (d.status === 'error') {
          assert.equal(d.error.code, 'PANOPTES_INTERNAL');
          assert.match(d.error.message, /crashed/);
        }
        assert.ok(d.latency.totalMs < 5000, 'failed at once, not at the deadline');
      }
      assert.ok(pool.restarts >= 1 && pool.restarts <= 3, `one replacement per crashed batch, got ${pool.restarts}`);
      const after = await pool.infer({ model: 'mlp-s', deadlineMs: 5000, inputs: [{ name: 'input', shape: [1, 32], data: rowOf(32) }] });
      assert.equal(after.status, 'ok', 'the replacement worker loads the model again and serves');
      assert.match(await registry.metrics(), /panoptes_inference_worker_restarts_total [123]\n/);
    } finally {
      await pool.close();
    }
  });
}
