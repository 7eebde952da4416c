/**
 * SSE event ids are cursors: for every partition of the alert topics, the next Kafka offset the
 * client has not yet seen. A single record's position would not be enough to resume a stream
 * that merges several partitions (a later event of partition 1 says nothing about partition 0),
 * so each id carries the whole vector after that event. Resuming means: for each partition,
 * deliver the records at or after its offset; a partition missing from the cursor (created
 * later) is read from its start. Because the offsets are Kafka's, the same id resumes correctly
 * on any alerts server reading the same topics.
 *
 * Text form: `1:a0=13,a1=5,i0=4,r2=7` (version, then topic code a/i/r + partition = next offset).
 */
import { InputError } from '../../pipelines/core/errors.ts';

const CODES: Record<string, string> = { anomalies: 'a', incidents: 'i', rca: 'r' };
const TOPICS: Record<string, string> = { a: 'anomalies', i: 'incidents', r: 'rca' };

/** `topic:partition` → next offset (decimal string). */
export type Cursor = Map<string, string>;

export function tpKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

export function encodeCursor(c: Cursor): string {
  const parts: string[] = [];
  for (const [k, off] of [...c].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const i = k.lastIndexOf(':');
    parts.push(`${CODES[k.slice(0, i)] ?? '?'}${k.slice(i + 1)}=${off}`);
  }
  return `1:${parts.join(',')}`;
}

export function decodeCursor(text: string): Cursor {
  const bad = (why: string) => new InputError(`invalid Last-Event-ID ${JSON.stringify(text)}: ${why}`);
  if (!text.startsWith('1:')) throw bad('expected an id this server sent (starting with "1:")');
  const out: Cursor = new Map();
  const body = text.slice(2);
  if (body.length === 0) return out;
  for (const part of body.split(',')) {
    const m = /^([air])(\d{1,6})=(\d{1,20})$/.exec(part);
    if (!m) throw bad(`bad element ${JSON.stringify(part)}`);
    out.set(tpKey(TOPICS[m[1]], Number(m[2])), m[3]);
  }
  return out;
}

/** Offset comparison on decimal strings (offsets may exceed 2^53). */
export function offsetAtLeast(offset: string, from: string): boolean {
  return BigInt(offset) >= BigInt(from);
}
