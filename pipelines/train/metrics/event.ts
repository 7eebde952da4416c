/**
 * Segment-aware metrics from the KPI / Yahoo literature, as used by Argos.
 *
 * - Point adjustment (Xu et al., Donut): if any point of a labelled segment is predicted, every
 *   point of that segment counts as predicted; then point-wise P/R/F1.
 * - Event level ("squeeze", Argos): each labelled segment is one event, a TP if any of its points
 *   is predicted (within `maxDelay` points of its start when given) and an FN otherwise. Predicted
 *   points outside labelled segments are grouped into runs of consecutive points and each run is
 *   one FP event: a detector that holds an alarm for ten points made one wrong call, not ten,
 *   matching how a labelled segment counts once.
 */
import { labelSegments } from '../data/series.ts';
import { assertSameLength, prf } from './point.ts';
import type { PrfScores } from './point.ts';

export interface EventOptions {
  /** A segment counts as detected only if a prediction falls within its first `maxDelay + 1` points. */
  maxDelay?: number;
}

function detectedSegment(pred: ArrayLike<number>, start: number, end: number, maxDelay: number | undefined): boolean {
  const last = maxDelay === undefined ? end : Math.min(end, start + maxDelay);
  for (let i = start; i <= last; i++) if (pred[i]) return true;
  return false;
}

/** Predictions after point adjustment. */
export function pointAdjust(pred: ArrayLike<number>, truth: ArrayLike<number>, opts: EventOptions = {}): Uint8Array {
  assertSameLength(pred, truth);
  const out = new Uint8Array(pred.length);
  for (let i = 0; i < pred.length; i++) out[i] = pred[i] ? 1 : 0;
  for (const s of labelSegments(truth)) {
    if (detectedSegment(pred, s.start, s.end, opts.maxDelay)) out.fill(1, s.start, s.end + 1);
    else if (opts.maxDelay !== undefined) out.fill(0, s.start, s.end + 1);
  }
  return out;
}

/** Point-wise P/R/F1 after point adjustment. */
export function pointAdjustedMetrics(pred: ArrayLike<number>, truth: ArrayLike<number>, opts: EventOptions = {}): PrfScores {
  const adj = pointAdjust(pred, truth, opts);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let i = 0; i < adj.length; i++) {
    const t = truth[i] ? 1 : 0;
    if (adj[i] && t) tp++;
    else if (adj[i]) fp++;
    else if (t) fn++;
    else tn++;
  }
  return prf({ tp, fp, fn, tn });
}

/** Event-level P/R/F1 (counts are events, `tn` is always 0). */
export function eventMetrics(pred: ArrayLike<number>, truth: ArrayLike<number>, opts: EventOptions = {}): PrfScores {
  assertSameLength(pred, truth);
  let tp = 0;
  let fn = 0;
  for (const s of labelSegments(truth)) {
    if (detectedSegment(pred, s.start, s.end, opts.maxDelay)) tp++;
    else fn++;
  }
  let fp = 0;
  let inRun = false;
  for (let i = 0; i < pred.length; i++) {
    const outsideAlarm = Boolean(pred[i]) && !truth[i];
    if (outsideAlarm && !inRun) fp++;
    inRun = outsideAlarm;
  }
  return prf({ tp, fp, fn, tn: 0 });
}
