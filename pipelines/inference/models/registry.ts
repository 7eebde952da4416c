/**
 * The model registry file (`models.json`) written next to the ONNX files: for each model its name,
 * version, file, size, default SLO and tensor signature. `serve` reads it; nothing else is needed
 * to serve a folder of models.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, InputError } from '../../core/errors.ts';
import type { ConfigIssue } from '../../core/errors.ts';
import type { Signature, TensorSpec } from './signature.ts';

export const REGISTRY_FILE = 'models.json';
export const PLATFORM = 'onnxruntime_onnx';

export interface ModelEntry {
  name: string;
  version: string;
  platform: typeof PLATFORM;
  /** File name relative to the registry's folder. */
  file: string;
  sizeBytes: number;
  /** Default SLO for requests that carry no deadline. */
  sloMs: number;
  signature: Signature;
  description?: string;
}

export interface RegistryFile {
  formatVersion: 1;
  models: ModelEntry[];
}

function checkTensors(v: unknown, path: string, issues: ConfigIssue[]): void {
  if (!Array.isArray(v) || v.length === 0) {
    issues.push({ path, message: 'expected a non-empty array of {name, datatype, shape}' });
    return;
  }
  v.forEach((t: Partial<TensorSpec>, i) => {
    if (typeof t?.name !== 'string' || t.name === '') issues.push({ path: `${path}[${i}].name`, message: 'expected a non-empty string' });
    if (t?.datatype !== 'FP32') issues.push({ path: `${path}[${i}].datatype`, message: `expected "FP32", got ${JSON.stringify(t?.datatype)}` });
    if (!Array.isArray(t?.shape) || t.shape.length === 0 || !t.shape.every((d) => Number.isInteger(d) && (d === -1 || d > 0)))
      issues.push({ path: `${path}[${i}].shape`, message: 'expected an array of positive integers or -1' });
    else if (t.shape[0] !== -1) issues.push({ path: `${path}[${i}].shape[0]`, message: 'expected -1 (the dynamic batch dimension)' });
  });
}

export function validateRegistry(raw: unknown): RegistryFile {
  const issues: ConfigIssue[] = [];
  const r = raw as Partial<RegistryFile>;
  if (typeof raw !== 'object' || raw === null) throw new ConfigError([{ path: '', message: 'expected an object' }]);
  if (r.formatVersion !== 1) issues.push({ path: 'formatVersion', message: `expected 1, got ${JSON.stringify(r.formatVersion)}` });
  if (!Array.isArray(r.models)) issues.push({ path: 'models', message: 'expected an array' });
  const names = new Set<string>();
  (r.models ?? []).forEach((m: Partial<ModelEntry>, i) => {
    const p = `models[${i}]`;
    if (typeof m.name !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(m.name)) issues.push({ path: `${p}.name`, message: 'expected a name of letters, digits, _ . -' });
    else if (names.has(m.name)) issues.push({ path: `${p}.name`, message: `duplicate model name ${m.name}` });
    else names.add(m.name);
    if (typeof m.version !== 'string' || m.version === '') issues.push({ path: `${p}.version`, message: 'expected a non-empty string' });
    if (m.platform !== PLATFORM) issues.push({ path: `${p}.platform`, message: `expected "${PLATFORM}"` });
    if (typeof m.file !== 'string' || m.file === '') issues.push({ path: `${p}.file`, message: 'expected a file name' });
    if (!Number.isInteger(m.sizeBytes) || (m.sizeBytes ?? 0) <= 0) issues.push({ path: `${p}.sizeBytes`, message: 'expected a positive integer' });
    if (typeof m.sloMs !== 'number' || !(m.sloMs > 0)) issues.push({ path: `${p}.sloMs`, message: 'expected a positive number of milliseconds' });
    if (typeof m.signature !== 'object' || m.signature === null) issues.push({ path: `${p}.signature`, message: 'expected {inputs, outputs}' });
    else {
      checkTensors(m.signature.inputs, `${p}.signature.inputs`, issues);
      checkTensors(m.signature.outputs, `${p}.signature.outputs`, issues);
    }
  });
  if (issues.length > 0) throw new ConfigError(issues);
  return r as RegistryFile;
}

/** A registry entry with its ONNX bytes, ready to hand to a pool. */
export interface LoadedModel extends ModelEntry {
  bytes: Uint8Array;
}

export function readRegistry(dir: string): LoadedModel[] {
  let text: string;
  try {
    text = readFileSync(join(dir, REGISTRY_FILE), 'utf8');
  } catch (err) {
    throw new InputError(`cannot read ${join(dir, REGISTRY_FILE)} (build models with \`panoptes models build --out ${dir}\`)`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${join(dir, REGISTRY_FILE)} is not valid JSON`, { cause: err });
  }
  return validateRegistry(raw).models.map((m) => {
    const bytes = new Uint8Array(readFileSync(join(dir, m.file)));
    if (bytes.byteLength !== m.sizeBytes) throw new InputError(`${m.file}: ${bytes.byteLength} bytes on disk, registry says ${m.sizeBytes}`);
    return { ...m, bytes };
  });
}
