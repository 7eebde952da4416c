/**
 * JSON schemas of the KServe v2 request bodies the server accepts, checked with ajv (compiled
 * once). Tensor `data` is only checked to be an array here: its values are checked (and converted
 * to Float32Array) against the model's signature by tensors.ts, in one pass.
 */
import { Ajv } from 'ajv';
import type { ErrorObject } from 'ajv';

export interface InferHeader {
  id?: string;
  inputs: { name: string; shape: number[]; datatype?: string; data?: unknown[]; parameters?: { binary_data_size?: number } }[];
  outputs?: { name: string; parameters?: { binary_data?: boolean } }[];
  parameters?: { deadline_ms?: number; binary_data_output?: boolean };
}

/** Limits that keep one request's metadata small; tensor sizes are bounded by bodyLimit. */
export const MAX_TENSORS = 64;
export const MAX_RANK = 8;
export const MAX_NAME = 256;

const params = { type: 'object' } as const;

export const inferHeaderSchema = {
  type: 'object',
  required: ['inputs'],
  properties: {
    id: { type: 'string', maxLength: MAX_NAME },
    inputs: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_TENSORS,
      items: {
        type: 'object',
        required: ['name', 'shape'],
        properties: {
          name: { type: 'string', maxLength: MAX_NAME },
          shape: { type: 'array', maxItems: MAX_RANK, items: { type: 'integer', minimum: 1, maximum: 2 ** 31 } },
          datatype: { type: 'string', maxLength: 16 },
          data: { type: 'array' },
          parameters: { ...params, properties: { binary_data_size: { type: 'integer', minimum: 0 } } },
        },
      },
    },
    outputs: {
      type: 'array',
      maxItems: MAX_TENSORS,
      items: { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: MAX_NAME }, parameters: { ...params, properties: { binary_data: { type: 'boolean' } } } } },
    },
    parameters: { ...params, properties: { deadline_ms: { type: 'number', exclusiveMinimum: 0, maximum: 86_400_000 }, binary_data_output: { type: 'boolean' } } },
  },
} as const;

/** `POST /v2/repository/index` (Triton's model-repository extension): `{"ready"?: boolean}`. */
export const repositoryIndexSchema = {
  type: 'object',
  properties: { ready: { type: 'boolean' } },
} as const;

const ajv = new Ajv({ allErrors: false, strict: true });
const checkHeader = ajv.compile(inferHeaderSchema);

/** The first problem with a parsed request header, as one line (`/inputs/0/shape must be array`), or null. */
export function validateInferHeader(v: unknown): string | null {
  if (checkHeader(v)) return null;
  return describeAjvError(checkHeader.errors?.[0]);
}

export function describeAjvError(e: ErrorObject | undefined): string {
  if (!e) return 'invalid body';
  return `${e.instancePath === '' ? 'the body' : e.instancePath} ${e.message ?? 'is invalid'}`;
}
