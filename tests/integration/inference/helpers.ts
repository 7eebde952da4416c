import { Registry } from 'prom-client';
import { buildAllModels } from '../../../pipelines/inference/models/build.ts';
import { InferencePool } from '../../../pipelines/inference/pool.ts';
import type { PoolModel } from '../../../pipelines/inference/pool.ts';
import type { PoolOptions } from '../../../pipelines/inference/options.ts';

export function testModels(sloMs = 2000): PoolModel[] {
  return buildAllModels().map((m) => ({ name: m.name, version: '1', sizeBytes: m.bytes.byteLength, sloMs, signature: m.signature, bytes: m.bytes }));
}

export async function startPool(opts: Partial<PoolOptions> = {}, models = testModels()): Promise<{ pool: InferencePool; registry: Registry }> {
  const registry = new Registry();
  const pool = await InferencePool.start(models, registry, { workers: 1, ...opts });
  return { pool, registry };
}

export function rowOf(n: number, seed = 1): number[] {
  return Array.from({ length: n }, (_, i) => Math.sin(i * 0.7 + seed));
}
