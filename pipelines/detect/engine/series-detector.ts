/**
 * The detector for one series: what a consumer drives, one instance per series key, samples in
 * order. It filters input, runs every rule (FP and FN) and optionally a base detector, and
 * combines them as Argos deploys them (aggregate.ts).
 *
 * Input handling (each counted in `stats` and metrics):
 * - timestamp older than the last one seen: dropped (`out-of-order`);
 * - timestamp equal to the last one seen: dropped, the first sample wins (`duplicate`) —
 *   "last wins" would need every window to retract a sample, for no gain on scraped metrics;
 * - NaN or ±Infinity value (or non-finite timestamp): skipped (`nan`): not added to any window,
 *   not evaluated, and the `for` streaks neither advance nor reset; its timestamp still counts
 *   for ordering. Gaps need no handling: time windows cover (t − W, t] whatever arrived.
 *
 * A rule that throws or computes a non-finite value is quarantined for this series: counted,
 * reported through `onRuleError`, skipped from then on, while the other rules keep running,
 * until the rule set replaces it or `release(id)` restarts it fresh.
 *
 * `setRules` swaps the rule set at run time: a rule whose id and version are unchanged keeps its
 * state (windows, `for` streak, quarantine); new or changed rules start fresh (warm-up).
 */
import { RuleError, describeError } from '../../core/errors.ts';
import { combineLabels } from './aggregate.ts';
import type { BaseDetector, BaseResult } from '../base/types.ts';
import type { DetectMetrics } from './metrics.ts';
import type { CheckedRule } from '../rules/rule.ts';
import type { Backend, RuleFiring } from './rule-runner.ts';
import { RuleRunner } from './rule-runner.ts';

export type SampleStatus = 'accepted' | 'out-of-order' | 'duplicate' | 'nan';

export interface Decision {
  t: number;
  value: number;
  status: SampleStatus;
  /** Final label: (base ∧ ¬any FP) ∨ any FN. Without a base detector: any FN rule fired. */
  isAnomaly: boolean;
  base: BaseResult | undefined;
  /** FN rules that fired on this sample. */
  fn: readonly RuleFiring[];
  /** FP rules that fired on this sample (they remove a base anomaly). */
  fp: readonly RuleFiring[];
  /** True when the base detector flagged the sample and an FP rule removed it. */
  suppressed: boolean;
}

export interface RuleFault {
  ruleId: string;
  ruleVersion: string;
  t: number;
  error: unknown;
  message: string;
}

export interface SeriesDetectorOptions {
  rules?: readonly CheckedRule[];
  base?: BaseDetector;
  /** `reference` runs the tree-walking interpreter (tests, benchmark). Default `compiled`. */
  backend?: Backend;
  onRuleError?: (fault: RuleFault) => void;
  metrics?: DetectMetrics;
}

export interface SeriesStats {
  accepted: number;
  outOfOrder: number;
  duplicates: number;
  nan: number;
  faults: number;
  quarantined: number;
}

export interface ReloadSummary {
  kept: string[];
  added: string[];
  removed: string[];
}

const none: readonly RuleFiring[] = Object.freeze([]);
const ignoreFault = (): void => {};

/** The decision `scan` fills: one object shared by every SeriesDetector (see scan). */
const scratch: Decision = { t: 0, value: 0, status: 'accepted', isAnomaly: false, base: undefined, fn: none, fp: none, suppressed: false };

function skipped(t: number, v: number, status: SampleStatus): Decision {
  const d = scratch;
  d.t = t;
  d.value = v;
  d.status = status;
  d.isAnomaly = false;
  d.base = undefined;
  d.fn = none;
  d.fp = none;
  d.suppressed = false;
  return d;
}

export class SeriesDetector {
  private runners: RuleRunner[] = [];
  private lastT = -Infinity;
  private readonly backend: Backend;
  private readonly base: BaseDetector | undefined;
  private readonly onRuleError: (fault: RuleFault) => void;
  private readonly metrics: DetectMetrics | undefined;
  readonly stats: SeriesStats = { accepted: 0, outOfOrder: 0, duplicates: 0, nan: 0, faults: 0, quarantined: 0 };

  constructor(opts: SeriesDetectorOptions = {}) {
    this.backend = opts.backend ?? 'compiled';
    this.base = opts.base;
    this.onRuleError = opts.onRuleError ?? ignoreFault;
    this.metrics = opts.metrics;
    if (opts.rules) this.setRules(opts.rules);
  }

  get rules(): readonly CheckedRule[] {
    return this.runners.map((r) => r.rule);
  }

  /** Rule ids currently quarantined on this series. */
  quarantined(): string[] {
    return this.runners.filter((r) => r.quarantine !== null).map((r) => r.rule.spec.id);
  }

  /**
   * Replaces the rule set. All new runners are built before anything is swapped; on any error the
   * old set stays (Prometheus's Manager.Update).
   */
  setRules(rules: readonly CheckedRule[]): ReloadSummary {
    const ids = new Set<string>();
    for (const r of rules) {
      if (ids.has(r.spec.id)) throw new RuleError(`duplicate rule id '${r.spec.id}' in rule set`);
      ids.add(r.spec.id);
    }
    const old = new Map(this.runners.map((r) => [r.rule.spec.id, r]));
    const summary: ReloadSummary = { kept: [], added: [], removed: [] };
    const next: RuleRunner[] = [];
    for (const rule of rules) {
      const prev = old.get(rule.spec.id);
      if (prev !== undefined && prev.rule.version === rule.version) {
        summary.kept.push(rule.spec.id);
        next.push(prev);
      } else {
        summary.added.push(rule.spec.id);
        next.push(new RuleRunner(rule, this.backend));
      }
    }
    for (const id of old.keys()) if (!ids.has(id)) summary.removed.push(id);
    // Only now mutate: severity/description may change without changing the version.
    for (let i = 0; i < next.length; i++) next[i]!.rule = rules[i]!;
    const before = this.stats.quarantined;
    this.runners = next;
    this.stats.quarantined = next.filter((r) => r.quarantine !== null).length;
    this.metrics?.quarantined.inc(this.stats.quarantined - before);
    return summary;
  }

  /** Lifts a quarantine: the rule restarts with fresh state. Returns false if it was not quarantined. */
  release(ruleId: string): boolean {
    const r = this.runners.find((x) => x.rule.spec.id === ruleId);
    if (r === undefined || r.quarantine === null) return false;
    r.reset();
    this.stats.quarantined--;
    this.metrics?.quarantined.dec();
    return true;
  }

  /** The decision on the next sample (a new object the caller may keep). */
  update(t: number, v: number): Decision {
    const d = this.scan(t, v);
    return { t: d.t, value: d.value, status: d.status, isAnomaly: d.isAnomaly, base: d.base, fn: d.fn, fp: d.fp, suppressed: d.suppressed };
  }

  /**
   * `update` without allocating a Decision per sample: the object returned is shared by every
   * SeriesDetector and overwritten by the next `scan` of any of them, so read it at once (the
   * online detector's loop). Its `fn`/`fp` arrays and an alarm's `base` are its own to keep.
   */
  scan(t: number, v: number): Decision {
    if (!(t > this.lastT)) {
      const status: SampleStatus = t === this.lastT ? 'duplicate' : Number.isNaN(t) ? 'nan' : 'out-of-order';
      if (status === 'duplicate') this.stats.duplicates++;
      else if (status === 'nan') this.stats.nan++;
      else this.stats.outOfOrder++;
      this.metrics?.sample(status === 'duplicate' ? 'duplicate' : status === 'nan' ? 'nan' : 'out_of_order');
      return skipped(t, v, status);
    }
    if (t === Infinity) {
      this.stats.nan++;
      this.metrics?.sample('nan');
      return skipped(t, v, 'nan');
    }
    this.lastT = t;
    if (v - v !== 0) {
      this.stats.nan++;
      this.metrics?.sample('nan');
      return skipped(t, v, 'nan');
    }
    this.stats.accepted++;
    this.metrics?.sample('accepted');

    let fn: RuleFiring[] | undefined;
    let fp: RuleFiring[] | undefined;
    const runners = this.runners;
    for (let i = 0; i < runners.length; i++) {
      const r = runners[i]!;
      if (r.quarantine !== null) continue;
      let firing: RuleFiring | null;
      try {
        firing = r.step(t, v);
      } catch (err) {
        this.quarantineRule(r, t, err);
        continue;
      }
      if (firing === null) continue;
      if (firing.kind === 'FN') (fn ??= []).push(firing);
      else (fp ??= []).push(firing);
      this.metrics?.firings.labels(firing.ruleId, firing.kind).inc();
    }
    const base = this.base?.update(t, v);
    const baseLabel = base?.isAnomaly ?? false;
    // An alarm an FP rule removes was never raised: it must not start the base's rest period, so
    // the same event can still be detected a few samples later (base/rest.ts).
    if (baseLabel && fp !== undefined) this.base!.veto?.();
    const isAnomaly = combineLabels(baseLabel, fp !== undefined, fn !== undefined);
    if (isAnomaly) this.metrics?.anomalies.inc();
    // One object shape for every decision (base always present, maybe undefined): consumers stay monomorphic.
    const d = scratch;
    d.t = t;
    d.value = v;
    d.status = 'accepted';
    d.isAnomaly = isAnomaly;
    d.base = base;
    d.fn = fn ?? none;
    d.fp = fp ?? none;
    d.suppressed = baseLabel && fp !== undefined;
    return d;
  }

  /** A rule quarantined on this series: tells `onRuleError` (a subclass may report it otherwise). */
  protected reportFault(fault: RuleFault): void {
    this.onRuleError(fault);
  }

  private quarantineRule(r: RuleRunner, t: number, err: unknown): void {
    r.quarantine = { t, error: err };
    this.stats.faults++;
    this.stats.quarantined++;
    this.metrics?.faults.labels(r.rule.spec.id).inc();
    this.metrics?.quarantined.inc();
    const message = `rule ${r.rule.spec.id}@${r.rule.version} quarantined at t=${t}: ${describeError(err)}`;
    try {
      this.reportFault({ ruleId: r.rule.spec.id, ruleVersion: r.rule.version, t, error: err, message });
    } catch {
      // A failing logger must not stop detection.
    }
  }
}
