/**
 * Multi-layer perceptrons as ONNX (Gemm + Relu, last layer linear) with a dynamic batch dimension.
 * They stand in for the many small models Clockwork serves; weights are seeded so a given spec
 * always produces the same bytes.
 */
import { GraphBuilder } from '../onnx/writer.ts';
import { mulberry32 } from '../../core/random.ts';
import type { Signature } from './signature.ts';

export interface MlpSpec {
  name: string;
  /** Layer widths, input first: [64, 128, 10] is 64 → 128 → 10. */
  layers: number[];
  seed: number;
}

export function buildMlp(spec: MlpSpec): { bytes: Uint8Array; signature: Signature } {
  if (spec.layers.length < 2) throw new RangeError(`mlp ${spec.name}: need at least two layer widths`);
  const rand = mulberry32(spec.seed);
  const g = new GraphBuilder(spec.name);
  let x = g.input('input', ['batch', spec.layers[0]!]);
  for (let i = 0; i + 1 < spec.layers.length; i++) {
    const fanIn = spec.layers[i]!;
    const fanOut = spec.layers[i + 1]!;
    const scale = Math.sqrt(2 / fanIn);
    const w = new Float32Array(fanIn * fanOut);
    for (let j = 0; j < w.length; j++) w[j] = (rand() * 2 - 1) * scale;
    const b = new Float32Array(fanOut);
    for (let j = 0; j < b.length; j++) b[j] = (rand() * 2 - 1) * 0.1;
    const last = i + 2 === spec.layers.length;
    const gemm = g.node('Gemm', [x, g.floatConst(`w${i}`, [fanIn, fanOut], w), g.floatConst(`b${i}`, [fanOut], b)], {}, last ? 'output' : undefined);
    x = last ? gemm : g.node('Relu', [gemm]);
  }
  const outDim = spec.layers[spec.layers.length - 1]!;
  g.output('output', ['batch', outDim]);
  return {
    bytes: g.toBytes({ family: 'mlp', layers: spec.layers.join('x') }),
    signature: {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, spec.layers[0]!] }],
      outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, outDim] }],
    },
  };
}
