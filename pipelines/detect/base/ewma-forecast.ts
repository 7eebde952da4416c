/**
 * Forecast-residual detector: the forecast is an EWMA level plus, optionally, a seasonal profile
 * (additive, one EWMA per time-of-period bucket, e.g. 48 half-hour buckets of a day); the score
 * is the residual in units of its own typical size (EWMA of |residual| × 1.2533 ≈ σ).
 * Residuals larger than the threshold enter the scale clipped, so one anomaly does not inflate
 * the scale and hide the next; the level and season still adapt, so a level shift is flagged
 * once and then absorbed. `cooldown` as in robust-z.
 */
import { formatDuration } from '../rules/ast.ts';
import { fmt } from '../engine/explain.ts';
import { validateNumbers } from './options.ts';
import { RestGate } from './rest.ts';
import { ScoredResult, WarmingUp } from './types.ts';
import type { BaseDetector, BaseResult } from './types.ts';

export interface EwmaForecastOptions {
  /** Level smoothing, 0 < alpha ≤ 1. Default 0.1. */
  alpha: number;
  /** Smoothing of the residual scale. Default 0.003. */
  scaleAlpha: number;
  /** Residual, in σ, above which a sample is anomalous. Default 7. */
  threshold: number;
  /** Samples before the first flag. Default 288. */
  warmup: number;
  /** Samples after a flag during which no new flag is raised. Default 288. */
  cooldown: number;
  /** Season length in ms, 0 for none. Default 1d. */
  seasonMs: number;
  /** Buckets per season. Default 48. */
  seasonBuckets: number;
  /** Seasonal smoothing. Default 0.05. */
  gamma: number;
}

/** Tuned on NAB (5-minute samples, daily patterns): see README "Base detectors". */
export const ewmaForecastDefaults: EwmaForecastOptions = { alpha: 0.1, scaleAlpha: 0.003, threshold: 7, warmup: 288, cooldown: 288, seasonMs: 86_400_000, seasonBuckets: 48, gamma: 0.05 };

export class EwmaForecastDetector implements BaseDetector {
  readonly name = 'ewma';
  readonly opts: EwmaForecastOptions;
  private level = NaN;
  private meanAbs = NaN;
  private readonly season: Float64Array;
  private seen = 0;
  private readonly gate: RestGate;

  constructor(options: Partial<EwmaForecastOptions> = {}) {
    this.opts = { ...ewmaForecastDefaults, ...options };
    validateNumbers('ewma', { ...this.opts }, {
      alpha: { above: 0, max: 1 },
      scaleAlpha: { above: 0, max: 1 },
      threshold: { above: 0 },
      warmup: { min: 1, integer: true },
      cooldown: { min: 0, integer: true },
      seasonMs: { min: 0 },
      seasonBuckets: { min: 1, max: 100_000, integer: true },
      gamma: { min: 0, max: 1 },
    });
    this.season = new Float64Array(this.opts.seasonMs > 0 ? this.opts.seasonBuckets : 1);
    this.gate = new RestGate(this.opts.cooldown);
  }

  get rest(): number {
    return this.opts.cooldown;
  }

  veto(): void {
    this.gate.veto();
  }

  private bucket(t: number): number {
    const { seasonMs, seasonBuckets } = this.opts;
    if (seasonMs <= 0) return 0;
    const phase = ((t % seasonMs) + seasonMs) % seasonMs;
    return Math.min(seasonBuckets - 1, Math.floor((phase / seasonMs) * seasonBuckets));
  }

  update(t: number, v: number): BaseResult {
    const o = this.opts;
    if (!Number.isFinite(v)) return { score: 0, isAnomaly: false, candidate: false, explanation: 'value is not a finite number: skipped', ready: this.seen >= o.warmup };
    const b = this.bucket(t);
    if (this.seen === 0) {
      this.gate.clear();
      this.level = v;
      this.seen = 1;
      return { score: 0, isAnomaly: false, candidate: false, explanation: `warming up (1/${o.warmup} samples)`, ready: false };
    }
    const seasonal = o.seasonMs > 0 ? this.season[b]! : 0;
    const forecast = this.level + seasonal;
    const r = v - forecast;
    const sigma = 1.2533 * this.meanAbs;
    const floor = 1e-9 + 1e-6 * Math.abs(forecast);
    const scale = sigma > floor ? sigma : floor;
    let result: BaseResult;
    let score = 0;
    if (this.seen < o.warmup || Number.isNaN(this.meanAbs)) {
      this.gate.clear();
      result = new WarmingUp(this.seen, o.warmup);
    } else {
      score = Math.abs(r) / scale;
      const over = score > o.threshold;
      const isAnomaly = over ? this.gate.pass(this.seen) : false;
      const quiet = over && !isAnomaly;
      if (!over) this.gate.clear();
      const level = this.level;
      const s = score;
      result = new ScoredResult(score, isAnomaly, () => {
        const seasonText = o.seasonMs > 0 ? ` (level ${fmt(level)} + seasonal ${fmt(seasonal)} for this ${formatDuration(Math.round(o.seasonMs / o.seasonBuckets))} slot of the ${formatDuration(o.seasonMs)} season)` : '';
        return (
          `value ${fmt(v)} is ${fmt(Number(s.toPrecision(3)))} σ ${r >= 0 ? 'above' : 'below'} the forecast ${fmt(forecast)}${seasonText}; ` +
          `typical residual σ ${fmt(scale)}, threshold ${o.threshold}${over && quiet ? '; not flagged: within the cooldown after the previous flag' : ''}`
        );
      }, over);
    }
    // Learn: scale from the (clipped) residual, then level and season.
    const absR = Math.abs(r);
    const clipped = Number.isNaN(this.meanAbs) ? absR : Math.min(absR, (o.threshold * scale) / 1.2533);
    this.meanAbs = Number.isNaN(this.meanAbs) ? clipped : this.meanAbs + o.scaleAlpha * (clipped - this.meanAbs);
    const prevLevel = this.level;
    this.level += o.alpha * (v - seasonal - this.level);
    if (o.seasonMs > 0) this.season[b] = seasonal + o.gamma * (v - prevLevel - seasonal);
    this.seen++;
    return result;
  }
}
