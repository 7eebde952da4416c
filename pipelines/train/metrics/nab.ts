/**
 * The Numenta Anomaly Benchmark score (Lavin & Ahmad 2015; NAB v1.x `sweeper.py`, `optimizer`,
 * `runner.normalize`), re-implemented from its definition.
 *
 * Per file of n rows with labelled windows:
 * - rows before the probationary period `min(floor(0.15 n), 0.15 * 5000)` are ignored entirely;
 * - a window with at least one detection scores `tpWeight * σs(-(end - i + 1) / width) / σs(-1)`
 *   for its FIRST detected row i (only the first counts); a window without any scores `-fnWeight`;
 * - a detection outside every window scores `fpWeight * σs((i - prevEnd) / (prevWidth - 1))`
 *   relative to the closest preceding window, or `-fpWeight` when no window precedes it;
 * - σs(x) = 2 / (1 + e^(5x)) - 1, and σs(x) = -1 for x >= 3.
 * Detections are `anomalyScore >= threshold`; the threshold is chosen per profile to maximise the
 * summed raw score over the whole corpus (NAB's optimizer), then
 * normalized = 100 * (raw - null) / (perfect - null), null = raw score of a detector that never
 * fires, perfect = tpWeight * (number of windows).
 */
import { InputError } from '../../core/errors.ts';
import type { IndexWindow } from '../data/series.ts';

export interface CostMatrix {
  tpWeight: number;
  fpWeight: number;
  fnWeight: number;
  tnWeight: number;
}

/** NAB's config/profiles.json (the file names the last two `reward_low_FP_rate` / `reward_low_FN_rate`). */
export const NAB_PROFILES = {
  standard: { tpWeight: 1.0, fpWeight: 0.11, fnWeight: 1.0, tnWeight: 1.0 },
  reward_low_FP: { tpWeight: 1.0, fpWeight: 0.22, fnWeight: 1.0, tnWeight: 1.0 },
  reward_low_FN: { tpWeight: 1.0, fpWeight: 0.11, fnWeight: 2.0, tnWeight: 1.0 },
} as const satisfies Record<string, CostMatrix>;

export type NabProfileName = keyof typeof NAB_PROFILES;
export const NAB_PROFILE_NAMES = Object.keys(NAB_PROFILES) as NabProfileName[];

export const NAB_PROBATION_PERCENT = 0.15;

export function probationLength(n: number, probationPercent: number = NAB_PROBATION_PERCENT): number {
  return Math.min(Math.floor(probationPercent * n), probationPercent * 5000);
}

export function scaledSigmoid(x: number): number {
  if (x >= 3.0) return -1.0;
  return 2 / (1 + Math.exp(5 * x)) - 1;
}

const MAX_TP = scaledSigmoid(-1.0);

/** Row classes in a layout. */
const PROBATION = -2;
const OUTSIDE = -1;

/**
 * Everything about a file that does not depend on the detector: which window each row is in and
 * the unweighted score a detection there would earn (TP rows: σs/σs(-1); FP rows: σs, ≤ 0).
 */
export interface NabLayout {
  length: number;
  probation: number;
  windows: IndexWindow[];
  /** Window index per row, -1 outside windows, -2 in the probationary period. */
  rowWindow: Int32Array;
  unweighted: Float64Array;
  /** Windows with at least one row after probation: those NAB counts as FN when missed. */
  scoredWindows: number;
}

export function nabLayout(length: number, windows: readonly IndexWindow[], probationPercent: number = NAB_PROBATION_PERCENT): NabLayout {
  const probation = probationLength(length, probationPercent);
  const rowWindow = new Int32Array(length).fill(OUTSIDE);
  const unweighted = new Float64Array(length);
  const ws = [...windows].sort((a, b) => a.start - b.start);
  for (let k = 0; k < ws.length; k++) {
    const w = ws[k]!;
    if (w.start < 0 || w.end >= length || w.end < w.start || (k > 0 && w.start <= ws[k - 1]!.end)) {
      throw new InputError(`NAB windows must be sorted, disjoint and inside [0, ${length}): got ${JSON.stringify(ws)}`);
    }
    const width = w.end - w.start + 1;
    for (let i = w.start; i <= w.end; i++) {
      rowWindow[i] = k;
      unweighted[i] = scaledSigmoid(-(w.end - i + 1) / width) / MAX_TP;
    }
  }
  let prev = -1;
  for (let i = 0; i < length; i++) {
    if (rowWindow[i] !== OUTSIDE) {
      prev = rowWindow[i]!;
      continue;
    }
    if (prev < 0) unweighted[i] = -1;
    else {
      const w = ws[prev]!;
      const width = w.end - w.start + 1;
      // NAB divides by (width - 1); a one-row window would divide by zero there, treat as far away.
      unweighted[i] = width > 1 ? scaledSigmoid((i - w.end) / (width - 1)) : -1;
    }
  }
  let scoredWindows = 0;
  for (const w of ws) if (w.end >= probation) scoredWindows++;
  for (let i = 0; i < Math.min(length, Math.ceil(probation)); i++) rowWindow[i] = PROBATION;
  return { length, probation, windows: ws, rowWindow, unweighted, scoredWindows };
}

export interface NabFileScore {
  score: number;
  /** Row counts after probation, as NAB's results files report them. */
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  windows: number;
  windowsDetected: number;
}

/** Raw NAB score of 0/1 detections on one file. */
export function nabScoreDetections(layout: NabLayout, detections: ArrayLike<number>, cost: CostMatrix): NabFileScore {
  if (detections.length !== layout.length) {
    throw new InputError(`NAB scoring: ${detections.length} detections for a file of ${layout.length} rows`);
  }
  const best = new Float64Array(layout.windows.length).fill(Number.NaN);
  let fpScore = 0;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let i = 0; i < layout.length; i++) {
    const k = layout.rowWindow[i]!;
    if (k === PROBATION) continue;
    const d = Boolean(detections[i]);
    if (k === OUTSIDE) {
      if (d) {
        fp++;
        fpScore += layout.unweighted[i]! * cost.fpWeight;
      } else tn++;
    } else if (d) {
      tp++;
      if (Number.isNaN(best[k]!)) best[k] = layout.unweighted[i]! * cost.tpWeight;
    } else fn++;
  }
  let score = fpScore;
  let detected = 0;
  for (let k = 0; k < layout.windows.length; k++) {
    if (layout.windows[k]!.end < layout.probation) continue;
    if (Number.isNaN(best[k]!)) score -= cost.fnWeight;
    else {
      score += best[k]!;
      detected++;
    }
  }
  return { score, tp, fp, fn, tn, windows: layout.scoredWindows, windowsDetected: detected };
}

export interface NabSweepInput {
  layout: NabLayout;
  /** Anomaly scores in [0, 1], one per row. */
  scores: ArrayLike<number>;
}

export interface NabSweepResult {
  threshold: number;
  raw: number;
}

/** Threshold meaning "nothing detected" (NAB starts its sweep at 1.1). */
export const NO_DETECTION_THRESHOLD = 1.1;

export function checkScores(name: string, scores: ArrayLike<number>): void {
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (!(s >= 0 && s <= 1)) throw new InputError(`${name}: anomaly score at row ${i} is ${s}, expected a number in [0, 1]`);
  }
}

/**
 * NAB's threshold optimisation: sweeps every distinct anomaly score over the whole corpus from the
 * highest down and returns, per cost matrix, the threshold with the best summed raw score (the
 * highest such threshold on ties, as NAB's stable sort does). O(N log N) for N rows.
 */
export function nabSweep(files: readonly NabSweepInput[], costs: readonly CostMatrix[]): NabSweepResult[] {
  let total = 0;
  for (const f of files) {
    if (f.scores.length !== f.layout.length) throw new InputError(`NAB sweep: ${f.scores.length} scores for a file of ${f.layout.length} rows`);
    for (let i = 0; i < f.layout.length; i++) if (f.layout.rowWindow[i] !== PROBATION) total++;
  }
  // Flatten scorable rows: score, unweighted contribution, global window id (or -1).
  const score = new Float64Array(total);
  const unweighted = new Float64Array(total);
  const win = new Int32Array(total);
  let windowCount = 0;
  let fnWindows = 0;
  let r = 0;
  for (const f of files) {
    for (let i = 0; i < f.layout.length; i++) {
      const k = f.layout.rowWindow[i]!;
      if (k === PROBATION) continue;
      score[r] = f.scores[i]!;
      unweighted[r] = f.layout.unweighted[i]!;
      win[r] = k === OUTSIDE ? -1 : windowCount + k;
      r++;
    }
    windowCount += f.layout.windows.length;
    fnWindows += f.layout.scoredWindows;
  }
  const order = new Uint32Array(total);
  for (let i = 0; i < total; i++) order[i] = i;
  order.sort((a, b) => score[b]! - score[a]! || a - b);

  return costs.map((cost) => {
    const best = new Float64Array(windowCount).fill(Number.NaN);
    let raw = 0 - fnWindows * cost.fnWeight;
    let bestRaw = raw;
    let bestThreshold = NO_DETECTION_THRESHOLD;
    for (let j = 0; j < total; ) {
      const t = score[order[j]!]!;
      // Apply every row with this score before reading the total: the threshold is inclusive.
      while (j < total && score[order[j]!] === t) {
        const row = order[j]!;
        const k = win[row]!;
        if (k < 0) raw += unweighted[row]! * cost.fpWeight;
        else {
          const v = unweighted[row]! * cost.tpWeight;
          const old = best[k]!;
          if (Number.isNaN(old)) {
            raw += cost.fnWeight + v;
            best[k] = v;
          } else if (v > old) {
            raw += v - old;
            best[k] = v;
          }
        }
        j++;
      }
      if (raw > bestRaw) {
        bestRaw = raw;
        bestThreshold = t;
      }
    }
    return { threshold: bestThreshold, raw: bestRaw };
  });
}

export function nabNullRaw(layouts: readonly NabLayout[], cost: CostMatrix): number {
  return 0 - cost.fnWeight * layouts.reduce((a, l) => a + l.scoredWindows, 0);
}

export function nabPerfectRaw(layouts: readonly NabLayout[], cost: CostMatrix): number {
  return cost.tpWeight * layouts.reduce((a, l) => a + l.windows.length, 0);
}

/** 100 * (raw - null) / (perfect - null); null when the corpus has no windows. */
export function nabNormalize(raw: number, nullRaw: number, perfectRaw: number): number | null {
  if (perfectRaw === nullRaw) return null;
  return (100 * (raw - nullRaw)) / (perfectRaw - nullRaw);
}

/** Detections (0/1) from scores at a threshold, NAB's `score >= threshold`. */
export function thresholdScores(scores: ArrayLike<number>, threshold: number): Uint8Array {
  const out = new Uint8Array(scores.length);
  for (let i = 0; i < scores.length; i++) out[i] = scores[i]! >= threshold ? 1 : 0;
  return out;
}
