/**
 * Range rules: FN rules at the edge of what a series' training data calls normal.
 *
 * On NAB-like data a labelled anomaly is often simply a value the series never reached before
 * (a new high, a drop to a new low), and a base detector that scores deviations from a recent
 * window misses it once the window has caught up. `value > hi` with hi just beyond every normal
 * value of the fit split fires on no normal fit row by construction, so its evidence is the whole
 * fit split rather than one labelled example; the validation split then has to agree (no alarm on
 * any of its normal rows) before it is published. The same text an operator would write after
 * looking at the series' range, and it reads as such in an alert.
 */
import { acceptedRows } from './features.ts';
import { niceBeyond } from './synthesizer.ts';

export type RangeSide = 'above' | 'below';

export interface RangeCandidate {
  side: RangeSide;
  /** The extreme of the normal fit rows the bound lies just beyond. */
  extreme: number;
  bound: number;
  expr: string;
  description: string;
}

function fmt(x: number): string {
  return String(Number(x.toPrecision(6)));
}

/**
 * Candidates from rows [0, fitEnd) that the rule engine would evaluate and that lie outside
 * labelled windows. None when fewer than `minRows` such rows exist (too little to call a range).
 */
export function rangeCandidates(
  timestamps: ArrayLike<number>,
  values: ArrayLike<number>,
  truth: ArrayLike<number>,
  fitEnd: number,
  mode: 'above' | 'both',
  minRows = 100,
  recent = 0,
): RangeCandidate[] {
  let hi = -Infinity;
  let lo = Infinity;
  let n = 0;
  for (const r of acceptedRows(timestamps, values, fitEnd)) {
    if (truth[r]) continue;
    const v = values[r]!;
    hi = Math.max(hi, v);
    lo = Math.min(lo, v);
    n++;
  }
  if (n < minRows) return [];
  const out: RangeCandidate[] = [];
  const up = niceBeyond(hi, false);
  out.push({
    side: 'above',
    extreme: hi,
    bound: up,
    expr: `value > ${fmt(up)}${recent > 0 ? ` and value >= max(${recent} samples)` : ''}`,
    description: `value above ${fmt(up)}, higher than every normal value of the training data (its maximum outside labelled anomalies was ${fmt(hi)})`,
  });
  if (mode === 'both') {
    const down = niceBeyond(lo, true);
    out.push({
      side: 'below',
      extreme: lo,
      bound: down,
      expr: `value < ${fmt(down)}${recent > 0 ? ` and value <= min(${recent} samples)` : ''}`,
      description: `value below ${fmt(down)}, lower than every normal value of the training data (its minimum outside labelled anomalies was ${fmt(lo)})`,
    });
  }
  return out;
}

/** Rows in [from, to) where `fired` is 1 outside labelled windows. */
export function alarmsOnNormalRows(fired: ArrayLike<number>, truth: ArrayLike<number>, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (fired[i] && !truth[i]) n++;
  return n;
}
