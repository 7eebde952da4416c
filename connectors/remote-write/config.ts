/**
 * The receiver's options: one declaration per key (type, default, doc) from which validation,
 * the CLI options and the README table are derived. Validation reports every problem with the
 * key's name and what was expected.
 */
import { ConfigError, type ConfigIssue } from '../../pipelines/core/errors.ts';

export interface ReceiverOptions {
  /** host:port to listen on; port 0 picks a free one. */
  listen: string;
  /** Largest compressed body accepted; larger requests get 413. */
  maxBodyBytes: number;
  /** Largest uncompressed WriteRequest accepted (read from the snappy header before inflating). */
  maxDecodedBytes: number;
  /** How long the sink may take to acknowledge a request's records before the reply is 503. */
  deadlineMs: number;
  /** Requests being read, decoded or written at once; beyond it: 429. */
  maxInflight: number;
  /** Compressed bytes of the requests in flight; beyond it: 429. */
  maxInflightBytes: number;
  /** Seconds in the Retry-After header of 429 and 503 replies. */
  retryAfterS: number;
  /** Accept `Authorization: Bearer <token>` with this token. */
  bearerToken?: string;
  /** Accept HTTP basic auth with this user and password. */
  basicAuth?: { username: string; password: string };
  /** PEM certificate chain and key: serve HTTPS. */
  tls?: { cert: Buffer; key: Buffer };
  /** The MetricBatch `source` field. */
  source: string;
}

export const RECEIVER_DEFAULTS = {
  listen: '127.0.0.1:9201',
  maxBodyBytes: 16 * 1024 * 1024,
  maxDecodedBytes: 128 * 1024 * 1024,
  deadlineMs: 5000,
  maxInflight: 64,
  maxInflightBytes: 256 * 1024 * 1024,
  retryAfterS: 1,
  source: 'remote-write',
} as const satisfies Partial<ReceiverOptions>;

function positiveInt(issues: ConfigIssue[], key: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    issues.push({ path: key, message: `expected a positive integer, got ${JSON.stringify(v)}` });
  }
}

/** Fills defaults and validates; throws one ConfigError listing every problem. */
export function receiverOptions(partial: Partial<ReceiverOptions>): ReceiverOptions {
  const o: ReceiverOptions = { ...RECEIVER_DEFAULTS, ...stripUndefined(partial) };
  const issues: ConfigIssue[] = [];
  if (typeof o.listen !== 'string' || !/^.+:\d{1,5}$/.test(o.listen)) {
    issues.push({ path: 'listen', message: `expected host:port (e.g. 127.0.0.1:9201), got ${JSON.stringify(o.listen)}` });
  }
  for (const key of ['maxBodyBytes', 'maxDecodedBytes', 'deadlineMs', 'maxInflight', 'maxInflightBytes'] as const) {
    positiveInt(issues, key, o[key]);
  }
  if (typeof o.retryAfterS !== 'number' || !Number.isInteger(o.retryAfterS) || o.retryAfterS < 0) {
    issues.push({ path: 'retryAfterS', message: `expected an integer >= 0, got ${JSON.stringify(o.retryAfterS)}` });
  }
  if (o.maxInflightBytes < o.maxBodyBytes) {
    issues.push({ path: 'maxInflightBytes', message: `must be at least maxBodyBytes (${o.maxBodyBytes}), or no request of the largest size could ever be admitted` });
  }
  if (o.bearerToken !== undefined && o.bearerToken.length === 0) {
    issues.push({ path: 'bearerToken', message: 'expected a non-empty token' });
  }
  if (o.basicAuth !== undefined && (o.basicAuth.username.length === 0 || o.basicAuth.username.includes(':'))) {
    issues.push({ path: 'basicAuth.username', message: 'expected a non-empty user name without ":"' });
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return o;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
