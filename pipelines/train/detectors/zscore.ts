/**
 * Interim base detector: a rolling z-score mapped to [0, 1]. It stands in for pipelines/detect's
 * base detectors until those land, and is the simple reference the NAB-tuned scorer is compared to.
 */
import { RollingStats, normalTail } from './rolling.ts';

export interface ZScoreOptions {
  window: number;
}

export class RollingZScore {
  private readonly stats: RollingStats;
  constructor(private readonly o: ZScoreOptions = { window: 100 }) {
    this.stats = new RollingStats(o.window);
  }

  /**
   * log(2·Q(|z|)) / log(1e-10): 0 at the mean, 1 at a two-sided tail probability of 1e-10. Log
   * scaling keeps scores distinct far out in the tail, where 1 - 2Q(|z|) rounds to exactly 1.
   */
  update(v: number): number {
    let score = 0;
    if (this.stats.count >= Math.min(10, this.o.window)) {
      const sd = this.stats.std();
      const z = sd > 0 ? Math.abs(v - this.stats.mean()) / sd : v === this.stats.mean() ? 0 : 10;
      score = Math.log(Math.max(2 * normalTail(z), 1e-10)) / Math.log(1e-10);
    }
    this.stats.push(v);
    return Math.min(1, Math.max(0, score));
  }
}

export function zscoreScores(values: ArrayLike<number>, o: ZScoreOptions = { window: 100 }): Float64Array {
  const d = new RollingZScore(o);
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = d.update(values[i]!);
  return out;
}
