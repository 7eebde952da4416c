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

/**
 * The result record of a request. A result that came after its deadline is a rejection, never a
 * late answer: Kafka readers get either an answer in time or a refusal (`late` is never produced).
 */
export function resultToRecord(requestId: string, r: InferResult): InferenceResultRecord {
  const l = r.latency;
  const deadlineMs = r.deadlineAt !== undefined ? Math.round(r.deadlineAt) : null;
  const base = { requestId, model: r.model, queueMs: l.queueMs, batchWaitMs: l.batchWaitMs, execMs: l.execMs, totalMs: l.totalMs, batchSize: l.batchSize, deadlineMs };
  if (r.status === 'late')
    return { ...base, status: 'rejected', outputs: [], error: 'deadline exceeded: the result was ready after the deadline, and a late answer is never sent' };
  return {
    ...base,
    status: r.status,
    outputs: r.status === 'ok' ? r.outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: o.shape, data: Array.from(o.data) })) : [],
    error: r.status === 'rejected' ? r.reason : r.status === 'error' ? `${r.error.code}: ${r.error.message}` : null,
  };
}

/** A result record whose deadline passed before it could be produced becomes a rejection. */
export function expireResult(result: InferenceResultRecord, now: number): InferenceResultRecord {
  if (result.status !== 'ok' || result.deadlineMs === null || result.deadlineMs === undefined || now <= result.deadlineMs) return result;
  return { ...result, status: 'rejected', outputs: [], error: `deadline exceeded: the result was ready ${(now - result.deadlineMs).toFixed(0)} ms after the deadline, and a late answer is never sent` };
}
