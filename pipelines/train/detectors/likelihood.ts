/**
 * Rolling z-score likelihood scorer: surprise = distance from a rolling mean in rolling standard
 * deviations, turned into an anomaly likelihood, with spatial novelty and a rest period. It needs
 * no knowledge of the value range, so it also suits streaming use; on NAB it scores below the
 * context scorer (see README).
 */
import { AnomalyLikelihood, RestPeriod, SpatialNovelty } from './anomaly-likelihood.ts';
import { RollingStats } from './rolling.ts';

export interface LikelihoodOptions {
  /** Rolling window for the value's mean / std. */
  window: number;
  shortWindow: number;
  historyWindow: number;
  learningPeriod: number;
  /** <= 0 disables spatial novelty. */
  spatialTolerance: number;
  restPeriod: number;
  restAbove: number;
}

export const DEFAULT_LIKELIHOOD: LikelihoodOptions = {
  window: 200,
  shortWindow: 10,
  historyWindow: 2000,
  learningPeriod: 300,
  spatialTolerance: 0.05,
  restPeriod: 100,
  restAbove: 0.5,
};

export class LikelihoodScorer {
  private readonly values: RollingStats;
  private readonly likelihood: AnomalyLikelihood;
  private readonly spatial: SpatialNovelty;
  private readonly rest: RestPeriod;

  constructor(o: LikelihoodOptions = DEFAULT_LIKELIHOOD) {
    this.values = new RollingStats(o.window);
    this.likelihood = new AnomalyLikelihood(o.shortWindow, o.historyWindow, o.learningPeriod);
    this.spatial = new SpatialNovelty(o.spatialTolerance, o.learningPeriod);
    this.rest = new RestPeriod(o.restPeriod, o.restAbove);
  }

  update(v: number): number {
    const novel = this.spatial.update(v);
    const sd = Math.max(this.values.std(), 1e-9);
    const raw = this.values.count < 2 ? 0 : Math.abs(v - this.values.mean()) / sd;
    this.values.push(v);
    const score = this.likelihood.update(raw);
    return this.rest.update(novel ? 1 : score);
  }
}

export function likelihoodScores(values: ArrayLike<number>, o: LikelihoodOptions = DEFAULT_LIKELIHOOD): Float64Array {
  const s = new LikelihoodScorer(o);
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = s.update(values[i]!);
  return out;
}
