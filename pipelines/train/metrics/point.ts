/**
 * Point-wise confusion counts and precision / recall / F1 over 0/1 label arrays.
 * F1 is `null` when there is nothing to judge (no labelled point and no prediction): such a series
 * says nothing about the detector, and averaging a made-up 0 or 1 into a mean would bias it.
 */
import { InputError } from '../../core/errors.ts';

export interface Confusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export interface PrfScores extends Confusion {
  precision: number | null;
  recall: number | null;
  f1: number | null;
}

export function assertSameLength(pred: ArrayLike<number>, truth: ArrayLike<number>, what = 'labels'): void {
  if (pred.length !== truth.length) {
    throw new InputError(`${what}: predicted has ${pred.length} points but truth has ${truth.length}`);
  }
}

/** Precision, recall and F1 from counts, with the `null` convention above. */
export function prf(c: Confusion): PrfScores {
  const precision = c.tp + c.fp === 0 ? null : c.tp / (c.tp + c.fp);
  const recall = c.tp + c.fn === 0 ? null : c.tp / (c.tp + c.fn);
  let f1: number | null;
  if (c.tp + c.fp + c.fn === 0) f1 = null;
  else f1 = (2 * c.tp) / (2 * c.tp + c.fp + c.fn);
  return { ...c, precision, recall, f1 };
}

export function pointConfusion(pred: ArrayLike<number>, truth: ArrayLike<number>): Confusion {
  assertSameLength(pred, truth);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i] ? 1 : 0;
    const t = truth[i] ? 1 : 0;
    if (p && t) tp++;
    else if (p) fp++;
    else if (t) fn++;
    else tn++;
  }
  return { tp, fp, fn, tn };
}

/** Point precision / recall / F1: every point is judged on its own. */
export function pointMetrics(pred: ArrayLike<number>, truth: ArrayLike<number>): PrfScores {
  return prf(pointConfusion(pred, truth));
}
