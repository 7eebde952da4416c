/**
 * Subscriptions live on the compacted `alert-subscriptions` topic: key = subscription id, value =
 * the subscription as UTF-8 JSON (`{"v":1,"subscription":{...}}`), a null value (tombstone) deletes
 * it. A webhook subscription's delivery progress sits beside it under key `<id>/progress`
 * (`{"v":1,"progress":"<cursor>"}`, the cursor of cursor.ts: next offset per partition), written
 * after every delivered or dead-lettered alert.
 * JSON rather than Avro because the record is the connector's own state, read by nobody else.
 * A webhook's secret is stored sealed (secrets.ts), never in clear; records written before that
 * (a clear `webhook.secret`) still load, with a warning to re-create them.
 * The server reads the topic to its end at start, so subscriptions survive a restart; a write
 * returns only once Kafka acknowledged it (acks=all).
 */
import type { Logger } from '../../pipelines/core/logger.ts';
import { silentLogger } from '../../pipelines/core/logger.ts';
import { topicName } from '../../pipelines/core/topics.ts';
import type { Producer, Transport } from '../../pipelines/core/transport/types.ts';
import type { Subscription } from './subscription.ts';

const PROGRESS_SUFFIX = '/progress';

export class SubscriptionStore {
  private readonly subs = new Map<string, Subscription>();
  private readonly progress = new Map<string, string>();
  private producer: Producer | null = null;
  readonly topic: string;
  private readonly log: Logger;

  constructor(private readonly transport: Transport, prefix: string, log?: Logger) {
    this.topic = topicName('alertSubscriptions', prefix);
    this.log = log ?? silentLogger;
  }

  /** Reads the topic to its end; later records of a key replace earlier ones. */
  async load(): Promise<void> {
    this.producer = await this.transport.producer();
    const records = await this.transport.readToEnd(this.topic);
    for (const r of records) {
      const id = r.key?.toString('utf8');
      if (!id) continue;
      const isProgress = id.endsWith(PROGRESS_SUFFIX);
      if (r.value === null) {
        if (isProgress) this.progress.delete(id.slice(0, -PROGRESS_SUFFIX.length));
        else this.subs.delete(id);
        continue;
      }
      try {
        const doc = JSON.parse(r.value.toString('utf8')) as { v?: number; subscription?: Subscription; progress?: string };
        if (isProgress && doc.v === 1 && typeof doc.progress === 'string') {
          this.progress.set(id.slice(0, -PROGRESS_SUFFIX.length), doc.progress);
          continue;
        }
        if (doc.v !== 1 || !doc.subscription || doc.subscription.id !== id) throw new Error(`unexpected document (v=${String(doc.v)})`);
        this.subs.set(id, doc.subscription);
        if (doc.subscription.webhook?.secret !== undefined) this.log.warn('subscription record holds its webhook secret in clear (written by an older version): delete and re-create it so the secret is sealed', { id });
      } catch (err) {
        this.log.warn('skipping an unreadable subscription record', { id, offset: r.offset, partition: r.partition, err: (err as Error).message });
      }
    }
  }

  list(): Subscription[] {
    return [...this.subs.values()].sort((a, b) => a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : 1));
  }

  get(id: string): Subscription | undefined {
    return this.subs.get(id);
  }

  /**
   * Writes a subscription, and with `progress` its starting cursor in the same produce call (one
   * partition, one batch): a webhook subscription is never stored without a cursor, which would
   * make a restart deliver the topics' whole history to it.
   */
  async put(s: Subscription, progress?: string): Promise<void> {
    const records = [{ topic: this.topic, key: s.id, value: Buffer.from(JSON.stringify({ v: 1, subscription: s })) }];
    if (progress !== undefined) records.unshift({ topic: this.topic, key: `${s.id}${PROGRESS_SUFFIX}`, value: Buffer.from(JSON.stringify({ v: 1, progress })) });
    await this.requireProducer().send(records);
    this.subs.set(s.id, s);
    if (progress !== undefined) this.progress.set(s.id, progress);
  }

  async delete(id: string): Promise<boolean> {
    if (!this.subs.has(id)) return false;
    await this.requireProducer().send([
      { topic: this.topic, key: id, value: null },
      { topic: this.topic, key: `${id}${PROGRESS_SUFFIX}`, value: null },
    ]);
    this.subs.delete(id);
    this.progress.delete(id);
    return true;
  }

  /** The delivery cursor last written for a subscription, if any. */
  getProgress(id: string): string | undefined {
    return this.progress.get(id);
  }

  async putProgress(id: string, cursor: string): Promise<void> {
    await this.requireProducer().send([{ topic: this.topic, key: `${id}${PROGRESS_SUFFIX}`, value: Buffer.from(JSON.stringify({ v: 1, progress: cursor })) }]);
    this.progress.set(id, cursor);
  }

  async close(): Promise<void> {
    await this.producer?.close();
    this.producer = null;
  }

  private requireProducer(): Producer {
    if (!this.producer) throw new Error('subscription store not loaded');
    return this.producer;
  }
}
