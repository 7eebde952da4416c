/**
 * What the evaluation protocols need from a detector, kept as plain functions so the training
 * loop can inject trained rules and pipelines/detect's streaming detectors can be adapted.
 */
import { combineTrace, traceOfLabels, type BaseTrace } from '../../detect/index.ts';
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
  /**
   * The detector's alarm candidates and rest period (pipelines/detect/base/rest.ts), so the Argos
   * protocol and the trainer combine rules with it exactly as SeriesDetector does online (an
   * alarm an FP rule vetoes starts no rest). Detectors without it are combined from `labels`.
   */
  trace?(series: Series): BaseTrace;
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

/** A base detector's output for the Argos protocol: plain labels (no rest), or its trace. */
export type BaseOutput = Uint8Array | BaseTrace;
export type BaseFn = (series: Series, ctx: ArgosContext) => BaseOutput;

export function asTrace(b: BaseOutput): BaseTrace {
  return b instanceof Uint8Array ? traceOfLabels(b) : b;
}

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

/**
 * Argos deployment as SeriesDetector runs it: FP rules first (they remove base alarms; a removed
 * alarm starts no rest period), then FN rules (they add). `fpLabels` are 0 where the FP rule
 * vetoes (1 elsewhere), `fnLabels` 1 where the FN rule fires.
 */
export function combineWithRules(base: BaseOutput, fpLabels: readonly Uint8Array[], fnLabels: readonly Uint8Array[]): Uint8Array {
  const trace = asTrace(base);
  const n = trace.candidates.length;
  let veto: Uint8Array | null = null;
  for (const fp of fpLabels) {
    veto ??= new Uint8Array(n);
    for (let i = 0; i < n; i++) if (fp[i] === 0) veto[i] = 1;
  }
  let add: Uint8Array | null = null;
  for (const fn of fnLabels) {
    add ??= new Uint8Array(n);
    for (let i = 0; i < n; i++) if (fn[i]) add[i] = 1;
  }
  return combineTrace(trace, veto, add);
}
