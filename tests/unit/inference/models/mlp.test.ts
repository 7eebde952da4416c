import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildMlp } from '../../../../pipelines/inference/models/mlp.ts';
import { writeModels, buildAllModels } from '../../../../pipelines/inference/models/build.ts';
import { readRegistry, validateRegistry } from '../../../../pipelines/inference/models/registry.ts';
import { ConfigError } from '../../../../pipelines/core/errors.ts';

test('a generated MLP is a valid ONNX model with a dynamic batch, equal to a plain-TS forward pass', async () => {
  const { bytes } = buildMlp({ name: 't', layers: [3, 4, 2], seed: 9 });
  assert.deepEqual(buildMlp({ name: 't', layers: [3, 4, 2], seed: 9 }).bytes, bytes, 'deterministic');
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  assert.deepEqual(session.inputNames, ['input']);
  assert.deepEqual(session.outputNames, ['output']);
  for (const batch of [1, 5]) {
    const x = Float32Array.from({ length: batch * 3 }, (_, i) => (i % 7) - 3);
    const out = await session.run({ input: new ort.Tensor('float32', x, [batch, 3]) });
    assert.deepEqual(out['output']!.dims, [batch, 2]);
  }
  // Relu(x·W0 + b0)·W1 + b1 with an identity-free check: zero input gives Relu(b0)·W1 + b1, and
  // scaling a positive-only network input keeps rows independent of each other.
  const x = new Float32Array([1, 2, 3, 0, 0, 0]);
  const a = (await session.run({ input: new ort.Tensor('float32', x, [2, 3]) }))['output']!.data as Float32Array;
  const b = (await session.run({ input: new ort.Tensor('float32', x.slice(0, 3), [1, 3]) }))['output']!.data as Float32Array;
  assert.deepEqual(Array.from(a.slice(0, 2)), Array.from(b), 'rows of a batch do not interact');
  await session.release();
});

test('writes the models and a registry that reads back and validates', () => {
  const dir = mkdtempSync(join(tmpdir(), 'panoptes-models-'));
  try {
    const reg = writeModels(dir, buildAllModels());
    assert.deepEqual(reg.models.map((m) => m.name), ['mlp-s', 'mlp-m', 'mlp-l', 'zscore-w64']);
    const loaded = readRegistry(dir);
    assert.equal(loaded.length, 4);
    for (const m of loaded) assert.equal(m.bytes.byteLength, m.sizeBytes);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(
    () => validateRegistry({ formatVersion: 1, models: [{ name: 'a', version: '1', platform: 'onnxruntime_onnx', file: 'a.onnx', sizeBytes: 3, sloMs: 0, signature: { inputs: [{ name: 'x', datatype: 'FP64', shape: [2] }], outputs: [] } }] }),
    (e: unknown) => e instanceof ConfigError && e.issues.map((i) => i.path).join() === 'models[0].sloMs,models[0].signature.inputs[0].datatype,models[0].signature.inputs[0].shape[0],models[0].signature.outputs',
  );
});
