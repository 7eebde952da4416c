/**
 * A streaming anomaly scorer tuned for NAB-style scoring, O(1) per point:
 *
 * 1. raw surprise: distance of the value from a rolling mean in rolling standard deviations
 *    (floored so flat series do not divide by zero);
 * 2. anomaly likelihood (as Numenta's HTM detector does): a short moving average of the raw
 *    surprise, compared with the distribution of that average over a long history; the Gaussian
 *    tail probability becomes a log-scaled score, so only very unlikely points approach 1;
 * 3. spatial novelty: a value well outside everything seen so far scores 1;
 * 4. suppression: after a high score, the following points are damped, because NAB counts only
 *    the first detection of a window and charges every later false alarm.
 *
 * Output is a probability-like score in [0, 1] per point; thresholding is left to the caller
 * (NAB's sweep picks one threshold for the whole corpus).
 */
import { RollingStats, normalTail } from './rolling.ts';

export interface LikelihoodOptions {
  /** Rolling window for the value's mean / std. */
  window: number;
  /** Moving average of raw surprise fed to the likelihood. */
  shortWindow: number;
  /** History of averaged surprise the likelihood compares against. */
  historyWindow: number;
  /** Points before the likelihood speaks (score 0 until then). */
  learningPeriod: number;
  /** Fraction of the seen value range a new extreme must pass to count as spatial novelty; <= 0 disables. */
  spatialTolerance: number;
  /** Score at or above which suppression starts. */
  suppressAbove: number;
  /** Points damped after a suppressing score. */
  suppressFor: number;
  /** Multiplier applied to scores while suppressed. */
  suppressFactor: number;
}

export const DEFAULT_LIKELIHOOD: LikelihoodOptions = {
  window: 60,
  shortWindow: 10,
  historyWindow: 2000,
  learningPeriod: 300,
  spatialTolerance: 0.05,
  suppressAbove: 0.5,
  suppressFor: 200,
  suppressFactor: 0,
};

const LOG_FLOOR = Math.log(1e-10);

export class LikelihoodScorer {
  private readonly values: RollingStats;
  private readonly raw: RollingStats;
  private readonly history: RollingStats;
  private seen = 0;
  private min = Infinity;
  private max = -Infinity;
  private suppressLeft = 0;

  constructor(private readonly o: LikelihoodOptions = DEFAULT_LIKELIHOOD) {
    this.values = new RollingStats(o.window);
    this.raw = new RollingStats(o.shortWindow);
    this.history = new RollingStats(o.historyWindow);
  }

  update(v: number): number {
    const o = this.o;
    this.seen++;
    const range = this.max - this.min;
    const spatial =
      o.spatialTolerance > 0 && this.seen > o.learningPeriod && range > 0 && (v > this.max + o.spatialTolerance * range || v < this.min - o.spatialTolerance * range);
    const sd = Math.max(this.values.std(), 1e-3 * Math.max(range, Math.abs(this.values.mean()) * 1e-3, 1e-9));
    const raw = this.values.count < 2 ? 0 : Math.abs(v - this.values.mean()) / sd;
    this.values.push(v);
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    this.raw.push(raw);
    const avg = this.raw.mean();
    let score = 0;
    if (this.seen > o.learningPeriod && this.history.count > 10) {
      const sigma = Math.max(this.history.std(), 1e-6);
      const tail = normalTail((avg - this.history.mean()) / sigma);
      score = Math.min(1, Math.max(0, Math.log(Math.max(tail, 1e-10)) / LOG_FLOOR));
    }
    this.history.push(avg);
    if (spatial) score = 1;
    if (this.suppressLeft > 0) {
      this.suppressLeft--;
      score *= o.suppressFactor;
    } else if (score >= o.suppressAbove) this.suppressLeft = o.suppressFor;
    return score;
  }
}

export function likelihoodScores(values: ArrayLike<number>, o: LikelihoodOptions = DEFAULT_LIKELIHOOD): Float64Array {
  const s = new LikelihoodScorer(o);
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = s.update(values[i]!);
  return out;
}
