/**
 * The pool's request and result types, shared by the pool, the record mapping (records.ts), the
 * HTTP door and the Kafka interface. Types only: nothing here imports the pool.
 */
import type { ErrorCode } from '../core/errors.ts';
import type { ModelEntry } from './models/registry.ts';
import type { TensorInput, TensorOutput } from './tensors.ts';

export interface PoolModel extends Omit<ModelEntry, 'file' | 'platform'> {
  bytes: Uint8Array;
}

export interface InferRequest {
  model: string;
  /** Must equal the served version when given. */
  version?: string;
  inputs: TensorInput[];
  /** Time budget from arrival, ms; without it (and without deadlineAt) the model's SLO applies. */
  deadlineMs?: number;
  /** Absolute deadline, epoch ms (what Kafka records carry). */
  deadlineAt?: number;
  /**
   * When the request reached the server (epoch ms, `nowMs` clock): the HTTP door passes the time
   * it saw the request, less the event loop's lag, so time spent before the pool counts against
   * the deadline. Default: when `infer` is called.
   */
  arrivedAt?: number;
}

export interface LatencyBreakdown {
  /** Arrival → batch formed and sent to a worker. */
  queueMs: number;
  /** Batch sent → worker started it. */
  batchWaitMs: number;
  /** Worker run time of the batch. */
  execMs: number;
  /** Arrival → result. */
  totalMs: number;
  batchSize: number;
  /** Worker finished → the controller saw its result (a stall of either thread, or the message's wait), when it ran. */
  deliverMs?: number;
}

interface ResultBase {
  model: string;
  latency: LatencyBreakdown;
  /** The deadline the request was held to (epoch ms), once the pool took it. */
  deadlineAt?: number;
}
export type InferResult =
  | (ResultBase & { status: 'ok' | 'late'; version: string; outputs: TensorOutput[] })
  /** `cold`: refused because the model was not loaded in time; it is being loaded. */
  | (ResultBase & { status: 'rejected'; reason: string; cold?: boolean })
  | (ResultBase & { status: 'error'; error: { code: ErrorCode; message: string } });

