/**
 * The project's one retry policy (after KafkaJS's `createRetry`): `retry(opts)(fn(bail, attempt))`
 * runs `fn` until it resolves, calls `bail(err)`, throws an error the policy will not retry, or
 * runs out of retries. Delays grow exponentially with jitter so that many clients failing
 * together do not come back together; a server's own hint (Retry-After, throttle delays) replaces
 * the computed delay, capped so a hostile or confused server cannot park us for an hour.
 */

import { ConfigError, RetriesExhaustedError, isProgrammingError, isRetriable } from './errors.ts';
import type { ConfigIssue } from './errors.ts';

export interface RetryOptions {
  /** Retries after the first attempt (so at most `retries + 1` calls). */
  retries: number;
  /** Delay before the first retry, ms. */
  initialDelayMs: number;
  /** Upper bound of any computed delay, ms. */
  maxDelayMs: number;
  /** Growth per retry (2 doubles the delay). */
  factor: number;
  /** Relative jitter in [0, 1]: a delay d becomes uniform in [d(1-j), d(1+j)] (then capped). */
  jitter: number;
  /** Upper bound for a server-provided delay hint, ms. */
  maxHintDelayMs: number;
  /** Whether an error is worth another attempt. Programming errors are never retried regardless. */
  shouldRetry: (err: unknown) => boolean;
  /** A server's requested delay for this error (e.g. Retry-After), ms, or undefined. */
  delayHint: (err: unknown) => number | undefined;
  /** Called before each wait; used for retry metrics and logs. */
  onRetry: (info: RetryInfo) => void;
  /** Used in the exhaustion message, e.g. `LLM call argos-detection`. */
  name: string;
  /** Stops waiting and attempting when aborted; the abort reason is thrown. */
  signal: AbortSignal | undefined;
  /** Injected for tests. */
  random: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface RetryInfo {
  /** The attempt that just failed, 1-based. */
  attempt: number;
  error: unknown;
  delayMs: number;
  /** True when the delay came from the server's hint rather than the backoff schedule. */
  hinted: boolean;
}

export type Bail = (err: unknown) => never;
export type Attempt<T> = (bail: Bail, attempt: number) => Promise<T>;

/** Production defaults; `NODE_ENV=test` gets fast ones so tests exercise the same paths quickly. */
export function defaultRetryOptions(env: NodeJS.ProcessEnv = process.env): RetryOptions {
  const fast = env.NODE_ENV === 'test';
  return {
    retries: 5,
    initialDelayMs: fast ? 10 : 300,
    maxDelayMs: fast ? 200 : 30_000,
    factor: 2,
    jitter: 0.2,
    maxHintDelayMs: fast ? 2_000 : 60_000,
    shouldRetry: defaultShouldRetry,
    delayHint: () => undefined,
    onRetry: () => {},
    name: 'operation',
    signal: undefined,
    random: Math.random,
    sleep: abortableSleep,
  };
}

/** The default policy is the project's one classifier (`isRetriable` in errors.ts). */
export function defaultShouldRetry(err: unknown): boolean {
  return isRetriable(err);
}

/** The computed (un-hinted) delay before retry number `retry` (1-based), jitter applied. */
export function backoffDelay(retry: number, opts: Pick<RetryOptions, 'initialDelayMs' | 'maxDelayMs' | 'factor' | 'jitter' | 'random'>): number {
  const base = Math.min(opts.maxDelayMs, opts.initialDelayMs * opts.factor ** (retry - 1));
  const spread = base * opts.jitter * (2 * opts.random() - 1);
  return Math.max(0, Math.min(opts.maxDelayMs, Math.round(base + spread)));
}

class Bailed {
  constructor(readonly error: unknown) {}
}

export function retry(partial: Partial<RetryOptions> = {}): <T>(fn: Attempt<T>) => Promise<T> {
  // Keys passed as undefined (e.g. `signal: opts.signal`) keep their defaults.
  const given = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<RetryOptions>;
  const opts: RetryOptions = { ...defaultRetryOptions(), ...given };
  validate(opts);
  const bail: Bail = (err) => {
    throw new Bailed(err);
  };
  return async <T>(fn: Attempt<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      opts.signal?.throwIfAborted();
      try {
        return await fn(bail, attempt);
      } catch (caught) {
        if (caught instanceof Bailed) throw caught.error;
        // A programming error is retried only when its cause chain is (fetch's TypeError over ECONNREFUSED).
        if ((isProgrammingError(caught) && !isRetriable(caught)) || !opts.shouldRetry(caught)) throw caught;
        if (attempt > opts.retries) {
          throw new RetriesExhaustedError(`${opts.name} failed: ${describe(caught)}`, attempt, caught);
        }
        const hint = opts.delayHint(caught);
        const hinted = hint !== undefined && Number.isFinite(hint) && hint >= 0;
        const delayMs = hinted ? Math.min(hint, opts.maxHintDelayMs) : backoffDelay(attempt, opts);
        opts.onRetry({ attempt, error: caught, delayMs, hinted });
        await opts.sleep(delayMs, opts.signal);
      }
    }
  };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function validate(o: RetryOptions): void {
  const issues: ConfigIssue[] = [];
  const nonNeg = (k: 'initialDelayMs' | 'maxDelayMs' | 'maxHintDelayMs') => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) issues.push({ path: `retry.${k}`, message: `expected a finite number >= 0, got ${String(v)}` });
  };
  nonNeg('initialDelayMs');
  nonNeg('maxDelayMs');
  nonNeg('maxHintDelayMs');
  if (!Number.isInteger(o.retries) || o.retries < 0) issues.push({ path: 'retry.retries', message: `expected an integer >= 0, got ${String(o.retries)}` });
  if (typeof o.factor !== 'number' || !(o.factor >= 1)) issues.push({ path: 'retry.factor', message: `expected a number >= 1, got ${String(o.factor)}` });
  if (typeof o.jitter !== 'number' || !(o.jitter >= 0 && o.jitter <= 1)) issues.push({ path: 'retry.jitter', message: `expected a number in [0, 1], got ${String(o.jitter)}` });
  if (issues.length > 0) throw new ConfigError(issues);
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
