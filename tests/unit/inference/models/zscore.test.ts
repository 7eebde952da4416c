import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { buildZscore, robustZScore } from '../../../../pipelines/inference/models/zscore.ts';
import { mulberry32 } from '../../../../pipelines/core/random.ts';

test('zscore-w64 in onnxruntime matches the TypeScript robust z-score', async () => {
  const { bytes, signature } = buildZscore();
  assert.deepEqual(signature.inputs[0]!.shape, [-1, 64]);
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const rand = mulberry32(42);
  const batch = 16;
  const data = new Float32Array(batch * 64);
  for (let r = 0; r < batch; r++)
    for (let i = 0; i < 64; i++) data[r * 64 + i] = 10 + Math.sin(i / 5 + r) * 2 + (rand() - 0.5) + (i === 63 && r % 3 === 0 ? 30 * (r + 1) : 0);
  // A constant window: MAD 0, so only eps keeps the score finite.
  data.fill(5, 15 * 64, 16 * 64 - 1);
  data[16 * 64 - 1] = 5.001;
  const out = await session.run({ window: new ort.Tensor('float32', data, [batch, 64]) });
  const score = out['score']!;
  assert.deepEqual(score.dims, [batch, 1]);
  const got = score.data as Float32Array;
  for (let r = 0; r < batch; r++) {
    const want = robustZScore(data.subarray(r * 64, (r + 1) * 64));
    assert.ok(Math.abs(got[r]! - want) <= 1e-3 * Math.max(1, Math.abs(want)), `row ${r}: onnx ${got[r]} vs ts ${want}`);
  }
  assert.ok(got[0]! > 6, 'a spike scores high');
  assert.ok(got[1]! < 3, 'an ordinary point scores low');
  await session.release();
});
