/** Pool options: complete defaults and a validation that reports every bad key at once. */
import { ConfigError } from '../core/errors.ts';
import type { ConfigIssue } from '../core/errors.ts';
import type { Policy } from './scheduler.ts';
import type { CrashHook } from './protocol.ts';
import type { Options } from '../core/spec.ts';
import { serveSpec } from './spec.ts';

export interface PoolOptions {
  /** Worker threads (each one core: keep ≤ cores − 1 for the controller). */
  workers: number;
  /** Memory budget per worker for loaded models, bytes (model size = ONNX file size). */
  memoryBudgetBytes: number;
  /** Largest batch in rows; profiled batch sizes are the powers of two up to it. */
  maxBatch: number;
  /** Loads in flight across all workers. */
  maxLoadsInFlight: number;
  /** Largest share of a worker's last second spent in LOADs before it refuses new loads. */
  maxLoadShare: number;
  /** Subtracted from every deadline to cover message passing and result delivery. */
  deadlineBufferMs: number;
  /** Admission at arrival wants the predicted finish this much before the (internal) deadline, ms. */
  admissionHeadroomMs: number;
  /** SLO for requests without a deadline, overriding each model's `sloMs` when set. */
  sloMs?: number;
  /** 'clockwork' (admission + least-slack batching) or 'fifo' (the baseline). */
  policy: Policy;
  /** Measurements per (model, batch size) kept for the estimate, and its quantile. */
  profileWindow: number;
  profileQuantile: number;
  /** Runs per batch size when profiling a model at its first load. */
  profileRuns: number;
  /** Entries kept in the predicted-vs-actual log. */
  predictionLogSize: number;
  /** Test-only: make a worker die while running this model. */
  crashHook?: CrashHook;
}

const SPEC = serveSpec.defaults();
const MIB = 1024 * 1024;

/** The library's defaults: those of `panoptes serve` (spec.ts), in the pool's units. */
export const defaultPoolOptions: PoolOptions = {
  workers: SPEC.workers,
  memoryBudgetBytes: SPEC.memoryBudgetMb * MIB,
  maxBatch: SPEC.maxBatch,
  maxLoadsInFlight: SPEC.maxLoadsInFlight,
  maxLoadShare: SPEC.maxLoadShare,
  deadlineBufferMs: SPEC.deadlineBufferMs,
  admissionHeadroomMs: SPEC.admissionHeadroomMs,
  policy: SPEC.policy as Policy,
  profileWindow: SPEC.profileWindow,
  profileQuantile: SPEC.profileQuantile,
  profileRuns: SPEC.profileRuns,
  predictionLogSize: SPEC.predictionLogSize,
};

/** Pool options from checked serve options (spec.ts). */
export function poolOptionsOf(o: Options<typeof serveSpec.fields>): Partial<PoolOptions> {
  return {
    workers: o.workers,
    memoryBudgetBytes: Math.round(o.memoryBudgetMb * MIB),
    maxBatch: o.maxBatch,
    maxLoadsInFlight: o.maxLoadsInFlight,
    maxLoadShare: o.maxLoadShare,
    deadlineBufferMs: o.deadlineBufferMs,
    admissionHeadroomMs: o.admissionHeadroomMs,
    policy: o.policy as Policy,
    profileWindow: o.profileWindow,
    profileQuantile: o.profileQuantile,
    profileRuns: o.profileRuns,
    predictionLogSize: o.predictionLogSize,
    ...(o.sloMs !== undefined ? { sloMs: o.sloMs as number } : {}),
  };
}

/**
 * Checks options given to the library (`InferencePool.start`) in the pool's units; what comes
 * from the CLI or a config file was checked by the spec already.
 */
export function validatePoolOptions(partial: Partial<PoolOptions>): PoolOptions {
  const o = { ...defaultPoolOptions, ...partial };
  const issues: ConfigIssue[] = [];
  const posInt = (k: keyof PoolOptions) => {
    const v = o[k];
    if (!Number.isInteger(v) || (v as number) < 1) issues.push({ path: k, message: `expected a positive integer, got ${JSON.stringify(v)}` });
  };
  posInt('workers');
  posInt('memoryBudgetBytes');
  posInt('maxBatch');
  posInt('maxLoadsInFlight');
  posInt('profileWindow');
  posInt('profileRuns');
  posInt('predictionLogSize');
  if (typeof o.deadlineBufferMs !== 'number' || !(o.deadlineBufferMs >= 0)) issues.push({ path: 'deadlineBufferMs', message: `expected a number ≥ 0, got ${JSON.stringify(o.deadlineBufferMs)}` });
  if (typeof o.admissionHeadroomMs !== 'number' || !(o.admissionHeadroomMs >= 0)) issues.push({ path: 'admissionHeadroomMs', message: `expected a number ≥ 0, got ${JSON.stringify(o.admissionHeadroomMs)}` });
  if (typeof o.maxLoadShare !== 'number' || !(o.maxLoadShare > 0 && o.maxLoadShare <= 1)) issues.push({ path: 'maxLoadShare', message: `expected a number in (0, 1], got ${JSON.stringify(o.maxLoadShare)}` });
  if (o.sloMs !== undefined && (typeof o.sloMs !== 'number' || !(o.sloMs > 0))) issues.push({ path: 'sloMs', message: `expected a positive number of ms, got ${JSON.stringify(o.sloMs)}` });
  if (o.policy !== 'clockwork' && o.policy !== 'fifo') issues.push({ path: 'policy', message: `expected "clockwork" or "fifo", got ${JSON.stringify(o.policy)}` });
  if (typeof o.profileQuantile !== 'number' || !(o.profileQuantile > 0 && o.profileQuantile <= 1)) issues.push({ path: 'profileQuantile', message: 'expected a number in (0, 1]' });
  if (o.crashHook !== undefined && (typeof o.crashHook.model !== 'string' || (o.crashHook.mode !== 'exit' && o.crashHook.mode !== 'throw')))
    issues.push({ path: 'crashHook', message: 'expected {model, mode: "exit" | "throw"}' });
  if (issues.length > 0) throw new ConfigError(issues);
  return o;
}
