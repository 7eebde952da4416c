/** A model's tensor signature in KServe v2 terms: -1 marks a dynamic dimension (the batch). */
export interface TensorSpec {
  name: string;
  datatype: 'FP32';
  shape: number[];
}

export interface Signature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

export function describeSignature(sig: Signature): string {
  const fmt = (t: TensorSpec) => `${t.name} ${t.datatype} [${t.shape.join(',')}]`;
  return `inputs: ${sig.inputs.map(fmt).join('; ')}; outputs: ${sig.outputs.map(fmt).join('; ')}`;
}
