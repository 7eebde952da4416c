import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createInferenceServer } from '../../../pipelines/inference/http/server.ts';
import { robustZScore } from '../../../pipelines/inference/models/zscore.ts';
import { startPool, rowOf } from './helpers.ts';

async function withServer(fn: (base: string) => Promise<void>): Promise<void> {
  const { pool, registry } = await startPool();
  const server = createInferenceServer(pool, registry);
  const addr = await server.listen('127.0.0.1', 0);
  try {
    await fn(`http://127.0.0.1:${addr.port}`);
  } finally {
    await server.close();
    await pool.close();
  }
}

const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

test('KServe v2 request and response shapes over HTTP with a real model', async () => {
  await withServer(async (base) => {
    assert.equal((await fetch(`${base}/v2/health/live`)).status, 200);
    const ready = await fetch(`${base}/v2/health/ready`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { ready: true });

    const meta = await fetch(`${base}/v2/models/zscore-w64`);
    assert.equal(meta.status, 200);
    assert.deepEqual(await meta.json(), {
      name: 'zscore-w64',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'window', datatype: 'FP32', shape: [-1, 64] }],
      outputs: [{ name: 'score', datatype: 'FP32', shape: [-1, 1] }],
    });

    const w1 = rowOf(64, 1);
    const w2 = rowOf(64, 2).map((v, i) => (i === 63 ? 40 : v));
    const res = await post(`${base}/v2/models/zscore-w64/infer`, { id: 'req-7', inputs: [{ name: 'window', shape: [2, 64], datatype: 'FP32', data: [...w1, ...w2] }] });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-panoptes-status'), 'ok');
    const body = (await res.json()) as { model_name: string; model_version: string; id: string; outputs: { name: string; datatype: string; shape: number[]; data: number[] }[]; parameters: Record<string, unknown> };
    assert.equal(body.model_name, 'zscore-w64');
    assert.equal(body.model_version, '1');
    assert.equal(body.id, 'req-7');
    assert.equal(body.outputs.length, 1);
    const out = body.outputs[0]!;
    assert.equal(out.name, 'score');
    assert.equal(out.datatype, 'FP32');
    assert.deepEqual(out.shape, [2, 1]);
    assert.ok(Math.abs(out.data[0]! - robustZScore(Float32Array.from(w1))) < 1e-3);
    assert.ok(Math.abs(out.data[1]! - robustZScore(Float32Array.from(w2))) < 1e-2 * robustZScore(Float32Array.from(w2)));
    assert.equal(body.parameters['panoptes_status'], 'ok');
    for (const k of ['queue_ms', 'batch_wait_ms', 'exec_ms', 'total_ms']) assert.equal(typeof body.parameters[k], 'number');

    const versioned = await post(`${base}/v2/models/mlp-s/versions/1/infer`, { inputs: [{ name: 'input', shape: [1, 32], datatype: 'FP32', data: rowOf(32) }] });
    assert.equal(versioned.status, 200);
    const flat = ((await versioned.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data;

    // What a Triton client or a curl example sends: data nested by row, requested outputs with parameters.
    const rows = [rowOf(32)];
    const triton = await post(`${base}/v2/models/mlp-s/infer`, { id: 't1', inputs: [{ name: 'input', shape: [1, 32], datatype: 'FP32', data: rows }], outputs: [{ name: 'output', parameters: { binary_data: false } }] });
    assert.equal(triton.status, 200);
    const tb = (await triton.json()) as { id: string; outputs: { name: string; shape: number[]; data: number[] }[] };
    assert.equal(tb.id, 't1');
    assert.deepEqual(tb.outputs[0]!.shape, [1, 8]);
    assert.deepEqual(tb.outputs[0]!.data, flat, 'nested data is row-major: same answer as flat');
    const ragged = await post(`${base}/v2/models/mlp-s/infer`, { inputs: [{ name: 'input', shape: [1, 32], datatype: 'FP32', data: [rowOf(31)] }] });
    assert.equal(ragged.status, 400);

    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /panoptes_inference_requests_total\{model="zscore-w64",status="ok"\} 1/);
    assert.match(metrics, /panoptes_inference_latency_seconds_bucket\{le="0.025",model="zscore-w64"\}/);
  });
});

test('bad requests over HTTP: 404 unknown model, 400 naming the signature, 429 refused', async () => {
  await withServer(async (base) => {
    const nf = await post(`${base}/v2/models/nope/infer`, { inputs: [] });
    assert.equal(nf.status, 404);
    assert.match(((await nf.json()) as { error: string }).error, /"nope" is not served/);
    assert.equal((await fetch(`${base}/v2/models/nope`)).status, 404);
    assert.equal((await fetch(`${base}/v2/models/mlp-s/versions/2`)).status, 404);

    const shape = await post(`${base}/v2/models/mlp-s/infer`, { inputs: [{ name: 'input', shape: [1, 31], datatype: 'FP32', data: rowOf(31) }] });
    assert.equal(shape.status, 400);
    assert.match(((await shape.json()) as { error: string }).error, /shape \[1,31\]; expected inputs: input FP32 \[-1,32\]; outputs: output FP32 \[-1,8\]/);
    const dtype = await post(`${base}/v2/models/mlp-s/infer`, { inputs: [{ name: 'input', shape: [1, 32], datatype: 'INT32', data: rowOf(32) }] });
    assert.equal(dtype.status, 400);
    assert.match(((await dtype.json()) as { error: string }).error, /datatype "INT32".*expected inputs: input FP32/);
    assert.equal((await post(`${base}/v2/models/mlp-s/infer`, '{not json')).status, 400);

    // Warm the model, then ask for a deadline no worker can meet.
    assert.equal((await post(`${base}/v2/models/mlp-s/infer`, { inputs: [{ name: 'input', shape: [1, 32], datatype: 'FP32', data: rowOf(32) }] })).status, 200);
    const refused = await post(`${base}/v2/models/mlp-s/infer`, { inputs: [{ name: 'input', shape: [1, 32], datatype: 'FP32', data: rowOf(32) }], parameters: { deadline_ms: 0.01 } });
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('x-panoptes-status'), 'rejected');
    const rb = (await refused.json()) as { error: string; parameters: Record<string, unknown> };
    assert.match(rb.error, /^rejected: deadline cannot be met/);
    assert.equal(rb.parameters['panoptes_status'], 'rejected');
  });
});
