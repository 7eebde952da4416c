/**
 * Why a request is refused, as a closed set: each reason is a label value of the rejects metric
 * and the first word of the one-line body the client gets, so an operator can grep either.
 * Client mistakes are InputErrors carrying `reason` and `status` in their details; the server
 * turns them into 4xx replies and never into a 500.
 */
import { InputError } from '../../../pipelines/core/errors.ts';

export const rejectReasons = [
  'bad_method',
  'not_found',
  'unauthorized',
  'unsupported_content_type',
  'unsupported_encoding',
  'unsupported_version',
  'body_too_large',
  'bad_snappy',
  'bad_protobuf',
  'missing_metric_name',
  'invalid_metric_name',
  'empty_label_name',
  'invalid_label_name',
  'unsorted_labels',
  'duplicate_label',
  'invalid_utf8',
  'timestamp_out_of_range',
  'too_many_series',
  'too_many_samples',
  'too_many_labels',
  'label_name_too_long',
  'label_value_too_long',
  'record_too_large',
  'overloaded',
  'sink_rejected',
] as const;

export type RejectReason = (typeof rejectReasons)[number];

export interface Rejection {
  reason: RejectReason;
  status: number;
}

export function reject(reason: RejectReason, message: string, status = 400): InputError {
  return new InputError(`${reason}: ${message}`, { details: { reason, status } });
}

/** The reason and status of an error built by `reject`, or null for any other error. */
export function rejectionOf(err: unknown): Rejection | null {
  if (!(err instanceof InputError)) return null;
  const { reason, status } = err.details as Partial<Rejection>;
  if (typeof reason !== 'string' || typeof status !== 'number') return null;
  return { reason, status };
}
