/**
 * A small ONNX model writer: a graph builder whose `toBytes()` encodes an ONNX ModelProto with
 * protobufjs against the subset of onnx.proto kept next to this file. Only FP32 and INT64 tensors
 * are needed by the models this project generates.
 */
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const PROTO_PATH = fileURLToPath(new URL('./onnx.proto', import.meta.url));

let modelType: protobuf.Type | undefined;
function modelProto(): protobuf.Type {
  modelType ??= protobuf.loadSync(PROTO_PATH).lookupType('onnx.ModelProto');
  return modelType;
}

export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;

/** A dimension is a fixed size or a symbolic name (dynamic, e.g. the batch). */
export type Dim = number | string;

export type AttributeValue = number | number[] | string | { ints: number[] } | { floats: number[] };

interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttributeValue>;
}

interface Initializer {
  name: string;
  dims: number[];
  type: typeof ONNX_FLOAT | typeof ONNX_INT64;
  data: Float32Array | BigInt64Array;
}

interface Value {
  name: string;
  elemType: number;
  shape: Dim[];
}

function valueInfo(v: Value) {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: v.elemType,
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, v: AttributeValue) {
  if (typeof v === 'number') {
    return Number.isInteger(v) ? { name, type: 2, i: v } : { name, type: 1, f: v };
  }
  if (typeof v === 'string') return { name, type: 3, s: Buffer.from(v, 'utf8') };
  if (Array.isArray(v)) return { name, type: 7, ints: v };
  if ('ints' in v) return { name, type: 7, ints: v.ints };
  return { name, type: 6, floats: v.floats };
}

export class GraphBuilder {
  private readonly nodes: Node[] = [];
  private readonly inits: Initializer[] = [];
  private readonly inputs: Value[] = [];
  private readonly outputs: Value[] = [];
  private counter = 0;

  constructor(private readonly name: string, private readonly opset = 13) {}

  input(name: string, shape: Dim[]): string {
    this.inputs.push({ name, elemType: ONNX_FLOAT, shape });
    return name;
  }

  output(name: string, shape: Dim[]): void {
    this.outputs.push({ name, elemType: ONNX_FLOAT, shape });
  }

  floatConst(name: string, dims: number[], data: Float32Array | number[]): string {
    const arr = data instanceof Float32Array ? data : Float32Array.from(data);
    if (arr.length !== dims.reduce((a, b) => a * b, 1)) throw new RangeError(`initializer ${name}: ${arr.length} values for dims [${dims.join(',')}]`);
    this.inits.push({ name, dims, type: ONNX_FLOAT, data: arr });
    return name;
  }

  int64Const(name: string, dims: number[], data: number[]): string {
    this.inits.push({ name, dims, type: ONNX_INT64, data: BigInt64Array.from(data.map((x) => BigInt(x))) });
    return name;
  }

  /** Adds a node; the output name is `out` or a fresh one. Returns the (first) output name. */
  node(op: string, inputs: string[], attrs: Record<string, AttributeValue> = {}, out?: string | string[]): string {
    const outputs = out === undefined ? [`${op.toLowerCase()}_${this.counter++}`] : Array.isArray(out) ? out : [out];
    this.nodes.push({ op, inputs, outputs, attrs });
    return outputs[0]!;
  }

  toBytes(meta: Record<string, string> = {}): Uint8Array {
    const type = modelProto();
    const msg = {
      irVersion: 8,
      producerName: 'panoptes',
      producerVersion: '0.1.0',
      modelVersion: 1,
      opsetImport: [{ domain: '', version: this.opset }],
      metadataProps: Object.entries(meta).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.name,
        node: this.nodes.map((n, i) => ({
          name: `${n.op.toLowerCase()}_n${i}`,
          opType: n.op,
          input: n.inputs,
          output: n.outputs,
          attribute: Object.entries(n.attrs).map(([k, v]) => attribute(k, v)),
        })),
        initializer: this.inits.map((t) => ({
          name: t.name,
          dims: t.dims,
          dataType: t.type,
          rawData: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
        })),
        input: this.inputs.map(valueInfo),
        output: this.outputs.map(valueInfo),
      },
    };
    const err = type.verify(msg);
    if (err) throw new TypeError(`ONNX model ${this.name}: ${err}`);
    return type.encode(type.fromObject(msg)).finish();
  }
}
