/**
 * Numenta's "anomaly likelihood" idea, streaming and O(1): a short moving average of a raw
 * surprise signal is compared with the mean / std of that average over a long history; the
 * Gaussian tail probability is turned into a log score in [0, 1] that only reaches 1 at a tail
 * probability of 1e-10. This makes scores comparable across series with very different noise,
 * which matters because NAB picks ONE threshold for the whole corpus.
 */
import { RollingStats, normalTail } from './rolling.ts';

const LOG_FLOOR = Math.log(1e-10);

export class AnomalyLikelihood {
  private readonly short: RollingStats;
  private readonly history: RollingStats;
  private seen = 0;

  constructor(shortWindow: number, historyWindow: number, private readonly learningPeriod: number) {
    this.short = new RollingStats(shortWindow);
    this.history = new RollingStats(historyWindow);
  }

  update(raw: number): number {
    this.seen++;
    this.short.push(raw);
    const avg = this.short.mean();
    let score = 0;
    if (this.seen > this.learningPeriod && this.history.count > 10) {
      const sigma = Math.max(this.history.std(), 1e-6);
      const tail = normalTail((avg - this.history.mean()) / sigma);
      score = Math.min(1, Math.max(0, Math.log(Math.max(tail, 1e-10)) / LOG_FLOOR));
    }
    this.history.push(avg);
    return score;
  }
}

/**
 * CAD OSE's rest period: a score is reported only if no score in the previous `period` points
 * reached `above` (reported or not). NAB credits only the first detection in a window and charges
 * every later false alarm, so the onset is what matters.
 */
export class RestPeriod {
  private since = Infinity;
  constructor(private readonly period: number, private readonly above: number) {}

  update(score: number): number {
    const out = this.since <= this.period ? 0 : score;
    this.since = score >= this.above ? 1 : this.since + 1;
    return out;
  }
}

/** Flags values beyond the range seen so far by more than `tolerance` of that range. */
export class SpatialNovelty {
  private min = Infinity;
  private max = -Infinity;
  private seen = 0;
  constructor(private readonly tolerance: number, private readonly learningPeriod: number) {}

  update(v: number): boolean {
    this.seen++;
    const range = this.max - this.min;
    const novel =
      this.tolerance > 0 && this.seen > this.learningPeriod && range > 0 && (v > this.max + this.tolerance * range || v < this.min - this.tolerance * range);
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    return novel;
  }
}
