/**
 * The base detector contract: a statistical detector that scores every sample, whose labels the
 * rules then correct (FP rules remove, FN rules add). Implementations expect strictly increasing
 * timestamps and finite values — SeriesDetector filters the rest before calling them.
 */
export interface BaseResult {
  /** How unusual the sample is, in the detector's own unit (robust z, residual sigmas); 0 while warming up. */
  score: number;
  isAnomaly: boolean;
  /** Why, in one sentence with the numbers that produced the score. */
  explanation: string;
  /** False during warm-up: the detector never flags before it has seen enough data. */
  ready: boolean;
}

export interface BaseDetector {
  readonly name: string;
  update(t: number, v: number): BaseResult;
}
