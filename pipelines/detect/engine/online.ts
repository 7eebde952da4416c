/**
 * The online detector's state, free of Kafka: per partition, per series SeriesDetectors fed from
 * MetricBatch records, producing Anomaly records. The consumer rebuilds this state on partition
 * assignment by replaying records it already processed (`rebuild`), then processes new ones
 * (`process`); both paths run the same code, so a rebuilt detector is in the state it would have
 * had (exactly, when the replay covers what `needs()` asks for), and its anomalies equal an
 * uninterrupted (or offline) run.
 *
 * Hostile input:
 * - a record with a sample stamped outside JavaScript's Date range (9e15 ms) is refused whole,
 *   before any of its samples touches state, with an InputError the stage dead-letters; `rebuild`
 *   skips it the same way, so a rebuilt state equals the first one. NaN and ±Infinity values are
 *   missing samples (Prometheus's staleness markers are NaNs), skipped by SeriesDetector;
 * - at most `maxSeries` series are tracked: a record of a further series is dropped (counted,
 *   reported through `onSeriesDropped`), so memory stays bounded whatever the input.
 */
import type { Anomaly, MetricBatch } from '../../core/records.ts';
import { InputError } from '../../core/errors.ts';
import { isDateTime } from '../../core/time.ts';
import type { BaseDetector } from '../base/types.ts';
import type { RuleSet } from '../rules/rule-records.ts';
import { toAnomaly } from './anomaly.ts';
import { baseHistory, lookbackMs, ruleHistory, type HistoryNeed } from './lookback.ts';
import type { DetectMetrics } from './metrics.ts';
import { SeriesDetector, type RuleFault, type SeriesDetectorOptions } from './series-detector.ts';

export { anomalyId, toAnomaly } from './anomaly.ts';

export interface OnlineOptions {
  /** Creates the base detector for a new series; undefined runs the rules alone. */
  baseFactory?: () => BaseDetector;
  metrics?: DetectMetrics;
  onRuleError?: (fault: RuleFault, labels: Record<string, string>) => void;
  /** Wall clock for `detectedAtMs` (tests inject a fixed one). */
  now?: () => number;
  /** Most series tracked at once (all partitions together). Default: no limit. */
  maxSeries?: number;
  /** A record of a series beyond `maxSeries` was dropped. */
  onSeriesDropped?: (labels: Record<string, string>, samples: number) => void;
}

type FaultReporter = OnlineOptions['onRuleError'];

/**
 * One series: its detector and what the online detector keeps beside it, in one object (no
 * closure per series: the fault report goes through a method and the shared callback).
 */
class SeriesState extends SeriesDetector {
  /** First and last sample time fed, and how many: the series' sampling interval. */
  firstT = NaN;
  lastTime = NaN;
  n = 0;

  constructor(
    readonly labels: Record<string, string>,
    readonly baseName: string | undefined,
    private readonly report: FaultReporter,
    opts: SeriesDetectorOptions,
  ) {
    super(opts);
  }

  protected override reportFault(fault: RuleFault): void {
    this.report?.(fault, this.labels);
  }
}

/** Refuses a record whose samples cannot all be dated, before any state changes. */
export function checkBatch(batch: MetricBatch): void {
  const samples = batch.samples;
  for (let i = 0; i < samples.length; i++) {
    const t = samples[i]!.timestampMs;
    if (!isDateTime(t)) {
      throw new InputError(`sample ${i} of series ${batch.fingerprint} (${JSON.stringify(batch.labels).slice(0, 200)}): timestamp ${t} ms is outside the date range (±8.64e15 ms)`);
    }
  }
}

export class OnlineDetector {
  /** partition → fingerprint → state */
  private readonly partitions = new Map<number, Map<string, SeriesState>>();
  private readonly now: () => number;
  private readonly maxSeries: number;
  private count = 0;

  constructor(private rules: RuleSet, private readonly opts: OnlineOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.maxSeries = opts.maxSeries ?? Infinity;
  }

  seriesCount(): number {
    return this.count;
  }

  private series(partition: number, batch: MetricBatch): SeriesState | null {
    let p = this.partitions.get(partition);
    let s = p?.get(batch.fingerprint);
    if (s) return s;
    if (this.count >= this.maxSeries) {
      const live = batch.samples.length;
      this.opts.metrics?.dropped(live);
      this.opts.onSeriesDropped?.(batch.labels, live);
      return null;
    }
    if (!p) this.partitions.set(partition, (p = new Map()));
    const labels = batch.labels;
    const base = this.opts.baseFactory?.();
    s = new SeriesState(labels, base?.name, this.opts.onRuleError, {
      rules: this.rules.forLabels(labels),
      ...(base ? { base } : {}),
      ...(this.opts.metrics ? { metrics: this.opts.metrics } : {}),
    });
    p.set(batch.fingerprint, s);
    this.count++;
    return s;
  }

  private feed(partition: number, batch: MetricBatch, out: Anomaly[] | null): void {
    const s = this.series(partition, batch);
    if (s === null) return;
    for (const sample of batch.samples) {
      // Staleness markers end a series in Prometheus; for the windows they are a missing sample.
      if (sample.stale) continue;
      // scan: no Decision allocated per sample; one that is an anomaly is turned into a record at once.
      const d = s.scan(sample.timestampMs, sample.value);
      if (d.status === 'accepted') {
        if (s.n === 0) s.firstT = d.t;
        s.lastTime = d.t;
        s.n++;
      }
      if (out && d.isAnomaly) out.push(toAnomaly(d, batch.fingerprint, s.labels, s.baseName, this.now()));
    }
  }

  /** Replays an already-processed record: state only, no output. False when the record was refused (it was dead-lettered). */
  rebuild(partition: number, batch: MetricBatch): boolean {
    try {
      checkBatch(batch);
    } catch {
      return false;
    }
    this.feed(partition, batch, null);
    return true;
  }

  /** The record's anomalies; throws InputError (nothing changed) when the record is refused. */
  process(partition: number, batch: MetricBatch): Anomaly[] {
    checkBatch(batch);
    const out: Anomaly[] = [];
    this.feed(partition, batch, out);
    return out;
  }

  /** Swaps the rule set on every series; unchanged rules keep their windows and `for` state. */
  setRules(rules: RuleSet): void {
    this.rules = rules;
    for (const p of this.partitions.values()) for (const s of p.values()) s.setRules(rules.forLabels(s.labels));
  }

  dropPartition(partition: number): void {
    const p = this.partitions.get(partition);
    if (!p) return;
    this.count -= p.size;
    this.partitions.delete(partition);
  }

  /** What the deployed rules and the base detector need to be rebuilt (see lookback.ts). */
  needs(): HistoryNeed[] {
    const out = this.rules.all().map((d) => ruleHistory(d.rule.ast));
    out.push(...baseHistory(this.opts.baseFactory?.()));
    return out;
  }

  /**
   * After a replay of a partition: the lookback (ms before the latest sample) its series need, at
   * each series' own sampling interval; 0 when no series has two samples.
   */
  neededLookbackMs(partition: number): number {
    const needs = this.needs();
    let out = 0;
    for (const s of this.partitions.get(partition)?.values() ?? []) {
      if (s.n < 2) continue;
      out = Math.max(out, lookbackMs(needs, (s.lastTime - s.firstT) / (s.n - 1)));
    }
    return out;
  }
}
