/**
 * Webhook delivery for one subscription. Events come from the alert log (every event, in order,
 * from the subscription's committed cursor on); each matching one is POSTed as JSON, signed
 * (sign.ts), and retried with exponential backoff and jitter on network errors, timeouts, 408,
 * 429 and 5xx (a Retry-After is honoured up to the backoff cap). Any other 4xx means the receiver
 * refuses this body, which retrying cannot change: the alert is dead-lettered at once, as is one
 * whose target the egress policy refuses at delivery time (egress.ts). After the last retry the
 * alert is dead-lettered too: a record on the dead-letter topic holding the body, with the
 * reason, the attempts and the source position in `panoptes.dlq.*` headers.
 *
 * Progress: once an alert is delivered or dead-lettered, the subscription's cursor is written to
 * the subscription topic (acks=all) before the next alert is tried, so a restart resumes after it
 * and re-sends nothing delivered. Only an alert in flight when the process died can arrive twice;
 * its `X-Panoptes-Delivery` id is the same on every attempt and after a restart, for receivers
 * that must be exactly-once. One alert at a time per subscription keeps its order.
 *
 * Memory: only matching alerts are queued, at most `maxQueue`. A full worker stops following the
 * log and, once it has caught up, follows again from its position: the log's replay buffer hands
 * back what it still holds, and what it evicted meanwhile is a gap, reported (error log, metric,
 * a dead-letter record naming the skipped offsets) rather than held without bound.
 *
 * Metrics never say how a target failed (no status class, no error code, no host): results are
 * `ok` or `failed`, so `/metrics` cannot be read as a port scanner's report.
 */
import { DLQ_HEADERS } from '../../pipelines/core/dead-letter.ts';
import { PanoptesError, describeError } from '../../pipelines/core/errors.ts';
import type { Logger } from '../../pipelines/core/logger.ts';
import { retry } from '../../pipelines/core/retry.ts';
import { topicName } from '../../pipelines/core/topics.ts';
import type { Producer } from '../../pipelines/core/transport/types.ts';
import { encodeCursor, offsetAtLeast, tpKey, type Cursor } from './cursor.ts';
import { PostFailed, postChecked, type EgressPolicy, type PostOptions, type PostResult } from './egress.ts';
import { eventMatches, eventPayload, type AlertEvent, type EventFilter } from './events.ts';
import type { AlertLog } from './log.ts';
import type { AlertsMetrics } from './metrics.ts';
import { SIGNATURE_HEADER, signature } from './sign.ts';
import type { SubscriptionStore } from './store.ts';
import { subscriptionFilter, type Subscription } from './subscription.ts';

export const DELIVERY_HEADER = 'x-panoptes-delivery';
export const SUBSCRIPTION_HEADER = 'x-panoptes-subscription';

/** One failed attempt: `retriable` tells the retry policy whether another attempt can help. */
export class WebhookAttemptError extends PanoptesError {
  constructor(message: string, readonly result: string, retriable: boolean, readonly retryAfterMs?: number) {
    super('PANOPTES_TRANSPORT', message, { retriable });
  }
}

/** One POST (egress.ts's `postChecked` by default; tests pass their own). */
export type PostFn = (url: string, body: string, policy: EgressPolicy, o: PostOptions) => Promise<PostResult>;

export interface WebhookDeps {
  store: Pick<SubscriptionStore, 'putProgress'>;
  /** Producer for dead-letter records. */
  producer: Producer;
  prefix: string;
  metrics: AlertsMetrics;
  log: Logger;
  /** How often progress past alerts that did not match is written, ms. */
  progressFlushMs?: number;
  /** The signing secret in clear (opened from the sealed one by the server). */
  secret: string;
  policy: EgressPolicy;
  /** Matching alerts held in memory at most. Default 10000. */
  maxQueue?: number;
  post?: PostFn;
}

export function deliveryId(sub: Subscription, e: AlertEvent): string {
  return `${sub.id}:${e.source.topic}:${e.source.partition}:${e.source.offset}`;
}

function retryAfterMs(h: string | null): number | undefined {
  if (!h) return undefined;
  const s = Number(h);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const t = Date.parse(h);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

export class WebhookWorker {
  /** Matching alerts waiting, in log order. */
  private readonly queue: AlertEvent[] = [];
  private readonly filter: EventFilter;
  /** Delivered (or skipped) position: what is written as progress. */
  private readonly cursor: Cursor;
  /** Position of the last event taken from the log (queued or skipped): where following resumes. */
  private readonly taken: Cursor;
  /** Queued alerts per partition, and a skip to apply once a partition's queued ones are done. */
  private readonly queuedPer = new Map<string, number>();
  private readonly skipTo = new Map<string, string>();
  private readonly abort = new AbortController();
  private readonly maxQueue: number;
  private readonly post: PostFn;
  private wake: (() => void) | null = null;
  private unfollow: (() => void) | null = null;
  private log: AlertLog | null = null;
  private paused = false;
  private loop: Promise<void> | null = null;
  private dirty = false;
  private lastFlush = Date.now();

  constructor(readonly sub: Subscription, from: Cursor, private readonly deps: WebhookDeps) {
    if (!sub.webhook) throw new Error(`subscription ${sub.id} has no webhook`);
    this.filter = subscriptionFilter(sub);
    this.cursor = new Map(from);
    this.taken = new Map(from);
    this.maxQueue = deps.maxQueue ?? 10_000;
    this.post = deps.post ?? postChecked;
  }

  /** Follows the log from the cursor and starts delivering. */
  start(log: AlertLog): void {
    this.log = log;
    this.follow();
    this.loop = this.run().catch((err: unknown) => {
      if (!this.abort.signal.aborted) this.deps.log.error('webhook worker stopped', { subscription: this.sub.id, err: describeError(err) });
    });
  }

  /** Stops; an alert in flight is not marked done (it is retried after a restart). */
  async stop(): Promise<void> {
    this.unfollow?.();
    this.unfollow = null;
    this.abort.abort(new Error('webhook worker stopping'));
    this.wake?.();
    await this.loop;
    if (this.dirty) await this.flush().catch(() => undefined);
  }

  /** Partitions this worker has a position on (`topic:partition`), for dropping its metric series. */
  partitions(): string[] {
    return [...this.cursor.keys()];
  }

  get pending(): number {
    return this.queue.length;
  }

  /** True while the queue is full and the worker does not take new alerts. */
  get isPaused(): boolean {
    return this.paused;
  }

  private follow(): void {
    this.paused = false;
    let overflow = false;
    const unfollow = this.log!.follow(
      new Map(this.taken),
      (e) => {
        if (overflow) return;
        const key = tpKey(e.source.topic, e.source.partition);
        const next = (BigInt(e.source.offset) + 1n).toString();
        if (!eventMatches(this.filter, e)) {
          this.taken.set(key, next);
          if ((this.queuedPer.get(key) ?? 0) > 0) this.skipTo.set(key, next);
          else {
            this.cursor.set(key, next);
            this.dirty = true;
          }
          return;
        }
        if (this.queue.length >= this.maxQueue) {
          // Stop taking alerts; `taken` stays before this one, so following again resumes here.
          overflow = true;
          this.paused = true;
          this.deps.metrics.webhookPauses.inc({ subscription: this.sub.id });
          this.deps.log.warn('webhook queue full: not taking alerts until it drains', { subscription: this.sub.id, queued: this.queue.length });
          if (this.unfollow) {
            this.unfollow();
            this.unfollow = null;
          }
          return;
        }
        this.taken.set(key, next);
        this.queue.push(e);
        this.queuedPer.set(key, (this.queuedPer.get(key) ?? 0) + 1);
        this.wake?.();
      },
      (topic, partition, wantedFrom, firstKept) => void this.gap(topic, partition, wantedFrom, firstKept),
    );
    // An overflow while follow() replayed the buffer came before `unfollow` existed.
    if (overflow) unfollow();
    else this.unfollow = unfollow;
  }

  /** Alerts evicted from the replay buffer before this worker took them: reported, then skipped. */
  private async gap(topic: string, partition: number, wantedFrom: string, firstKept: string | null): Promise<void> {
    const key = tpKey(topic, partition);
    this.deps.metrics.webhookGaps.inc({ subscription: this.sub.id });
    this.deps.log.error('webhook subscription skipped alerts evicted from the replay buffer (see the dead-letter topic)', { subscription: this.sub.id, topic, partition, from: wantedFrom, to: firstKept });
    // Skipped for good (a restart must not deliver them after the gap was reported): the
    // position moves past them once the alerts queued before the gap are done.
    if (firstKept !== null && offsetAtLeast(firstKept, this.taken.get(key) ?? '0')) {
      this.taken.set(key, firstKept);
      if ((this.queuedPer.get(key) ?? 0) > 0) this.skipTo.set(key, firstKept);
      else {
        this.cursor.set(key, firstKept);
        this.dirty = true;
      }
    }
    await this.deps.producer
      .send([{
        topic: topicName('deadLetters', this.deps.prefix),
        key: `${this.sub.id}:${topic}:${partition}:gap:${wantedFrom}`,
        value: Buffer.from(JSON.stringify({ subscription: this.sub.id, gap: { topic, partition, fromOffset: wantedFrom, toOffset: firstKept } })),
        headers: {
          [DLQ_HEADERS.reason]: `webhook subscription ${this.sub.id} fell behind the replay buffer: alerts at offsets ${wantedFrom} to ${firstKept ?? 'the end'} (exclusive) of ${topic}/${partition} were not delivered; read them from the topic to replay`,
          [DLQ_HEADERS.error]: 'WEBHOOK_GAP',
          [DLQ_HEADERS.topic]: topicName(topic as 'anomalies', this.deps.prefix),
          [DLQ_HEADERS.partition]: String(partition),
          [DLQ_HEADERS.offset]: wantedFrom,
          [DLQ_HEADERS.stage]: 'alerts-webhook',
          'panoptes.dlq.subscription': this.sub.id,
          'content-type': 'application/json',
        },
      }])
      .catch((err: unknown) => this.deps.log.error('could not dead-letter a webhook gap', { subscription: this.sub.id, err: describeError(err) }));
  }

  private async run(): Promise<void> {
    const flushMs = this.deps.progressFlushMs ?? 5000;
    while (!this.abort.signal.aborted) {
      const e = this.queue.shift();
      if (!e) {
        // Caught up after an overflow: take alerts again from where the worker stopped.
        if (this.paused) {
          this.follow();
          continue;
        }
        if (this.dirty && Date.now() - this.lastFlush >= flushMs) await this.flush();
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, flushMs);
          this.wake = () => {
            clearTimeout(t);
            this.wake = null;
            resolve();
          };
        });
        continue;
      }
      const key = tpKey(e.source.topic, e.source.partition);
      const done = await this.deliver(e);
      if (!done) return; // aborted mid-delivery
      const left = (this.queuedPer.get(key) ?? 1) - 1;
      this.queuedPer.set(key, left);
      this.cursor.set(key, (BigInt(e.source.offset) + 1n).toString());
      const skip = this.skipTo.get(key);
      if (left === 0 && skip !== undefined) {
        if (offsetAtLeast(skip, this.cursor.get(key)!)) this.cursor.set(key, skip);
        this.skipTo.delete(key);
      }
      await this.flush();
      this.deps.metrics.webhookLag.set({ subscription: this.sub.id, topic: e.source.topic, partition: String(e.source.partition) }, left);
    }
  }

  private async flush(): Promise<void> {
    await this.deps.store.putProgress(this.sub.id, encodeCursor(this.cursor));
    this.dirty = false;
    this.lastFlush = Date.now();
  }

  /** Delivers or dead-letters one alert; false when stopped before either happened. */
  private async deliver(e: AlertEvent): Promise<boolean> {
    const w = this.sub.webhook!;
    const m = this.deps.metrics;
    const body = JSON.stringify({ subscription: this.sub.id, delivery: deliveryId(this.sub, e), ...eventPayload(e) });
    const t0 = performance.now();
    let attempts = 0;
    try {
      await retry({
        name: `webhook ${this.sub.id}`,
        retries: w.maxRetries,
        initialDelayMs: w.initialBackoffMs,
        maxDelayMs: w.maxBackoffMs,
        maxHintDelayMs: w.maxBackoffMs,
        factor: 2,
        jitter: 0.5,
        signal: this.abort.signal,
        shouldRetry: (err) => err instanceof WebhookAttemptError && err.retriable,
        delayHint: (err) => (err instanceof WebhookAttemptError ? err.retryAfterMs : undefined),
        onRetry: (info) => this.deps.log.warn('webhook attempt failed, retrying', { subscription: this.sub.id, attempt: info.attempt, delayMs: info.delayMs, err: describeError(info.error) }),
      })(async () => {
        attempts++;
        await this.attempt(body, e);
      });
      m.webhookDeliveries.inc({ subscription: this.sub.id, outcome: 'delivered' });
      m.webhookLatency.observe({ subscription: this.sub.id }, (performance.now() - t0) / 1000);
      return true;
    } catch (err) {
      if (this.abort.signal.aborted) return false;
      await this.deadLetter(e, body, err, attempts);
      m.webhookDeliveries.inc({ subscription: this.sub.id, outcome: 'dead_lettered' });
      this.deps.log.error('webhook alert dead-lettered', { subscription: this.sub.id, delivery: deliveryId(this.sub, e), attempts, err: describeError(err) });
      return true;
    }
  }

  private async attempt(body: string, e: AlertEvent): Promise<void> {
    const w = this.sub.webhook!;
    const m = this.deps.metrics;
    const ts = Math.floor(Date.now() / 1000);
    let res: PostResult;
    try {
      res = await this.post(w.url, body, this.deps.policy, {
        headers: {
          'content-type': 'application/json',
          'user-agent': 'panoptes-alerts',
          [SIGNATURE_HEADER]: signature(this.deps.secret, ts, body),
          [DELIVERY_HEADER]: deliveryId(this.sub, e),
          [SUBSCRIPTION_HEADER]: this.sub.id,
        },
        timeoutMs: w.timeoutMs,
        signal: this.abort.signal,
      });
    } catch (err) {
      if (this.abort.signal.aborted) throw err;
      m.webhookAttempts.inc({ subscription: this.sub.id, result: 'failed' });
      const kind = err instanceof PostFailed ? err.kind : 'network';
      const message = err instanceof Error ? err.message : String(err);
      // A refused address stays refused: dead-letter at once.
      throw new WebhookAttemptError(kind === 'refused' ? `refused by the egress policy: ${message}` : message, kind, kind !== 'refused');
    }
    const ok = res.status >= 200 && res.status < 300;
    m.webhookAttempts.inc({ subscription: this.sub.id, result: ok ? 'ok' : 'failed' });
    if (ok) return;
    const retriable = res.status >= 500 || res.status === 408 || res.status === 429;
    throw new WebhookAttemptError(`receiver answered ${res.status}`, `${Math.floor(res.status / 100)}xx`, retriable, retryAfterMs(res.retryAfter));
  }

  private async deadLetter(e: AlertEvent, body: string, err: unknown, attempts: number): Promise<void> {
    await this.deps.producer.send([{
      topic: topicName('deadLetters', this.deps.prefix),
      key: deliveryId(this.sub, e),
      value: Buffer.from(body),
      headers: {
        [DLQ_HEADERS.reason]: `webhook delivery to ${this.sub.webhook!.url} failed after ${attempts} attempt(s): ${err instanceof Error ? err.message : String(err)}`,
        [DLQ_HEADERS.error]: err instanceof PanoptesError ? err.code : describeError(err),
        [DLQ_HEADERS.topic]: topicName(e.source.topic as 'anomalies', this.deps.prefix),
        [DLQ_HEADERS.partition]: String(e.source.partition),
        [DLQ_HEADERS.offset]: e.source.offset,
        [DLQ_HEADERS.stage]: 'alerts-webhook',
        'panoptes.dlq.subscription': this.sub.id,
        'panoptes.dlq.attempts': String(attempts),
        'content-type': 'application/json',
      },
    }]);
  }
}
