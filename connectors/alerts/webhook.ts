/**
 * Webhook delivery for one subscription. Events come from the alert log (every event, in order,
 * from the subscription's committed cursor on); each matching one is POSTed as JSON, signed
 * (sign.ts), and retried with exponential backoff and jitter on network errors, timeouts, 408,
 * 429 and 5xx (a Retry-After is honoured up to the backoff cap). Any other 4xx means the receiver
 * refuses this body, which retrying cannot change: the alert is dead-lettered at once. After the
 * last retry the alert is dead-lettered too: a record on the dead-letter topic holding the body,
 * with the reason, the attempts and the source position in `panoptes.dlq.*` headers.
 *
 * Progress: once an alert is delivered or dead-lettered, the subscription's cursor is written to
 * the subscription topic (acks=all) before the next alert is tried, so a restart resumes after it
 * and re-sends nothing delivered. Only an alert in flight when the process died can arrive twice;
 * its `X-Panoptes-Delivery` id is the same on every attempt and after a restart, for receivers
 * that must be exactly-once. One alert at a time per subscription keeps its order.
 */
import { DLQ_HEADERS } from '../../pipelines/core/dead-letter.ts';
import { PanoptesError, describeError } from '../../pipelines/core/errors.ts';
import type { Logger } from '../../pipelines/core/logger.ts';
import { retry } from '../../pipelines/core/retry.ts';
import { topicName } from '../../pipelines/core/topics.ts';
import type { Producer } from '../../pipelines/core/transport/types.ts';
import { encodeCursor, tpKey, type Cursor } from './cursor.ts';
import { eventMatches, type AlertEvent, type EventFilter } from './events.ts';
import type { AlertLog } from './log.ts';
import type { AlertsMetrics } from './metrics.ts';
import { SIGNATURE_HEADER, signature } from './sign.ts';
import { eventPayload } from './sse.ts';
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

export interface WebhookDeps {
  store: SubscriptionStore;
  /** Producer for dead-letter records. */
  producer: Producer;
  prefix: string;
  metrics: AlertsMetrics;
  log: Logger;
  /** How often progress past alerts that did not match is written, ms. */
  progressFlushMs?: number;
  fetch?: typeof fetch;
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
  private readonly queue: AlertEvent[] = [];
  private readonly filter: EventFilter;
  private readonly cursor: Cursor;
  private readonly abort = new AbortController();
  private wake: (() => void) | null = null;
  private unfollow: () => void = () => {};
  private loop: Promise<void> | null = null;
  private dirty = false;
  private lastFlush = Date.now();
  private readonly fetch: typeof fetch;

  constructor(readonly sub: Subscription, from: Cursor, private readonly deps: WebhookDeps) {
    if (!sub.webhook) throw new Error(`subscription ${sub.id} has no webhook`);
    this.filter = subscriptionFilter(sub);
    this.cursor = new Map(from);
    this.fetch = deps.fetch ?? fetch;
  }

  /** Follows the log from the cursor and starts delivering. */
  start(log: AlertLog): void {
    this.unfollow = log.follow(new Map(this.cursor), (e) => {
      this.queue.push(e);
      this.wake?.();
    });
    this.loop = this.run().catch((err: unknown) => {
      if (!this.abort.signal.aborted) this.deps.log.error('webhook worker stopped', { subscription: this.sub.id, err: describeError(err) });
    });
  }

  /** Stops; an alert in flight is not marked done (it is retried after a restart). */
  async stop(): Promise<void> {
    this.unfollow();
    this.abort.abort(new Error('webhook worker stopping'));
    this.wake?.();
    await this.loop;
    if (this.dirty) await this.flush().catch(() => undefined);
  }

  get pending(): number {
    return this.queue.length;
  }

  private async run(): Promise<void> {
    const flushMs = this.deps.progressFlushMs ?? 5000;
    while (!this.abort.signal.aborted) {
      const e = this.queue.shift();
      if (!e) {
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
      if (!eventMatches(this.filter, e)) {
        this.cursor.set(key, (BigInt(e.source.offset) + 1n).toString());
        this.dirty = true;
        continue;
      }
      const done = await this.deliver(e);
      if (!done) return; // aborted mid-delivery
      this.cursor.set(key, (BigInt(e.source.offset) + 1n).toString());
      await this.flush();
      this.deps.metrics.webhookLag.set({ subscription: this.sub.id, topic: e.source.topic, partition: String(e.source.partition) }, this.queue.filter((q) => q.source.topic === e.source.topic && q.source.partition === e.source.partition).length);
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
    const timeout = AbortSignal.timeout(w.timeoutMs);
    let res: Response;
    try {
      res = await this.fetch(w.url, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'panoptes-alerts',
          [SIGNATURE_HEADER]: signature(w.secret, ts, body),
          [DELIVERY_HEADER]: deliveryId(this.sub, e),
          [SUBSCRIPTION_HEADER]: this.sub.id,
        },
        signal: AbortSignal.any([timeout, this.abort.signal]),
        redirect: 'manual',
      });
      await res.arrayBuffer().catch(() => undefined);
    } catch (err) {
      if (this.abort.signal.aborted) throw err;
      const result = timeout.aborted ? 'timeout' : 'network';
      m.webhookAttempts.inc({ subscription: this.sub.id, result });
      throw new WebhookAttemptError(`${result === 'timeout' ? `no answer within ${w.timeoutMs} ms` : `request failed: ${describeError((err as Error).cause ?? err)}`}`, result, true);
    }
    const cls = `${Math.floor(res.status / 100)}xx`;
    m.webhookAttempts.inc({ subscription: this.sub.id, result: cls });
    if (res.status >= 200 && res.status < 300) return;
    const retriable = res.status >= 500 || res.status === 408 || res.status === 429;
    throw new WebhookAttemptError(`receiver answered ${res.status}`, cls, retriable, retryAfterMs(res.headers.get('retry-after')));
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
