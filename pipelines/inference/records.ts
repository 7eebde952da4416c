/**
 * The records of the `inference.requests` / `inference.results` topics (schemas/inference-*.avsc),
 * and their mapping to the pool's request and result. A Kafka consumer decodes a request record,
 * calls `pool.handle(record)` and produces the returned result record; nothing here does I/O.
 */
import type { InferRequest, InferResult } from './types.ts';

// The record shapes are the project's (pipelines/core/records.ts); the names here are the pool's.
export type { Tensor as TensorRecord, InferenceRequest as InferenceRequestRecord, InferenceResult as InferenceResultRecord } from '../core/records.ts';
import type { InferenceRequest as InferenceRequestRecord, InferenceResult as InferenceResultRecord } from '../core/records.ts';

export function requestFromRecord(r: InferenceRequestRecord): InferRequest {
  return {
    model: r.model,
    ...(r.modelVersion !== null && r.modelVersion !== undefined ? { version: r.modelVersion } : {}),
    inputs: r.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape.map(Number), data: t.data })),
    ...(r.deadlineMs !== null && r.deadlineMs !== undefined ? { deadlineAt: Number(r.deadlineMs) } : {}),
  };
}

export function resultToRecord(requestId: string, r: InferResult): InferenceResultRecord {
  const l = r.latency;
  return {
    requestId,
    model: r.model,
    status: r.status,
    outputs: r.status === 'ok' || r.status === 'late' ? r.outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: o.shape, data: Array.from(o.data) })) : [],
    error: r.status === 'rejected' ? r.reason : r.status === 'error' ? `${r.error.code}: ${r.error.message}` : null,
    queueMs: l.queueMs,
    batchWaitMs: l.batchWaitMs,
    execMs: l.execMs,
    totalMs: l.totalMs,
    batchSize: l.batchSize,
  };
}
