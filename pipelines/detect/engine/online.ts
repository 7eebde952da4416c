/**
 * The online detector's state, free of Kafka: per partition, per series SeriesDetectors fed from
 * MetricBatch records, producing Anomaly records. The consumer rebuilds this state on partition
 * assignment by replaying records it already processed (`rebuild`), then processes new ones
 * (`process`); both paths run the same code, so a rebuilt detector is in exactly the state it
 * would have had, and its anomalies equal an uninterrupted (or offline) run.
 */
import { createHash } from 'node:crypto';
import type { Anomaly, MetricBatch } from '../../core/records.ts';
import type { BaseDetector } from '../base/types.ts';
import { anomalyRecord } from '../cli.ts';
import type { DetectMetrics } from './metrics.ts';
import type { RuleSet } from '../rules/rule-records.ts';
import { SeriesDetector, type Decision, type RuleFault } from './series-detector.ts';

export interface OnlineOptions {
  /** Creates the base detector for a new series; undefined runs the rules alone. */
  baseFactory?: () => BaseDetector;
  metrics?: DetectMetrics;
  onRuleError?: (fault: RuleFault, labels: Record<string, string>) => void;
  /** Wall clock for `detectedAtMs` (tests inject a fixed one). */
  now?: () => number;
}

interface SeriesState {
  detector: SeriesDetector;
  labels: Record<string, string>;
  baseName: string | undefined;
}

export function anomalyId(fingerprint: string, t: number, rule: string, version: string | null): string {
  return createHash('sha1').update(`${fingerprint}\u0000${t}\u0000${rule}\u0000${version ?? ''}`).digest('hex').slice(0, 20);
}

/** Decision → Anomaly record: the first FN rule that fired leads; otherwise the base detector. */
export function toAnomaly(d: Decision, fingerprint: string, labels: Record<string, string>, baseName: string | undefined, now: number): Anomaly {
  const r = anomalyRecord(d, baseName);
  const isRule = r.kind !== 'base';
  return {
    id: anomalyId(fingerprint, d.t, r.rule, r.ruleVersion),
    fingerprint,
    labels,
    timestampMs: d.t,
    value: d.value,
    ruleId: isRule ? r.rule : null,
    ruleVersion: isRule ? r.ruleVersion : null,
    ruleKind: isRule ? 'FN' : null,
    severity: (['info', 'warning', 'critical'].includes(r.severity) ? r.severity : 'warning') as Anomaly['severity'],
    detector: baseName ?? '',
    baseScore: d.base?.score ?? 0,
    explanation: r.also.length > 0 ? `${r.explanation} (also: ${r.also.map((a) => `${a.rule}: ${a.explanation}`).join('; ')})` : r.explanation,
    clauses: r.clauses.map((c) => ({ text: c.text, value: c.left })),
    detectedAtMs: now,
  };
}

export class OnlineDetector {
  /** partition → fingerprint → state */
  private readonly partitions = new Map<number, Map<string, SeriesState>>();
  private readonly now: () => number;

  constructor(private rules: RuleSet, private readonly opts: OnlineOptions = {}) {
    this.now = opts.now ?? Date.now;
  }

  seriesCount(): number {
    let n = 0;
    for (const p of this.partitions.values()) n += p.size;
    return n;
  }

  private series(partition: number, batch: MetricBatch): SeriesState {
    let p = this.partitions.get(partition);
    if (!p) this.partitions.set(partition, (p = new Map()));
    let s = p.get(batch.fingerprint);
    if (!s) {
      const labels = batch.labels;
      const base = this.opts.baseFactory?.();
      s = {
        labels,
        baseName: base?.name,
        detector: new SeriesDetector({
          rules: this.rules.forLabels(labels),
          ...(base ? { base } : {}),
          ...(this.opts.metrics ? { metrics: this.opts.metrics } : {}),
          onRuleError: (f) => this.opts.onRuleError?.(f, labels),
        }),
      };
      p.set(batch.fingerprint, s);
    }
    return s;
  }

  private feed(partition: number, batch: MetricBatch, out: Anomaly[] | null): void {
    const s = this.series(partition, batch);
    for (const sample of batch.samples) {
      // Staleness markers end a series in Prometheus; for the windows they are a missing sample.
      if (sample.stale) continue;
      const d = s.detector.update(sample.timestampMs, sample.value);
      if (out && d.isAnomaly) out.push(toAnomaly(d, batch.fingerprint, s.labels, s.baseName, this.now()));
    }
  }

  /** Replays an already-processed record: state only, no output. */
  rebuild(partition: number, batch: MetricBatch): void {
    this.feed(partition, batch, null);
  }

  process(partition: number, batch: MetricBatch): Anomaly[] {
    const out: Anomaly[] = [];
    this.feed(partition, batch, out);
    return out;
  }

  /** Swaps the rule set on every series; unchanged rules keep their windows and `for` state. */
  setRules(rules: RuleSet): void {
    this.rules = rules;
    for (const p of this.partitions.values()) for (const s of p.values()) s.detector.setRules(rules.forLabels(s.labels));
  }

  dropPartition(partition: number): void {
    this.partitions.delete(partition);
  }
}
