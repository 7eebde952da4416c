/**
 * Records that cannot be decoded are never dropped silently: each becomes a dead-letter record
 * holding the original key, value and headers, with the reason and the source position in
 * `panoptes.dlq.*` headers. Policy per consumer (config `onDecodeFailure`): dead-letter, skip
 * (counted) or fail (stop the stage).
 */
import { describeError, isPanoptesError, PanoptesError } from './errors.ts';
import type { DecodeFailurePolicy } from './config.ts';
import type { Serde } from './serde.ts';
import { topicName } from './topics.ts';
import type { InRecord, OutRecord } from './transport/types.ts';

export const DLQ_HEADERS = {
  reason: 'panoptes.dlq.reason',
  error: 'panoptes.dlq.error',
  topic: 'panoptes.dlq.topic',
  partition: 'panoptes.dlq.partition',
  offset: 'panoptes.dlq.offset',
  stage: 'panoptes.dlq.stage',
  /** `decode` (the bytes are not a record) or `process` (the record is, but the stage refused it). */
  kind: 'panoptes.dlq.kind',
} as const;

export function deadLetterRecord(rec: InRecord, err: unknown, stage: string, prefix = '', kind: 'decode' | 'process' = 'decode'): OutRecord {
  return {
    topic: topicName('deadLetters', prefix),
    key: rec.key,
    value: rec.value,
    headers: {
      ...rec.headers,
      [DLQ_HEADERS.reason]: err instanceof Error ? err.message : String(err),
      [DLQ_HEADERS.error]: isPanoptesError(err) ? err.code : describeError(err),
      [DLQ_HEADERS.topic]: rec.topic,
      [DLQ_HEADERS.partition]: String(rec.partition),
      [DLQ_HEADERS.offset]: rec.offset,
      [DLQ_HEADERS.stage]: stage,
      [DLQ_HEADERS.kind]: kind,
    },
    timestamp: rec.timestamp,
  };
}

export interface DecodedBatch<T> {
  ok: { record: InRecord; value: T }[];
  /** Dead-letter records to produce (empty under the skip policy). */
  dead: OutRecord[];
  /** How many records failed, whatever the policy did with them. */
  failed: number;
}

/**
 * Decodes a batch. Only DecodeErrors are dead-lettered: a registry that cannot be reached is not
 * the record's fault, so that error propagates and the batch is retried.
 */
export async function decodeBatch<T>(serde: Serde, records: InRecord[], opts: { policy: DecodeFailurePolicy; stage: string; prefix?: string; onFailure?: (rec: InRecord, err: unknown) => void }): Promise<DecodedBatch<T>> {
  const out: DecodedBatch<T> = { ok: [], dead: [], failed: 0 };
  for (const record of records) {
    try {
      const { value } = await serde.decode<T>(record.topic, record.value);
      out.ok.push({ record, value });
    } catch (err) {
      if (!(err instanceof PanoptesError) || err.code !== 'PANOPTES_DECODE') throw err;
      out.failed++;
      opts.onFailure?.(record, err);
      if (opts.policy === 'fail') throw err;
      if (opts.policy === 'dead-letter') out.dead.push(deadLetterRecord(record, err, opts.stage, opts.prefix));
    }
  }
  return out;
}
