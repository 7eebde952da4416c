/** Writes the project's ONNX models and their registry file into a folder. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildMlp } from './mlp.ts';
import type { MlpSpec } from './mlp.ts';
import { buildZscore } from './zscore.ts';
import { PLATFORM, REGISTRY_FILE } from './registry.ts';
import type { ModelEntry, RegistryFile } from './registry.ts';
import type { Signature } from './signature.ts';

/** Benchmark MLPs of several sizes. */
export const MLP_SPECS: MlpSpec[] = [
  { name: 'mlp-s', layers: [32, 64, 8], seed: 1 },
  { name: 'mlp-m', layers: [128, 256, 256, 16], seed: 2 },
  { name: 'mlp-l', layers: [512, 1024, 1024, 16], seed: 3 },
];

export interface BuiltModel {
  name: string;
  bytes: Uint8Array;
  signature: Signature;
  description: string;
}

export function buildAllModels(): BuiltModel[] {
  const out: BuiltModel[] = MLP_SPECS.map((s) => ({ ...buildMlp(s), name: s.name, description: `MLP ${s.layers.join('→')} (Gemm+Relu)` }));
  out.push({ ...buildZscore(), name: 'zscore-w64', description: 'robust z-score of the last value over a 64-point window (median/MAD)' });
  return out;
}

export function writeModels(dir: string, models: BuiltModel[] = buildAllModels(), sloMs = 100): RegistryFile {
  mkdirSync(dir, { recursive: true });
  const entries: ModelEntry[] = models.map((m) => {
    const file = `${m.name}.onnx`;
    writeFileSync(join(dir, file), m.bytes);
    return { name: m.name, version: '1', platform: PLATFORM, file, sizeBytes: m.bytes.byteLength, sloMs, signature: m.signature, description: m.description };
  });
  const registry: RegistryFile = { formatVersion: 1, models: entries };
  writeFileSync(join(dir, REGISTRY_FILE), `${JSON.stringify(registry, null, 2)}\n`);
  return registry;
}
