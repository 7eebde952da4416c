/** Writes the project's ONNX models and their registry file into a folder. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PanoptesError, UsageError } from '../../core/errors.ts';
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

/** A file-system error on the user's --out folder, as one line: exit 2 when the path is the problem, 1 otherwise. */
function outError(dir: string, err: unknown): Error {
  const e = err as NodeJS.ErrnoException;
  const why: Record<string, string> = {
    ENOTDIR: 'a part of the path is a file, not a folder',
    EEXIST: 'it exists and is not a folder',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'read-only file system',
    EISDIR: 'a model file name is taken by a folder',
  };
  const reason = why[e?.code ?? ''];
  if (reason) return new UsageError(`--out ${dir}: cannot write models there: ${reason} (${e.code})`);
  return new PanoptesError('PANOPTES_INTERNAL', `cannot write models to ${dir}: ${e?.code ?? ''} ${e?.message ?? String(err)}`.trim());
}

export function writeModels(dir: string, models: BuiltModel[] = buildAllModels(), sloMs = 100): RegistryFile {
  try {
    return writeModelFiles(dir, models, sloMs);
  } catch (err) {
    throw outError(dir, err);
  }
}

function writeModelFiles(dir: string, models: BuiltModel[], sloMs: number): RegistryFile {
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
