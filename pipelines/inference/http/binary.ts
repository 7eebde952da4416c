/**
 * KServe v2's binary tensor data extension (as Triton serves it), in both directions, and the
 * JSON encoding it extends. Pure: bytes in, tensors out, and back.
 *
 * Request: the header `Inference-Header-Content-Length: N` says the body's first N bytes are the
 * JSON inference header; an input whose `parameters.binary_data_size` is set has no `data` and its
 * raw little-endian bytes follow the header, in the order of the inputs. Response: an output asked
 * for with `outputs[i].parameters.binary_data: true` (or all outputs, with the request-level
 * `parameters.binary_data_output: true`) is sent the same way, its size in
 * `parameters.binary_data_size`, and the response carries `Inference-Header-Content-Length`.
 * Only FP32 tensors are served, so only FP32 binary data is accepted.
 */
import { validateInferHeader } from './schema.ts';
import type { InferHeader } from './schema.ts';

export const HEADER_LENGTH = 'inference-header-content-length';
export const BINARY_TYPE = 'application/octet-stream';

export interface DecodedTensor {
  name: string;
  shape: number[];
  datatype?: string;
  data: ArrayLike<number>;
}

export interface DecodedRequest {
  id?: string;
  inputs: DecodedTensor[];
  /** Client deadline budget (ms from arrival), from `parameters.deadline_ms`. */
  deadlineMs?: number;
  /** Output names to send as binary data; '*' for all. */
  binaryOutputs: Set<string> | '*';
}

/** A request body the client got wrong: answered 400 with `message`. */
export class BodyError extends Error {}

const FP32_BYTES = 4;

function fromHeader(h: InferHeader): Omit<DecodedRequest, 'inputs'> {
  const binary: Set<string> | '*' = h.parameters?.binary_data_output === true ? '*' : new Set((h.outputs ?? []).filter((o) => o.parameters?.binary_data === true).map((o) => o.name));
  return {
    ...(typeof h.id === 'string' ? { id: h.id } : {}),
    ...(typeof h.parameters?.deadline_ms === 'number' ? { deadlineMs: h.parameters.deadline_ms } : {}),
    binaryOutputs: binary,
  };
}

function parseHeader(text: string): InferHeader {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new BodyError('request body must be a JSON object {"inputs": [...]}');
  }
  const problem = validateInferHeader(v);
  if (problem) throw new BodyError(`request body: ${problem}`);
  return v as InferHeader;
}

/** Tensor data sent nested by dimension (`[[1, 2], [3, 4]]`) flattens row-major to the same order. */
function flatten(d: unknown): unknown {
  return Array.isArray(d) && d.some((x) => Array.isArray(x)) ? d.flat(Infinity) : d;
}

/** A JSON body (Content-Type application/json, no header length). */
export function decodeJsonBody(body: Buffer): DecodedRequest {
  const h = parseHeader(body.toString('utf8'));
  for (const t of h.inputs) if (t.parameters?.binary_data_size !== undefined) throw new BodyError(`input ${t.name} has binary_data_size but the request has no ${HEADER_LENGTH} header`);
  return { ...fromHeader(h), inputs: h.inputs.map((t) => ({ name: t.name, shape: t.shape, ...(t.datatype !== undefined ? { datatype: t.datatype } : {}), data: flatten(t.data) as ArrayLike<number> })) };
}

/**
 * A body with the binary extension: `headerLength` bytes of JSON, then the binary tensors. Binary
 * data is copied into aligned Float32Arrays (the body's offset need not be a multiple of 4).
 */
export function decodeBinaryBody(body: Buffer, headerLength: number): DecodedRequest {
  if (!Number.isInteger(headerLength) || headerLength < 2 || headerLength > body.length)
    throw new BodyError(`${HEADER_LENGTH} must be an integer between 2 and the body length (${body.length}), got ${headerLength}`);
  const h = parseHeader(body.toString('utf8', 0, headerLength));
  let offset = headerLength;
  const inputs: DecodedTensor[] = h.inputs.map((t) => {
    const size = t.parameters?.binary_data_size;
    if (size === undefined) return { name: t.name, shape: t.shape, ...(t.datatype !== undefined ? { datatype: t.datatype } : {}), data: flatten(t.data) as ArrayLike<number> };
    if (t.data !== undefined) throw new BodyError(`input ${t.name} has both data and binary_data_size`);
    if (t.datatype !== 'FP32') throw new BodyError(`input ${t.name}: binary data is accepted for FP32 only, got ${JSON.stringify(t.datatype)}`);
    if (size % FP32_BYTES !== 0) throw new BodyError(`input ${t.name}: binary_data_size ${size} is not a multiple of 4 (FP32)`);
    if (offset + size > body.length) throw new BodyError(`input ${t.name}: binary_data_size ${size} runs past the end of the body (${body.length - offset} bytes left)`);
    const data = new Float32Array(size / FP32_BYTES);
    new Uint8Array(data.buffer).set(body.subarray(offset, offset + size));
    offset += size;
    return { name: t.name, shape: t.shape, datatype: t.datatype, data };
  });
  if (offset !== body.length) throw new BodyError(`the body has ${body.length - offset} bytes after the last binary input`);
  return { ...fromHeader(h), inputs };
}

export interface OutputTensor {
  name: string;
  datatype: string;
  shape: number[];
  data: Float32Array;
}

export interface EncodedResponse {
  body: Buffer | string;
  headers: Record<string, string | number>;
}

/** The response: JSON, or JSON header + binary outputs when any output was asked for as binary. */
export function encodeResponse(head: Record<string, unknown>, outputs: OutputTensor[], binary: Set<string> | '*'): EncodedResponse {
  const isBinary = (name: string) => binary === '*' || binary.has(name);
  if (!outputs.some((o) => isBinary(o.name))) {
    const text = JSON.stringify({ ...head, outputs: outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: o.shape, data: Array.from(o.data) })) });
    return { body: text, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } };
  }
  const parts: Buffer[] = [];
  const json = JSON.stringify({
    ...head,
    outputs: outputs.map((o) => {
      if (!isBinary(o.name)) return { name: o.name, datatype: o.datatype, shape: o.shape, data: Array.from(o.data) };
      parts.push(Buffer.from(o.data.buffer, o.data.byteOffset, o.data.byteLength));
      return { name: o.name, datatype: o.datatype, shape: o.shape, parameters: { binary_data_size: o.data.byteLength } };
    }),
  });
  const header = Buffer.from(json);
  const body = Buffer.concat([header, ...parts]);
  return { body, headers: { 'content-type': BINARY_TYPE, 'content-length': body.length, [HEADER_LENGTH]: header.length } };
}

/** Decodes a response (for clients and tests): JSON or binary outputs, as Float32Arrays. */
export function decodeResponse(body: Buffer, headerLength: number | undefined): { head: Record<string, unknown>; outputs: OutputTensor[] } {
  const jsonEnd = headerLength ?? body.length;
  const head = JSON.parse(body.toString('utf8', 0, jsonEnd)) as Record<string, unknown> & { outputs?: { name: string; datatype: string; shape: number[]; data?: number[]; parameters?: { binary_data_size?: number } }[] };
  let offset = jsonEnd;
  const outputs = (head.outputs ?? []).map((o) => {
    const size = o.parameters?.binary_data_size;
    if (size === undefined) return { name: o.name, datatype: o.datatype, shape: o.shape, data: Float32Array.from(o.data ?? []) };
    const data = new Float32Array(size / FP32_BYTES);
    new Uint8Array(data.buffer).set(body.subarray(offset, offset + size));
    offset += size;
    return { name: o.name, datatype: o.datatype, shape: o.shape, data };
  });
  return { head, outputs };
}

/** Encodes a request with binary inputs (for clients, tests and the benchmark). */
export function encodeBinaryRequest(inputs: { name: string; shape: number[]; data: Float32Array }[], opts: { id?: string; binaryOutputs?: boolean; deadlineMs?: number } = {}): { body: Buffer; headerLength: number } {
  const header = Buffer.from(
    JSON.stringify({
      ...(opts.id !== undefined ? { id: opts.id } : {}),
      inputs: inputs.map((t) => ({ name: t.name, datatype: 'FP32', shape: t.shape, parameters: { binary_data_size: t.data.byteLength } })),
      parameters: { ...(opts.binaryOutputs !== false ? { binary_data_output: true } : {}), ...(opts.deadlineMs !== undefined ? { deadline_ms: opts.deadlineMs } : {}) },
    }),
  );
  return { body: Buffer.concat([header, ...inputs.map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))]), headerLength: header.length };
}
