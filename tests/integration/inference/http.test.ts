import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createInferenceServer } from '../../../pipelines/inference/http/server.ts';
import { decodeResponse, encodeBinaryRequest } from '../../../pipelines/inference/http/binary.ts';
import { ParsePool } from '../../../pipelines/inference/http/parse-pool.ts';
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

async function withServerOpts(opts: Parameters<typeof createInferenceServer>[2], poolOpts: Parameters<typeof startPool>[0], fn: (base: string) => Promise<void>): Promise<void> {
  const { pool, registry } = await startPool(poolOpts);
  const server = createInferenceServer(pool, registry, opts);
  const addr = await server.listen('127.0.0.1', 0);
  try {
    await fn(`http://127.0.0.1:${addr.port}`);
  } finally {
    await server.close();
    await pool.close();
  }
}

test('binary tensor data in both directions gives the JSON answer; repository index; malformed names are 400', async () => {
  await withServer(async (base) => {
    const rows = [...rowOf(32, 1), ...rowOf(32, 2)];
    const json = await post(`${base}/v2/models/mlp-s/infer`, { inputs: [{ name: 'input', shape: [2, 32], datatype: 'FP32', data: rows }] });
    assert.equal(json.status, 200);
    const expected = ((await json.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data;

    const { body, headerLength } = encodeBinaryRequest([{ name: 'input', shape: [2, 32], data: Float32Array.from(rows) }], { id: 'b1' });
    const bin = await fetch(`${base}/v2/models/mlp-s/infer`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) }, body });
    assert.equal(bin.status, 200);
    const hl = Number(bin.headers.get('inference-header-content-length'));
    assert.ok(hl > 0, 'binary outputs come with the header length');
    const decoded = decodeResponse(Buffer.from(await bin.arrayBuffer()), hl);
    assert.equal(decoded.head['id'], 'b1');
    assert.deepEqual(decoded.outputs[0]!.shape, [2, 8]);
    assert.deepEqual(Array.from(decoded.outputs[0]!.data), Array.from(Float32Array.from(expected)));

    // Binary inputs, JSON outputs (no binary_data_output).
    const mixed = encodeBinaryRequest([{ name: 'input', shape: [2, 32], data: Float32Array.from(rows) }], { binaryOutputs: false });
    const m = await fetch(`${base}/v2/models/mlp-s/infer`, { method: 'POST', headers: { 'inference-header-content-length': String(mixed.headerLength) }, body: mixed.body });
    assert.equal(m.status, 200);
    assert.equal(m.headers.get('inference-header-content-length'), null);
    assert.deepEqual(((await m.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data, expected);

    // Sizes that do not add up are the client's mistake.
    const short = await fetch(`${base}/v2/models/mlp-s/infer`, { method: 'POST', headers: { 'inference-header-content-length': String(headerLength) }, body: body.subarray(0, body.length - 4) });
    assert.equal(short.status, 400);
    assert.match(((await short.json()) as { error: string }).error, /binary_data_size 256 runs past the end of the body/);
    const badHl = await fetch(`${base}/v2/models/mlp-s/infer`, { method: 'POST', headers: { 'inference-header-content-length': 'x' }, body });
    assert.equal(badHl.status, 400);

    const index = await fetch(`${base}/v2/repository/index`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ready":true}' });
    assert.equal(index.status, 200);
    const entries = (await index.json()) as { name: string; version: string; state: string; panoptes_resident: boolean }[];
    assert.deepEqual(entries.map((e) => e.name).sort(), ['mlp-l', 'mlp-m', 'mlp-s', 'zscore-w64']);
    assert.ok(entries.every((e) => e.state === 'READY' && e.version === '1'));
    assert.equal(entries.find((e) => e.name === 'mlp-s')!.panoptes_resident, true);
    assert.equal(entries.find((e) => e.name === 'mlp-l')!.panoptes_resident, false);
    assert.equal((await fetch(`${base}/v2/repository/index`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ready":"yes"}' })).status, 400);

    for (const path of ['/v2/models/%E0%A4%A/infer', '/v2/models/mlp-s/versions/%ZZ/infer']) {
      const r = await post(`${base}${path}`, { inputs: [] });
      assert.equal(r.status, 400, path);
      assert.match(((await r.json()) as { error: string }).error, /malformed percent-encoding/);
    }
    assert.ok([400, 404].includes((await fetch(`${base}/v2/models/%E0%A4%A`)).status));
  });
});

test('a cold model whose load cannot meet the deadline is refused with 429 saying so, and loaded meanwhile', async () => {
  await withServer(async (base) => {
    const body = { inputs: [{ name: 'input', shape: [1, 512], datatype: 'FP32', data: rowOf(512) }], parameters: { deadline_ms: 2 } };
    const first = await post(`${base}/v2/models/mlp-l/infer`, body);
    assert.equal(first.status, 429);
    assert.equal(first.headers.get('retry-after'), '1');
    const fb = (await first.json()) as { error: string; parameters: Record<string, unknown> };
    assert.match(fb.error, /model mlp-l is cold \(not loaded on any worker\); it is being loaded now, retry shortly/);
    assert.equal(fb.parameters['panoptes_cold'], true);
    // Nothing else arrives, yet the model gets loaded: a retry with a deadline it can meet succeeds.
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const r = await post(`${base}/v2/models/mlp-l/infer`, { ...body, parameters: { deadline_ms: 1000 } });
      status = r.status;
      await r.arrayBuffer();
    }
    assert.equal(status, 200);
  });
});

test('bearer token: 401 without it on infer and metadata; /metrics and health stay open; body limit 413', async () => {
  await withServerOpts({ bearerToken: 's3cret', bodyLimit: 4096 }, {}, async (base) => {
    const req = { inputs: [{ name: 'input', shape: [1, 32], datatype: 'FP32', data: rowOf(32) }] };
    const none = await post(`${base}/v2/models/mlp-s/infer`, req);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    const wrong = await fetch(`${base}/v2/models/mlp-s/infer`, { method: 'POST', headers: { authorization: 'Bearer nope' }, body: JSON.stringify(req) });
    assert.equal(wrong.status, 401);
    assert.equal((await fetch(`${base}/v2/models/mlp-s`)).status, 401);
    assert.equal((await fetch(`${base}/v2/repository/index`, { method: 'POST' })).status, 401);
    const ok = await fetch(`${base}/v2/models/mlp-s/infer`, { method: 'POST', headers: { authorization: 'Bearer s3cret' }, body: JSON.stringify(req) });
    assert.equal(ok.status, 200);
    assert.equal((await fetch(`${base}/v2/models/mlp-s`, { headers: { authorization: 'Bearer s3cret' } })).status, 200);
    assert.equal((await fetch(`${base}/metrics`)).status, 200);
    assert.equal((await fetch(`${base}/v2/health/ready`)).status, 200);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const big = await fetch(`${base}/v2/models/mlp-s/infer`, { method: 'POST', headers: { authorization: 'Bearer s3cret' }, body: JSON.stringify({ inputs: [{ name: 'input', shape: [1, 32], datatype: 'FP32', data: new Array(3000).fill(1) }] }) });
    assert.equal(big.status, 413);
  });
});

test('large JSON bodies parse on a parse worker and give the same answers and errors', async () => {
  const parsePool = await ParsePool.start(1, 512);
  try {
    await withServerOpts({ parsePool }, {}, async (base) => {
      const rows = [...rowOf(32, 1), ...rowOf(32, 2), ...rowOf(32, 3)];
      const small = await post(`${base}/v2/models/mlp-s/infer`, { inputs: [{ name: 'input', shape: [1, 32], datatype: 'FP32', data: rowOf(32, 1) }] });
      const big = await post(`${base}/v2/models/mlp-s/infer`, { id: 'big', inputs: [{ name: 'input', shape: [3, 32], datatype: 'FP32', data: rows.map((v) => [v]) }] });
      assert.equal(small.status, 200);
      assert.equal(big.status, 200);
      const s = ((await small.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data;
      const b = (await big.json()) as { id: string; outputs: { shape: number[]; data: number[] }[] };
      assert.equal(b.id, 'big');
      assert.deepEqual(b.outputs[0]!.shape, [3, 8]);
      assert.deepEqual(b.outputs[0]!.data.slice(0, 8), s, 'row 1 of the offloaded request equals the inline one');
      const bad = await post(`${base}/v2/models/mlp-s/infer`, `{"inputs":[{"name":"input","shape":[1,32],"data":[${'1,'.repeat(400)}"x"]}]}`);
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as { error: string }).error, /non-number at index 400|401 values/);
      const garbage = await post(`${base}/v2/models/mlp-s/infer`, `{"inputs": ${' '.repeat(600)}`);
      assert.equal(garbage.status, 400);
    });
  } finally {
    await parsePool.close();
  }
});

test('hostile KServe v2 bodies (generated) get a 4xx or an answer, never a 5xx, and the server stays up', async () => {
  const fc = await import('fast-check');
  await withServer(async (base) => {
    const tensor = fc.record({
      name: fc.oneof(fc.constant('input'), fc.string({ maxLength: 8 })),
      shape: fc.oneof(fc.constant([1, 32]), fc.array(fc.oneof(fc.integer({ min: -2, max: 40 }), fc.double(), fc.constant(1e309)), { maxLength: 4 }), fc.string()),
      datatype: fc.oneof(fc.constant('FP32'), fc.constant('INT64'), fc.string({ maxLength: 5 }), fc.constant(undefined)),
      data: fc.oneof(fc.array(fc.double(), { maxLength: 40 }), fc.array(fc.oneof(fc.string(), fc.constant(null), fc.array(fc.double(), { maxLength: 40 })), { maxLength: 4 }), fc.constant(undefined), fc.object()),
      parameters: fc.oneof(fc.constant(undefined), fc.record({ binary_data_size: fc.oneof(fc.integer({ min: -4, max: 200 }), fc.string()) })),
    });
    const body = fc.oneof(
      fc.record({ inputs: fc.oneof(fc.array(tensor, { maxLength: 3 }), fc.anything()), parameters: fc.oneof(fc.constant(undefined), fc.record({ deadline_ms: fc.oneof(fc.double(), fc.string(), fc.constant(-1)) })) }).map((b) => JSON.stringify(b)),
      fc.string({ maxLength: 60 }),
      fc.anything().map((v) => JSON.stringify(v) ?? 'null'),
    );
    const headerLength = fc.oneof(fc.constant(undefined), fc.integer({ min: -5, max: 300 }).map(String), fc.string({ maxLength: 6 }));
    await fc.assert(
      fc.asyncProperty(body, headerLength, fc.boolean(), async (b, hl, binaryTail) => {
        const payload = binaryTail ? Buffer.concat([Buffer.from(b), Buffer.alloc(128, 7)]) : Buffer.from(b);
        const headers: Record<string, string> = { 'content-type': hl === undefined ? 'application/json' : 'application/octet-stream' };
        if (hl !== undefined) headers['inference-header-content-length'] = hl;
        const r = await fetch(`${base}/v2/models/mlp-s/infer`, { method: 'POST', headers, body: payload });
        const text = await r.text();
        assert.ok(r.status === 200 || (r.status >= 400 && r.status < 500), `status ${r.status} for ${b.slice(0, 120)} (header length ${hl}): ${text.slice(0, 200)}`);
        if (r.status >= 400) assert.ok(!text.includes('\n    at '), 'no stack trace in an error');
      }),
      { numRuns: 150, seed: 16 },
    );
    const t0 = Date.now();
    assert.equal((await fetch(`${base}/v2/health/ready`)).status, 200);
    assert.ok(Date.now() - t0 < 1000, 'health answers within 1 s after the fuzzing');
  });
});
