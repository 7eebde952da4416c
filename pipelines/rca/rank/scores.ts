/**
 * What every ranking method starts from: each series' anomaly model fitted on normal data, its
 * score at the analysed row, the choice of that row (the first row at or after the incident start
 * where the target is anomalous, as the PetShop protocol searches forward), and paths.
 */
import { rankSpec } from '../spec.ts';
import type { Frame } from '../frame.ts';
import { splitNodeId } from '../../graph/index.ts';
import type { GraphIndex } from '../../graph/index.ts';
import { quantileScale, type AnomalyModelEx } from './robust.ts';
import { anomalyScore, fitAnomalyModel, metricDirection } from './anomaly.ts';

export interface RankOptions {
  /** Target must score at least this (robust z, bad direction) for anything to be reported. */
  targetThreshold: number;
  /**
   * …and the incident needs one strong signal: the target or one of its anomalous causal
   * ancestors must score at least this. A mildly anomalous symptom with a strongly anomalous cause
   * upstream is an incident; a mild wobble of the symptom alone is not.
   */
  evidenceThreshold: number;
  /** A non-target node is anomalous from this score on. */
  nodeThreshold: number;
  /** hybrid: a component is anomalous when its strongest series reaches this. */
  componentThreshold: number;
  /** hybrid: an anomalous component upstream explains another only when its evidence is at least this share of the other's. */
  explainRatio: number;
  /** hybrid: scores compared in the explain test only up to this cap (0: none). */
  explainCap: number;
  /** hybrid: a series in the graph counts with the smaller of its marginal score and its attribution residual. */
  residualEvidence: boolean;
  /** hybrid: a series is evidence only when it has a value in at least this share of the normal rows. */
  minSupport: number;
  /** hybrid: failure ratios with a request count are also compared as failed requests in the explain test. */
  countFailures: boolean;
  /** hybrid: a series counts with its score at the analysed row or the strongest it held on two consecutive rows since the incident start (windowPeaks). */
  windowEvidence: boolean;
  /** At most this many causes are returned. */
  maxCauses: number;
  /**
   * Which row of the incident window to analyse: the target's peak (clearest signal) or the first
   * row where it is anomalous (what an online detector sees first; the PetShop baseline's choice).
   */
  row: 'peak' | 'first';
  /**
   * Discount anomalies that were already there before the incident started: a non-target node's
   * score becomes its score at the analysed row minus its highest score in the window's rows
   * before the start row. A deviation that predates the symptom without causing it (a shifted
   * baseline, a long-running unrelated problem) is not news about this incident.
   */
  discountPreexisting: boolean;
}

export const defaultRankOptions: RankOptions = rankSpec.defaults() as RankOptions;

/** Merges and checks ranking options (rankSpec); every problem is named with its key (`rca.<key>`). */
export function validateRankOptions(o: Partial<RankOptions> = {}): RankOptions {
  const given = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return rankSpec.parse(given, 'rca') as RankOptions;
}

export interface NodeScores {
  models: Map<string, AnomalyModelEx>;
  /** Score per node at the analysed row. */
  at: Map<string, number>;
  row: number;
}

export function fitModels(normal: Frame, ids: Iterable<string>): Map<string, AnomalyModelEx> {
  const out = new Map<string, AnomalyModelEx>();
  for (const id of ids) {
    const vals = normal.series.get(id);
    if (!vals) continue;
    const m = fitAnomalyModel(vals);
    if (!m) continue;
    out.set(id, { ...m, ...quantileScale(vals, m) });
  }
  return out;
}

export function scoreOf(models: Map<string, AnomalyModelEx>, failure: Frame, id: string, row: number): number {
  const m = models.get(id);
  const v = failure.series.get(id)?.[row];
  if (!m || v === undefined) return 0;
  return scoreValue(m, v, metricDirection(splitNodeId(id).metric));
}

/** Robust z in the bad direction, using the one-sided quantile scale when MAD is 0. */
export function scoreValue(m: AnomalyModelEx, x: number, dir: ReturnType<typeof metricDirection>): number {
  if (!Number.isFinite(x)) return 0;
  const d = x - m.center;
  if (dir === 'up') return d <= 0 ? 0 : Math.min(1e6, d / m.upScale);
  if (dir === 'down') return d >= 0 ? 0 : Math.min(1e6, -d / m.downScale);
  return Math.min(1e6, Math.abs(d) / (d >= 0 ? m.upScale : m.downScale));
}

/**
 * Rows in [startRow, end) where the target is anomalous, in the order to try them: by the
 * target's score (peak first) or by time (first first).
 */
export function candidateRows(models: Map<string, AnomalyModelEx>, failure: Frame, target: string, startRow: number, threshold: number, mode: RankOptions['row'] = 'peak'): number[] {
  const rows: { r: number; s: number }[] = [];
  for (let r = Math.max(0, startRow); r < failure.timestamps.length; r++) {
    const s = scoreOf(models, failure, target, r);
    if (s >= threshold) rows.push({ r, s });
  }
  if (mode === 'peak') rows.sort((a, b) => b.s - a.s || a.r - b.r);
  return rows.map((x) => x.r);
}

/** Each series' highest score on `preRows` (none for `keep`): what `scoresAt` discounts. */
export function preIncidentPeaks(models: Map<string, AnomalyModelEx>, failure: Frame, preRows: readonly number[], keep?: string): Map<string, number> {
  const out = new Map<string, number>();
  if (preRows.length === 0) return out;
  for (const id of models.keys()) if (id !== keep) out.set(id, Math.max(...preRows.map((r) => scoreOf(models, failure, id, r))));
  return out;
}

/** Each series' score at `row`, less its highest score on `preRows` (pass `before` when several rows share those). */
export function scoresAt(models: Map<string, AnomalyModelEx>, failure: Frame, row: number, preRows: readonly number[] = [], keep?: string, before = preIncidentPeaks(models, failure, preRows, keep)): Map<string, number> {
  const at = new Map<string, number>();
  for (const id of models.keys()) at.set(id, Math.max(0, scoreOf(models, failure, id, row) - (before.get(id) ?? 0)));
  return at;
}

/**
 * A series' evidence over the incident window (`windowEvidence`) and the row it is read at: by the
 * symptom's peak the faulty component may already be back (a frozen process resumed, a restarted
 * one answers again), so its evidence at the analysed row alone is gone.
 */
export type WindowPeaks = Map<string, { score: number; row: number }>;

/**
 * Each series' evidence on the rows from the incident start to the analysed row (each discounted,
 * like the analysed row's, by its highest score before the start): its score at the analysed row,
 * or the strongest score it held on `hold` consecutive rows before (the smallest of them, read at
 * that row), whichever is larger. Held, because one row is one scrape: a process that misses a
 * single scrape on a loaded machine reads as `up` 0 for a row, while a frozen or restarting one
 * stays down for several.
 */
export function windowPeaks(models: Map<string, AnomalyModelEx>, failure: Frame, start: number, row: number, discount: boolean, target: string, hold = 2): WindowPeaks {
  const from = Math.min(start, row);
  const preRows = discount ? Array.from({ length: from }, (_, i) => i) : [];
  // The discount is the same for every row of the window: computed once.
  const before = preIncidentPeaks(models, failure, preRows, target);
  const byRow: Map<string, number>[] = [];
  for (let r = from; r <= row; r++) byRow.push(scoresAt(models, failure, r, preRows, target, before));
  const out: WindowPeaks = new Map();
  for (const [id, s] of byRow.at(-1)!) out.set(id, { score: s, row });
  const h = Math.max(1, Math.floor(hold));
  for (let k = 0; k + h <= byRow.length; k++) {
    for (const id of byRow[k]!.keys()) {
      let held = Infinity;
      let at = k;
      for (let j = k; j < k + h; j++) {
        const s = byRow[j]!.get(id) ?? 0;
        if (s <= held) {
          held = s;
          at = j;
        }
      }
      const p = out.get(id)!;
      if (held > p.score) out.set(id, { score: held, row: from + at });
    }
  }
  return out;
}

/** Shortest directed path cause → … → target, preferring anomalous intermediate nodes. */
export function causalPath(idx: GraphIndex, from: string, to: string, anomalous: (id: string) => boolean): string[] {
  for (const strict of [true, false]) {
    const prev = new Map<string, string>([[from, '']]);
    const queue = [from];
    while (queue.length > 0) {
      const cur = queue.shift()!;
      if (cur === to) {
        const path = [to];
        let p = prev.get(to)!;
        while (p !== '') {
          path.unshift(p);
          p = prev.get(p)!;
        }
        return path;
      }
      for (const c of idx.children.get(cur) ?? []) {
        if (prev.has(c)) continue;
        if (strict && c !== to && !anomalous(c)) continue;
        prev.set(c, cur);
        queue.push(c);
      }
    }
  }
  return [from];
}

export function ancestors(idx: GraphIndex, id: string): Set<string> {
  const seen = new Set<string>();
  const stack = [id];
  while (stack.length > 0) {
    const cur = stack.pop()!;
    for (const p of idx.parents.get(cur) ?? []) {
      if (seen.has(p)) continue;
      seen.add(p);
      stack.push(p);
    }
  }
  seen.delete(id);
  return seen;
}

export { anomalyScore };
