/**
 * NAB protocol: run an unsupervised scoring detector over the whole corpus, pick each profile's
 * threshold by NAB's corpus-wide sweep, and report normalized scores (0 = never fires,
 * 100 = detects every window on its first row, no false alarms).
 */
import type { LabelledSeries } from '../data/series.ts';
import {
  NAB_PROBATION_PERCENT,
  NAB_PROFILES,
  NAB_PROFILE_NAMES,
  checkScores,
  nabLayout,
  nabNormalize,
  nabNullRaw,
  nabPerfectRaw,
  nabScoreDetections,
  nabSweep,
  thresholdScores,
} from '../metrics/nab.ts';
import type { NabFileScore, NabProfileName } from '../metrics/nab.ts';
import type { ScoringDetector } from './detector.ts';
import type { NabLocoResult } from './loco.ts';

export interface NabProfileResult {
  /** Normalized score (null only for a corpus without windows). */
  score: number | null;
  raw: number;
  threshold: number;
  nullRaw: number;
  perfectRaw: number;
}

export interface NabSeriesResult {
  name: string;
  rows: number;
  windows: number;
  /** Per profile: raw score at the corpus threshold, counts and detected windows. */
  profiles: Record<NabProfileName, NabFileScore & { detections: number }>;
}

export interface NabEvalResult {
  protocol: 'nab';
  detector: string;
  summary: Record<NabProfileName, number | null>;
  profiles: Record<NabProfileName, NabProfileResult>;
  series: NabSeriesResult[];
  rows: number;
  windows: number;
  detectMs: number;
  scoreMs: number;
  /** With `eval --loco`: the leave-one-category-out figures (eval/loco.ts). */
  loco?: NabLocoResult;
}

export interface NabEvalOptions {
  probationPercent?: number;
  onProgress?: (done: number, total: number, name: string) => void;
  signal?: AbortSignal;
}

export function runNabEval(corpus: readonly LabelledSeries[], detector: ScoringDetector, opts: NabEvalOptions = {}): NabEvalResult {
  const pp = opts.probationPercent ?? NAB_PROBATION_PERCENT;
  const t0 = performance.now();
  const scores: Float64Array[] = [];
  corpus.forEach((s, i) => {
    opts.signal?.throwIfAborted();
    const sc = detector.score(s);
    if (sc.length !== s.values.length) throw new Error(`detector ${detector.name} returned ${sc.length} scores for ${s.values.length} points of ${s.name}`);
    checkScores(`${detector.name} on ${s.name}`, sc);
    scores.push(sc);
    opts.onProgress?.(i + 1, corpus.length, s.name);
  });
  const t1 = performance.now();
  const layouts = corpus.map((s) => nabLayout(s.values.length, s.windows, pp));
  const costs = NAB_PROFILE_NAMES.map((p) => NAB_PROFILES[p]);
  const swept = nabSweep(layouts.map((layout, i) => ({ layout, scores: scores[i]! })), costs);
  const profiles = {} as Record<NabProfileName, NabProfileResult>;
  const summary = {} as Record<NabProfileName, number | null>;
  NAB_PROFILE_NAMES.forEach((p, k) => {
    const nullRaw = nabNullRaw(layouts, costs[k]!);
    const perfectRaw = nabPerfectRaw(layouts, costs[k]!);
    const score = nabNormalize(swept[k]!.raw, nullRaw, perfectRaw);
    profiles[p] = { score, raw: swept[k]!.raw, threshold: swept[k]!.threshold, nullRaw, perfectRaw };
    summary[p] = score;
  });
  const series = corpus.map((s, i) => {
    const per = {} as NabSeriesResult['profiles'];
    NAB_PROFILE_NAMES.forEach((p, k) => {
      const det = thresholdScores(scores[i]!, profiles[p].threshold);
      let detections = 0;
      for (const d of det) detections += d;
      per[p] = { ...nabScoreDetections(layouts[i]!, det, costs[k]!), detections };
    });
    return { name: s.name, rows: s.values.length, windows: s.windows.length, profiles: per };
  });
  return {
    protocol: 'nab',
    detector: detector.name,
    summary,
    profiles,
    series,
    rows: corpus.reduce((a, s) => a + s.values.length, 0),
    windows: corpus.reduce((a, s) => a + s.windows.length, 0),
    detectMs: Math.round(t1 - t0),
    scoreMs: Math.round(performance.now() - t1),
  };
}
