/**
 * What the evaluation protocols need from a detector, kept as plain functions so the training
 * loop can inject trained rules and pipelines/detect's streaming detectors can be adapted.
 */
import type { Series } from '../data/series.ts';

/** NAB protocol: unsupervised anomaly scores in [0, 1], one per point. */
export interface ScoringDetector {
  name: string;
  score(series: Series): Float64Array;
  /**
   * The detector's own 0/1 decisions, when it makes them (pipelines/detect's base detectors do,
   * with their threshold and cooldown); the Argos protocol uses these as `base` labels.
   */
  labels?(series: Series): Uint8Array;
}

/** What a labelling function may see in the Argos protocol: labels of the train split only. */
export interface ArgosContext {
  /** Index of the first test point; points [0, trainEnd) are the train split. */
  trainEnd: number;
  /** 0/1 truth for the train split (length trainEnd). */
  trainLabels: Uint8Array;
}

/** 0/1 labels for EVERY point of the series (the protocol scores the test part). */
export type LabelFn = (series: Series, ctx: ArgosContext) => Uint8Array;

/** Argos's aggregator input: FN rules may add anomalies, FP rules may only remove them. */
export interface RuleSet {
  fnRules: LabelFn[];
  fpRules: LabelFn[];
}

export const NO_RULES: RuleSet = { fnRules: [], fpRules: [] };

/** The shape of pipelines/detect's streaming base detectors (`BaseDetector.update(t, v)`). */
export interface StreamingDetectorLike {
  update(t: number, v: number): { score: number; isAnomaly: boolean };
}

/**
 * Runs a fresh streaming detector over a series; scores are clamped into [0, 1] unless mapped.
 * Rows whose timestamp does not increase are not fed to it (score 0, label 0), as the detect
 * stage's SeriesDetector drops out-of-order and duplicate samples; the output stays positional.
 */
export function streamingScores(
  make: () => StreamingDetectorLike,
  series: Series,
  toUnit: (score: number) => number = (s) => Math.min(1, Math.max(0, s)),
): { scores: Float64Array; labels: Uint8Array; dropped: number } {
  const d = make();
  const n = series.values.length;
  const scores = new Float64Array(n);
  const labels = new Uint8Array(n);
  let last = -Infinity;
  let dropped = 0;
  for (let i = 0; i < n; i++) {
    const t = series.timestamps[i]!;
    if (!(t > last)) {
      dropped++;
      continue;
    }
    last = t;
    const r = d.update(t, series.values[i]!);
    const u = toUnit(r.score);
    scores[i] = Number.isFinite(u) ? Math.min(1, Math.max(0, u)) : 0;
    labels[i] = r.isAnomaly ? 1 : 0;
  }
  return { scores, labels, dropped };
}

/** Argos deployment: FP rules first (min with base), then FN rules (max). */
export function combineWithRules(base: Uint8Array, fpLabels: readonly Uint8Array[], fnLabels: readonly Uint8Array[]): Uint8Array {
  const out = Uint8Array.from(base);
  for (const fp of fpLabels) for (let i = 0; i < out.length; i++) out[i] = Math.min(out[i]!, fp[i]!);
  for (const fn of fnLabels) for (let i = 0; i < out.length; i++) out[i] = Math.max(out[i]!, fn[i]!);
  return out;
}
