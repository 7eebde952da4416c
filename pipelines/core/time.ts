/**
 * Times as records carry them (epoch milliseconds) and the one safe way to turn them into dates.
 * JavaScript's Date covers ±8.64e15 ms; a sample stamped past it (the receiver refuses those, but
 * a topic may hold records from other producers) must never reach `toISOString`, which throws a
 * RangeError and, in a consumer, would stop the group on the same record forever.
 */
import { InputError } from './errors.ts';

/** JavaScript's Date range, ms. */
export const MAX_TIME_MS = 8.64e15;

export function isDateTime(ms: number): boolean {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_TIME_MS;
}

/**
 * ISO 8601 of an epoch-ms time; an InputError (not retriable: the record's own fault, so stages
 * dead-letter it) when the time is no date.
 */
export function isoTime(ms: number, what = 'timestamp'): string {
  if (!isDateTime(ms)) throw new InputError(`${what} ${ms} ms is outside the date range (±${MAX_TIME_MS} ms)`);
  return new Date(ms).toISOString();
}
