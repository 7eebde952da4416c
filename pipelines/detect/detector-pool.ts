/**
 * Many series, one rule set: what a consumer partition holds. Series detectors are created on
 * first sight of a key, share the compiled rule set and one metrics object, and are forgotten
 * after being idle (the consumer calls `evictIdle` on its own schedule; their state is rebuilt
 * from the topic if they come back, like any stage state in this design).
 */
import type { BaseDetector } from './base/types.ts';
import type { DetectMetrics } from './metrics.ts';
import type { CheckedRule } from './rule.ts';
import type { Backend } from './rule-runner.ts';
import type { Decision, ReloadSummary, RuleFault } from './series-detector.ts';
import { SeriesDetector } from './series-detector.ts';

export interface DetectorPoolOptions {
  rules?: readonly CheckedRule[];
  /** A fresh base detector per series; none when omitted (rules alone). */
  base?: (seriesKey: string) => BaseDetector;
  backend?: Backend;
  metrics?: DetectMetrics;
  onRuleError?: (seriesKey: string, fault: RuleFault) => void;
}

export class DetectorPool {
  private readonly series = new Map<string, { det: SeriesDetector; lastT: number }>();
  private rules: readonly CheckedRule[];

  constructor(private readonly opts: DetectorPoolOptions = {}) {
    this.rules = opts.rules ?? [];
  }

  get size(): number {
    return this.series.size;
  }

  get(seriesKey: string): SeriesDetector | undefined {
    return this.series.get(seriesKey)?.det;
  }

  update(seriesKey: string, t: number, v: number): Decision {
    let entry = this.series.get(seriesKey);
    if (entry === undefined) {
      const onErr = this.opts.onRuleError;
      const base = this.opts.base?.(seriesKey);
      const det = new SeriesDetector({
        rules: this.rules,
        ...(base ? { base } : {}),
        ...(this.opts.backend ? { backend: this.opts.backend } : {}),
        ...(this.opts.metrics ? { metrics: this.opts.metrics } : {}),
        ...(onErr ? { onRuleError: (f: RuleFault) => onErr(seriesKey, f) } : {}),
      });
      entry = { det, lastT: t };
      this.series.set(seriesKey, entry);
    }
    if (t > entry.lastT) entry.lastT = t;
    return entry.det.update(t, v);
  }

  /**
   * Swaps the rule set on every series (unchanged rules keep their state per series). The set is
   * validated once before any series changes, so a bad set leaves every series untouched.
   */
  setRules(rules: readonly CheckedRule[]): ReloadSummary {
    const probe = new SeriesDetector({ rules: this.rules });
    const summary = probe.setRules(rules);
    for (const { det } of this.series.values()) det.setRules(rules);
    this.rules = rules;
    return summary;
  }

  /** Forgets series whose newest sample is older than `beforeT`; returns how many. */
  evictIdle(beforeT: number): number {
    let n = 0;
    for (const [key, e] of this.series) {
      if (e.lastT < beforeT) {
        this.series.delete(key);
        n++;
      }
    }
    return n;
  }
}
