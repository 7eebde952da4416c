import type { MessagePort } from 'node:worker_threads';

/**
 * Messages between the controller and a worker thread. Times are absolute milliseconds
 * (`performance.timeOrigin + performance.now()`), comparable across threads.
 */

export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export interface WireTensorSpec {
  name: string;
  /** Shape without the batch dimension. */
  featureShape: number[];
}

/** Inputs of a batch: for each input tensor, one row-major part per request. */
export interface WireBatchTensor {
  name: string;
  featureShape: number[];
  parts: Float32Array[];
}

export type WireAction =
  | { kind: 'LOAD'; id: number; model: string; earliest: number; latest: number; bytes: Uint8Array; inputs: WireTensorSpec[]; profileBatches: number[]; profileRuns: number }
  | { kind: 'UNLOAD'; id: number; model: string; earliest: number; latest: number }
  | { kind: 'INFER'; id: number; model: string; earliest: number; latest: number; inputs: WireBatchTensor[]; rows: number[]; outputs: string[] };

/** An action to run, or `close`: finish the action in hand, release every session, answer `closed` and exit. */
export type ToWorker = { type: 'action'; action: WireAction } | { type: 'close' };

export interface WireOutput {
  name: string;
  featureShape: number[];
  /** One part per request, in request order. */
  parts: Float32Array[];
}

export type FromWorker =
  | { type: 'ready' }
  | { type: 'closed' }
  | {
      type: 'result';
      id: number;
      status: 'done';
      startedAt: number;
      /** Load or exec time, excluding profiling. */
      ms: number;
      outputs?: WireOutput[];
      profile?: { batch: number; ms: number }[];
    }
  | { type: 'result'; id: number; status: 'window'; startedAt: number; message: string }
  | { type: 'result'; id: number; status: 'failed'; startedAt: number; message: string };

/** Test-only: make a worker die while running an INFER of `model`. */
export interface CrashHook {
  model: string;
  mode: 'exit' | 'throw';
}

export interface WorkerData {
  /**
   * The worker's own channel for its `result` messages (transferred in workerData), so that the
   * controller can also take them synchronously with `receiveMessageOnPort` while its thread is
   * busy. `ready` and `closed` stay on parentPort. Without it, results go to parentPort.
   */
  results?: MessagePort;
  crash?: CrashHook;
  /** A tiny model loaded and run once before 'ready', so native start-up cost is not a LOAD's. */
  warmup?: Uint8Array;
}
