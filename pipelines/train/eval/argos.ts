/**
 * Argos protocol: per series, the first 70% is the train split (labels visible to whatever trains
 * rules or tunes the base detector), the last 30% the test split. Reported on the test split for
 * `base`, `rules` and `base+rules`: point F1, point-adjusted F1 and event F1 (each labelled
 * segment once, see metrics/event.ts). Truth is NAB-style windows turned into point labels.
 */
import type { LabelledSeries } from '../data/series.ts';
import { windowsToPointLabels } from '../data/series.ts';
import { ARGOS_TRAIN_FRACTION, splitIndex } from '../data/split.ts';
import { eventMetrics, pointAdjustedMetrics } from '../metrics/event.ts';
import { pointMetrics } from '../metrics/point.ts';
import type { PrfScores } from '../metrics/point.ts';
import { combineWithRules } from './detector.ts';
import type { ArgosContext, BaseFn, LabelFn, RuleSet, ScoringDetector } from './detector.ts';

export type ArgosVariant = 'base' | 'rules' | 'base+rules';
export const ARGOS_VARIANTS: ArgosVariant[] = ['base', 'rules', 'base+rules'];

export interface VariantScores {
  point: PrfScores;
  pointAdjusted: PrfScores;
  event: PrfScores;
}

export interface ArgosSeriesResult {
  name: string;
  trainLength: number;
  testLength: number;
  testEvents: number;
  ruleCount: { fn: number; fp: number };
  /** `rules` is null when no rule was supplied for the series: nothing to report, not a zero. */
  variants: Record<ArgosVariant, VariantScores | null>;
}

export interface MeanF1 {
  pointF1: number | null;
  pointAdjustedF1: number | null;
  eventF1: number | null;
  /** Series in the means: those with at least one labelled event in the test split. */
  seriesCounted: number;
  /** Series without a labelled test event (left out of the means) on which this variant raised alarms. */
  cleanSeriesWithAlarms: number;
}

export interface ArgosEvalResult {
  protocol: 'argos';
  detector: string;
  trainFraction: number;
  summary: Record<ArgosVariant, MeanF1>;
  notes: string[];
  series: ArgosSeriesResult[];
  runtimeMs: number;
}

export interface ArgosDetectors {
  name: string;
  /** Labels, or the detector's trace (alarm candidates + rest) so rules combine as online. */
  base: BaseFn;
  /** Trains rules for a series from its train split; absent → no rules. */
  trainRules?: (series: LabelledSeries, ctx: ArgosContext) => RuleSet | Promise<RuleSet>;
}

export interface ArgosEvalOptions {
  trainFraction?: number;
  onProgress?: (done: number, total: number, name: string) => void;
  signal?: AbortSignal;
}

function scoreVariant(pred: Uint8Array, truth: Uint8Array): VariantScores {
  return { point: pointMetrics(pred, truth), pointAdjusted: pointAdjustedMetrics(pred, truth), event: eventMetrics(pred, truth) };
}

function mean(xs: Array<number | null>): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;
}

export async function runArgosEval(corpus: readonly LabelledSeries[], dets: ArgosDetectors, opts: ArgosEvalOptions = {}): Promise<ArgosEvalResult> {
  const trainFraction = opts.trainFraction ?? ARGOS_TRAIN_FRACTION;
  const t0 = performance.now();
  const series: ArgosSeriesResult[] = [];
  for (const [idx, s] of corpus.entries()) {
    opts.signal?.throwIfAborted();
    const n = s.values.length;
    const { cut } = splitIndex(n, trainFraction);
    const truth = windowsToPointLabels(s.windows, n);
    const ctx: ArgosContext = { trainEnd: cut, trainLabels: truth.slice(0, cut) };
    const full = (f: LabelFn, what: string): Uint8Array => {
      const l = f(s, ctx);
      if (l.length !== n) throw new Error(`${what} returned ${l.length} labels for ${n} points of ${s.name}`);
      return l;
    };
    const baseOut = dets.base(s, ctx);
    const baseLen = baseOut instanceof Uint8Array ? baseOut.length : baseOut.candidates.length;
    if (baseLen !== n) throw new Error(`base detector returned ${baseLen} labels for ${n} points of ${s.name}`);
    const base = combineWithRules(baseOut, [], []);
    const rules = dets.trainRules ? await dets.trainRules(s, ctx) : { fnRules: [], fpRules: [] };
    const fnL = rules.fnRules.map((r, i) => full(r, `FN rule ${i}`));
    const fpL = rules.fpRules.map((r, i) => full(r, `FP rule ${i}`));
    const testTruth = truth.subarray(cut);
    const test = (l: Uint8Array) => scoreVariant(l.subarray(cut), testTruth);
    const hasRules = fnL.length + fpL.length > 0;
    // Rules alone: what the FN rules flag (FP rules only ever remove, so alone they flag nothing).
    const rulesOnly = combineWithRules(new Uint8Array(n), [], fnL);
    let testEvents = 0;
    for (const w of s.windows) if (w.end >= cut) testEvents++;
    series.push({
      name: s.name,
      trainLength: cut,
      testLength: n - cut,
      testEvents,
      ruleCount: { fn: fnL.length, fp: fpL.length },
      variants: {
        base: test(base),
        rules: hasRules ? test(rulesOnly) : null,
        'base+rules': test(combineWithRules(baseOut, fpL, fnL)),
      },
    });
    opts.onProgress?.(idx + 1, corpus.length, s.name);
  }
  const summary = summarizeArgos(series);
  const notes: string[] = [];
  const withRules = series.filter((s) => s.variants.rules !== null).length;
  if (withRules === 0) notes.push('rules: no rules were supplied (rule training is not plugged in), so `rules` has no scores and `base+rules` equals `base`.');
  else if (withRules < series.length) notes.push(`rules: only ${withRules} of ${series.length} series had rules; means cover those.`);
  const clean = series.filter((s) => s.testEvents === 0).length;
  notes.push(`F1 means cover the ${series.length - clean} series with a labelled event in the test split; ${clean} series without one are counted apart (cleanSeriesWithAlarms).`);
  return { protocol: 'argos', detector: dets.name, trainFraction, summary, notes, series, runtimeMs: Math.round(performance.now() - t0) };
}

/**
 * Means over series. They cover the same series for every detector: those with a labelled test
 * event (where F1 is always defined). On the others F1 would be 0 for any alarm and undefined
 * otherwise, which would make means over different detectors cover different series; they are
 * counted apart.
 */
export function summarizeArgos(series: readonly ArgosSeriesResult[]): Record<ArgosVariant, MeanF1> {
  const summary = {} as Record<ArgosVariant, MeanF1>;
  for (const v of ARGOS_VARIANTS) {
    const vs = series.filter((s) => s.testEvents > 0).map((s) => s.variants[v]);
    const counted = vs.filter((x): x is VariantScores => x !== null);
    summary[v] = {
      pointF1: mean(counted.map((x) => x.point.f1)),
      pointAdjustedF1: mean(counted.map((x) => x.pointAdjusted.f1)),
      eventF1: mean(counted.map((x) => x.event.f1)),
      seriesCounted: counted.length,
      cleanSeriesWithAlarms: series.filter((s) => s.testEvents === 0 && (s.variants[v]?.event.fp ?? 0) > 0).length,
    };
  }
  return summary;
}

/** Base labels from a scoring detector: the threshold with the best event F1 on the train split. */
export const THRESHOLD_GRID = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999, 1];

export function labelsFromScores(detector: ScoringDetector, fallbackThreshold = 0.9): LabelFn {
  return (series, ctx) => {
    const scores = detector.score(series);
    const train = scores.subarray(0, ctx.trainEnd);
    let threshold = fallbackThreshold;
    if (ctx.trainLabels.includes(1)) {
      let best = -1;
      // From high to low, so ties keep the stricter threshold.
      for (const t of [...THRESHOLD_GRID].reverse()) {
        const pred = Uint8Array.from(train, (x) => (x >= t ? 1 : 0));
        const f1 = eventMetrics(pred, ctx.trainLabels).f1 ?? 0;
        if (f1 > best) {
          best = f1;
          threshold = t;
        }
      }
    }
    return Uint8Array.from(scores, (x) => (x >= threshold ? 1 : 0));
  };
}
