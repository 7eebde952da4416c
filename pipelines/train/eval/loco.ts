/**
 * NAB leave-one-category-out (`eval --protocol nab --loco`): how a detector's settings carry over
 * to data they were not chosen on. Every point of a settings grid runs once over the corpus
 * (binary alarms, as deployed); then for each category C (the first folder of a series' path:
 * realKnownCause, realTweets, …) the point with the best summed raw NAB score on the OTHER
 * categories is chosen (per profile; ties: the earlier point, the default first) and C is scored
 * with it. The LOCO figure sums those raw scores over all categories and normalizes over the whole
 * corpus, exactly as NAB normalizes one run. A category is only the protocol's grouping: no
 * setting reads a series' name or path.
 */
import type { LabelledSeries } from '../data/series.ts';
import { NAB_PROBATION_PERCENT, NAB_PROFILES, NAB_PROFILE_NAMES, nabLayout, nabNormalize, nabNullRaw, nabPerfectRaw, nabScoreDetections } from '../metrics/nab.ts';
import type { NabProfileName } from '../metrics/nab.ts';

/** Settings grid of the default detector (`ensemble`); the first point is its defaults. */
export const ENSEMBLE_LOCO_GRID: ReadonlyArray<Readonly<Record<string, number>>> = (() => {
  const out: Record<string, number>[] = [];
  for (const threshold of [6, 5, 7])
    for (const residualThreshold of [8, 6, 10])
      for (const rest of [150, 100, 250])
        for (const levels of [6, 8]) out.push({ threshold, residualThreshold, rest, levels });
  return out;
})();

export interface LocoCategory {
  category: string;
  series: number;
  windows: number;
  /** Grid index chosen on the other categories, per profile. */
  chosen: Record<NabProfileName, number>;
  /** Raw NAB score of this category with the chosen point, per profile. */
  raw: Record<NabProfileName, number>;
}

export interface NabLocoResult {
  /** Leave-one-category-out normalized score per profile (the honest figure). */
  summary: Record<NabProfileName, number | null>;
  categories: LocoCategory[];
  /** Whole-corpus normalized score of every grid point (settings chosen on what is reported). */
  grid: Array<{ options: Record<string, number>; scores: Record<NabProfileName, number | null> }>;
  /** The grid point with the best whole-corpus score, per profile (tuned on NAB: shown as such). */
  tunedBest: Record<NabProfileName, { index: number; score: number | null }>;
  detectMs: number;
}

export interface LocoOptions {
  probationPercent?: number;
  onProgress?: (done: number, total: number, name: string) => void;
  signal?: AbortSignal;
}

export function categoryOf(name: string): string {
  const i = name.indexOf('/');
  return i < 0 ? '(top)' : name.slice(0, i);
}

/**
 * `labelsFor(options)` returns the binary alarm labeller of the detector with those settings.
 */
export function runNabLoco(
  corpus: readonly LabelledSeries[],
  labelsFor: (options: Record<string, number>) => (s: LabelledSeries) => Uint8Array,
  grid: ReadonlyArray<Readonly<Record<string, number>>>,
  opts: LocoOptions = {},
): NabLocoResult {
  const pp = opts.probationPercent ?? NAB_PROBATION_PERCENT;
  const layouts = corpus.map((s) => nabLayout(s.values.length, s.windows, pp));
  const cats = [...new Set(corpus.map((s) => categoryOf(s.name)))].sort();
  const catIndex = corpus.map((s) => cats.indexOf(categoryOf(s.name)));
  const P = NAB_PROFILE_NAMES.length;
  // raw[g][c][p]: raw score of grid point g on category c, profile p.
  const raw: Float64Array[][] = [];
  const t0 = performance.now();
  grid.forEach((point, g) => {
    opts.signal?.throwIfAborted();
    const label = labelsFor({ ...point });
    const perCat = cats.map(() => new Float64Array(P));
    corpus.forEach((s, i) => {
      const det = label(s);
      NAB_PROFILE_NAMES.forEach((p, k) => {
        perCat[catIndex[i]!]![k]! += nabScoreDetections(layouts[i]!, det, NAB_PROFILES[p]).score;
      });
    });
    raw.push(perCat);
    opts.onProgress?.(g + 1, grid.length, JSON.stringify(point));
  });
  const detectMs = Math.round(performance.now() - t0);
  const norm = (sum: number, p: NabProfileName) => nabNormalize(sum, nabNullRaw(layouts, NAB_PROFILES[p]), nabPerfectRaw(layouts, NAB_PROFILES[p]));
  const total = (g: number, k: number, skip = -1) => raw[g]!.reduce((a, c, ci) => (ci === skip ? a : a + c[k]!), 0);
  const categories: LocoCategory[] = cats.map((category, ci) => {
    const chosen = {} as Record<NabProfileName, number>;
    const r = {} as Record<NabProfileName, number>;
    NAB_PROFILE_NAMES.forEach((p, k) => {
      let best = 0;
      for (let g = 1; g < grid.length; g++) if (total(g, k, ci) > total(best, k, ci) + 1e-12) best = g;
      chosen[p] = best;
      r[p] = raw[best]![ci]![k]!;
    });
    const members = corpus.filter((_, i) => catIndex[i] === ci);
    return { category, series: members.length, windows: members.reduce((a, s) => a + s.windows.length, 0), chosen, raw: r };
  });
  const summary = {} as Record<NabProfileName, number | null>;
  const tunedBest = {} as NabLocoResult['tunedBest'];
  NAB_PROFILE_NAMES.forEach((p, k) => {
    summary[p] = norm(categories.reduce((a, c) => a + c.raw[p], 0), p);
    let best = 0;
    for (let g = 1; g < grid.length; g++) if (total(g, k) > total(best, k) + 1e-12) best = g;
    tunedBest[p] = { index: best, score: norm(total(best, k), p) };
  });
  const gridScores = grid.map((options, g) => {
    const scores = {} as Record<NabProfileName, number | null>;
    NAB_PROFILE_NAMES.forEach((p, k) => (scores[p] = norm(total(g, k), p)));
    return { options: { ...options }, scores };
  });
  return { summary, categories, grid: gridScores, tunedBest, detectMs };
}
