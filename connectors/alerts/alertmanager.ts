/**
 * Pushes the Alertmanager state (alertmanager-state.ts) to one or more Alertmanagers'
 * `POST /api/v2/alerts`, as Prometheus does: every Alertmanager of an HA pair gets every alert.
 * A tick every `tickMs` sends what is due; a failed push leaves those alerts due, so they go out
 * with the next tick. The state is folded from the alert log, which reads the topics from their
 * start on every server start, so a restart re-sends what is firing and the resolutions it missed.
 */
import { PanoptesError, describeError } from '../../pipelines/core/errors.ts';
import type { Logger } from '../../pipelines/core/logger.ts';
import { AlertmanagerState, type AmStateOptions, type PostableAlert } from './alertmanager-state.ts';
import type { AlertLog } from './log.ts';
import type { AlertsMetrics } from './metrics.ts';

export interface PusherOptions extends AmStateOptions {
  urls: string[];
  tickMs: number;
  timeoutMs: number;
}

export class AlertmanagerPusher {
  readonly state: AlertmanagerState;
  private timer: NodeJS.Timeout | null = null;
  private unlisten: () => void = () => {};
  private busy: Promise<void> = Promise.resolve();
  /** The last failure per Alertmanager URL: one warning per new failure, not one per tick, even while the other of an HA pair succeeds. */
  private readonly lastErrors = new Map<string, string>();
  private running = false;
  /** Alerts per POST: a start that folds a long history in must not send one huge body. */
  static readonly CHUNK = 500;

  constructor(private readonly o: PusherOptions, private readonly deps: { metrics: AlertsMetrics; log: Logger; fetch?: typeof fetch }) {
    this.state = new AlertmanagerState(o, {
      onRefused: (kind) => {
        this.deps.metrics.amRefused.inc({ kind });
        if (this.warnedFull) return;
        this.warnedFull = true;
        this.deps.log.warn('alertmanager state full: records for new label sets are refused until pushed resolutions make room (alerts already held keep updating)', { maxAlerts: this.state.maxAlerts });
      },
    });
  }

  /** One warning per time the state fills up, not one per refused record. */
  private warnedFull = false;

  /** Subscribe before the log starts, so every event from the topics' start is folded in. */
  attach(log: AlertLog): void {
    this.unlisten = log.onEvent((e) => {
      try {
        this.state.apply(e);
      } catch (err) {
        // A record that cannot become an alert (its times are no dates) is counted and skipped.
        this.deps.metrics.skipped.inc({ part: 'alertmanager', reason: err instanceof PanoptesError ? err.code.replace(/^PANOPTES_/, '').toLowerCase() : 'error' });
        this.deps.log.warn('alert record skipped for Alertmanager', { topic: e.source.topic, partition: e.source.partition, offset: e.source.offset, err: describeError(err) });
      }
    });
    this.timer = setInterval(() => {
      // A slow Alertmanager must not pile up ticks behind it: skip while one is running.
      if (this.running) return;
      this.running = true;
      this.busy = this.tick(Date.now()).finally(() => {
        this.running = false;
      });
    }, this.o.tickMs);
  }

  get healthy(): boolean {
    return this.lastErrors.size === 0;
  }

  async stop(): Promise<void> {
    this.unlisten();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.busy;
  }

  /** Pushes what is due to every Alertmanager; marks it sent only if all accepted it. */
  async tick(now: number): Promise<void> {
    const dropped = this.state.dropped;
    const due = this.state.due(now);
    if (this.state.dropped > dropped) this.deps.metrics.skipped.inc({ part: 'alertmanager', reason: 'input' }, this.state.dropped - dropped);
    const size = this.state.size;
    if (!this.state.full) this.warnedFull = false;
    this.deps.metrics.amAlerts.set({ state: 'firing' }, size.firing);
    this.deps.metrics.amAlerts.set({ state: 'resolved' }, size.resolved);
    for (let i = 0; i < due.length; i += AlertmanagerPusher.CHUNK) {
      const chunk = due.slice(i, i + AlertmanagerPusher.CHUNK);
      const results = await Promise.all(this.o.urls.map((u) => this.post(u, chunk)));
      if (results.every((ok) => ok)) this.state.sent(chunk, now);
      else break;
    }
    // Pushed resolutions leave the state: room again, so the next time it fills up warns again.
    if (!this.state.full) this.warnedFull = false;
  }

  private async post(base: string, alerts: PostableAlert[]): Promise<boolean> {
    const url = `${base.replace(/\/+$/, '')}/api/v2/alerts`;
    const end = this.deps.metrics.amPushLatency.startTimer();
    try {
      const res = await (this.deps.fetch ?? fetch)(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts), signal: AbortSignal.timeout(this.o.timeoutMs) });
      const text = await res.text().catch(() => '');
      if (!res.ok) throw new Error(`${res.status} ${text.slice(0, 200)}`);
      this.deps.metrics.amPushes.inc({ result: 'ok' });
      if (this.lastErrors.delete(url)) this.deps.log.info('alertmanager push recovered', { url });
      return true;
    } catch (err) {
      this.deps.metrics.amPushes.inc({ result: 'error' });
      // fetch says only "fetch failed"; the reason (ECONNREFUSED, a timeout) is in its cause.
      const cause = (err as { cause?: { code?: string } })?.cause?.code;
      const msg = describeError(err) + (cause ? ` (${cause})` : '');
      if (this.lastErrors.get(url) !== msg) this.deps.log.warn('alertmanager push failed, will retry', { url, alerts: alerts.length, err: msg });
      this.lastErrors.set(url, msg);
      return false;
    } finally {
      end();
    }
  }
}
