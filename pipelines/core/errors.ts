/**
 * One typed error hierarchy for the whole project (after KafkaJS's `KafkaJSError` and
 * platformatic/kafka's `GenericError`): every error carries a stable code, whether retrying can
 * help, and the cause it wraps. Callers classify with `isRetriable`, which walks the cause chain
 * and never throws on foreign errors.
 */

export const errorCodes = [
  'PANOPTES_CONFIG', // bad configuration: fail at start, never retry
  'PANOPTES_USAGE', // bad CLI usage or arguments
  'PANOPTES_INPUT', // bad user input (files, requests): report, never retry
  'PANOPTES_DECODE', // a record that cannot be decoded: dead-letter it
  'PANOPTES_SCHEMA', // schema registry problems (unknown id, incompatible schema)
  'PANOPTES_CONNECT', // a server (Kafka, registry, ...) cannot be reached
  'PANOPTES_TIMEOUT', // an operation ran past its deadline
  'PANOPTES_TRANSPORT', // produce/consume/commit failed
  'PANOPTES_RULE', // rule parse/check/compile/runtime errors
  'PANOPTES_REFUSED', // admission control refused work (overload, deadline)
  'PANOPTES_NOT_FOUND', // a named thing (model, topic, subject) does not exist
  'PANOPTES_LLM', // LLM endpoint errors
  'PANOPTES_LLM_BUDGET', // a run's LLM token/cost budget would be or was exceeded
  'PANOPTES_RETRIES_EXHAUSTED', // a retried operation gave up
  'PANOPTES_INTERNAL', // a bug: never retried
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export interface ErrorOptions {
  cause?: unknown;
  retriable?: boolean;
  /** Extra structured context (path of a config key, topic, partition, ...). */
  details?: Record<string, unknown>;
}

export class PanoptesError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, opts: ErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = opts.retriable ?? false;
    this.details = opts.details ?? {};
  }
}

/** One config problem: the key's path and what was expected. */
export interface ConfigIssue {
  path: string;
  message: string;
}

export class ConfigError extends PanoptesError {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super(
      'PANOPTES_CONFIG',
      `invalid configuration:\n${issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n')}`,
      { details: { issues } },
    );
    this.issues = issues;
  }
}

export class UsageError extends PanoptesError {
  constructor(message: string) {
    super('PANOPTES_USAGE', message);
  }
}

export class InputError extends PanoptesError {
  constructor(message: string, opts: ErrorOptions = {}) {
    super('PANOPTES_INPUT', message, opts);
  }
}

export class DecodeError extends PanoptesError {
  constructor(message: string, opts: ErrorOptions = {}) {
    super('PANOPTES_DECODE', message, opts);
  }
}

export class SchemaError extends PanoptesError {
  constructor(message: string, opts: ErrorOptions = {}) {
    super('PANOPTES_SCHEMA', message, opts);
  }
}

export class ConnectError extends PanoptesError {
  constructor(message: string, opts: ErrorOptions = {}) {
    super('PANOPTES_CONNECT', message, { retriable: true, ...opts });
  }
}

export class TimeoutError extends PanoptesError {
  constructor(message: string, opts: ErrorOptions = {}) {
    super('PANOPTES_TIMEOUT', message, { retriable: true, ...opts });
  }
}

export class TransportError extends PanoptesError {
  constructor(message: string, opts: ErrorOptions = {}) {
    super('PANOPTES_TRANSPORT', message, opts);
  }
}

export class RuleError extends PanoptesError {
  constructor(message: string, opts: ErrorOptions = {}) {
    super('PANOPTES_RULE', message, opts);
  }
}

export class RefusedError extends PanoptesError {
  constructor(message: string, opts: ErrorOptions = {}) {
    super('PANOPTES_REFUSED', message, opts);
  }
}

export class NotFoundError extends PanoptesError {
  constructor(message: string, opts: ErrorOptions = {}) {
    super('PANOPTES_NOT_FOUND', message, opts);
  }
}

export class LlmError extends PanoptesError {
  constructor(message: string, opts: ErrorOptions = {}) {
    super('PANOPTES_LLM', message, opts);
  }
}

/** The model answered, but not with what was asked (not JSON, wrong shape): `raw` feeds a repair loop. */
export class LlmOutputError extends LlmError {
  readonly raw: string;
  readonly problems: string[];
  constructor(message: string, raw: string, problems: string[], opts: ErrorOptions = {}) {
    super(message, { ...opts, details: { ...opts.details, raw, problems } });
    this.raw = raw;
    this.problems = problems;
  }
}

export class BudgetExceededError extends PanoptesError {
  constructor(message: string, opts: ErrorOptions = {}) {
    super('PANOPTES_LLM_BUDGET', message, opts);
  }
}

export class RetriesExhaustedError extends PanoptesError {
  readonly attempts: number;
  constructor(message: string, attempts: number, cause: unknown) {
    super('PANOPTES_RETRIES_EXHAUSTED', `${message} (gave up after ${attempts} attempts)`, { cause });
    this.attempts = attempts;
  }
}

export function isPanoptesError(err: unknown): err is PanoptesError {
  return err instanceof PanoptesError;
}

/** Programming errors are never worth retrying on their own (KafkaJS's rule). */
export function isProgrammingError(err: unknown): boolean {
  return err instanceof TypeError || err instanceof SyntaxError || err instanceof RangeError || err instanceof ReferenceError;
}

/** Socket-level codes (Node and undici) that say the peer or the path failed, not the request. */
const NETWORK_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
]);

/**
 * The project's one error classifier: true when retrying might succeed, i.e. some error in the
 * cause chain says so (our `retriable: true`, a foreign library's own `retriable` flag as kafkajs
 * sets it, or a socket-level code such as ECONNREFUSED — also under fetch's `TypeError: fetch
 * failed`) and none of ours says it is not. Anything else — unknown errors, programming errors,
 * bad input — is not retried. Never throws.
 */
export function isRetriable(err: unknown): boolean {
  let seenRetriable = false;
  const seen = new Set<unknown>();
  let cur: unknown = err;
  while (cur !== undefined && cur !== null && !seen.has(cur) && typeof cur === 'object') {
    seen.add(cur);
    const r = (cur as { retriable?: unknown }).retriable;
    if (r === false && cur instanceof PanoptesError) return false;
    if (r === true) seenRetriable = true;
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) seenRetriable = true;
    cur = (cur as { cause?: unknown }).cause;
  }
  return seenRetriable;
}

/** A one-line description of any thrown value, for logs and dead-letter headers. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
