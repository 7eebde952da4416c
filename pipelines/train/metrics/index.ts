/**
 * What the rule-training loop calls: all Argos metrics of a 0/1 prediction against 0/1 truth in
 * one pass, plus the individual metrics and NAB scoring.
 */
import { eventMetrics, pointAdjustedMetrics } from './event.ts';
import type { EventOptions } from './event.ts';
import { pointMetrics } from './point.ts';
import type { PrfScores } from './point.ts';

export interface LabelScores {
  point: PrfScores;
  pointAdjusted: PrfScores;
  /** Argos's metric: each labelled segment once, runs of outside alarms as one FP each. */
  event: PrfScores;
}

export function evaluateLabels(pred: ArrayLike<number>, truth: ArrayLike<number>, opts: EventOptions = {}): LabelScores {
  return { point: pointMetrics(pred, truth), pointAdjusted: pointAdjustedMetrics(pred, truth, opts), event: eventMetrics(pred, truth, opts) };
}

export { pointMetrics, pointConfusion, prf } from './point.ts';
export type { Confusion, PrfScores } from './point.ts';
export { eventMetrics, pointAdjust, pointAdjustedMetrics } from './event.ts';
export type { EventOptions } from './event.ts';
export * from './nab.ts';
