/**
 * Request tensors (KServe v2 JSON shape: name, shape, datatype, data) checked against a model's
 * signature. Every rejection names the signature the model expects.
 */
import { InputError } from '../core/errors.ts';
import { describeSignature } from './models/signature.ts';
import type { Signature } from './models/signature.ts';

export interface TensorInput {
  name: string;
  shape: number[];
  datatype?: string;
  data: ArrayLike<number>;
}

export interface TensorOutput {
  name: string;
  datatype: 'FP32';
  shape: number[];
  data: Float32Array;
}

export interface CheckedInputs {
  /** The batch dimension shared by every input. */
  rows: number;
  tensors: Map<string, Float32Array>;
}

export function checkInputs(model: string, sig: Signature, inputs: unknown): CheckedInputs {
  const fail = (what: string): never => {
    throw new InputError(`model ${model}: ${what}; expected ${describeSignature(sig)}`, { details: { model, signature: sig } });
  };
  if (!Array.isArray(inputs) || inputs.length === 0) fail('inputs must be a non-empty array of {name, shape, datatype, data}');
  const seen = new Map<string, Float32Array>();
  let rows: number | undefined;
  for (const raw of inputs as unknown[]) {
    const t = raw as Partial<TensorInput>;
    if (typeof t !== 'object' || t === null || typeof t.name !== 'string') fail('every input needs a name');
    const spec = sig.inputs.find((s) => s.name === t.name);
    if (!spec) fail(`unknown input ${JSON.stringify(t.name)}`);
    if (seen.has(t.name!)) fail(`input ${t.name} given twice`);
    if (t.datatype !== undefined && t.datatype !== spec!.datatype) fail(`input ${t.name} has datatype ${JSON.stringify(t.datatype)}`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isInteger(d) && d > 0)) fail(`input ${t.name} needs a shape of positive integers`);
    const shape = t.shape!;
    if (shape.length !== spec!.shape.length || spec!.shape.some((d, i) => d !== -1 && d !== shape[i]))
      fail(`input ${t.name} has shape [${shape.join(',')}]`);
    if (rows !== undefined && shape[0] !== rows) fail(`inputs disagree on the batch dimension (${rows} vs ${shape[0]})`);
    rows = shape[0]!;
    const n = shape.reduce((a, b) => a * b, 1);
    const data = t.data;
    if (data === undefined || data === null || typeof (data as ArrayLike<number>).length !== 'number') fail(`input ${t.name} needs data`);
    if (data!.length !== n) fail(`input ${t.name} has ${data!.length} values for shape [${shape.join(',')}] (${n} expected)`);
    let arr: Float32Array;
    if (data instanceof Float32Array) arr = data;
    else {
      arr = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const v = data![i];
        if (typeof v !== 'number') fail(`input ${t.name} has a non-number at index ${i}`);
        arr[i] = v!;
      }
    }
    seen.set(t.name!, arr);
  }
  for (const s of sig.inputs) if (!seen.has(s.name)) fail(`missing input ${s.name}`);
  return { rows: rows!, tensors: seen };
}
