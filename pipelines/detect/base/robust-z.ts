/**
 * Robust z-score: how many robust standard deviations (1.4826 × MAD) the sample lies from the
 * rolling median of the previous `window` samples. Median and MAD ignore the outliers they are
 * meant to find, unlike mean and std, so one spike does not hide the next. The current sample is
 * scored against the window before it joins it.
 *
 * For NAB-style scoring (an alarm early in an anomaly window counts, every extra alarm costs), a
 * `cooldown` silences further flags for that many samples after one.
 * A flat window has MAD 0; the scale then falls back to the mean absolute deviation (× 1.2533,
 * σ for normal data) and finally to `minScale`, so quantized series (0/1 counts) do not alarm on
 * every change.
 */
import { fmt } from '../engine/explain.ts';
import { OrderStats } from '../engine/windows/order-stats.ts';
import { validateNumbers } from './options.ts';
import { RestGate } from './rest.ts';
import { ScoredResult, WarmingUp } from './types.ts';
import type { BaseDetector, BaseResult } from './types.ts';

export interface RobustZOptions {
  /** Samples in the rolling window. Default 288 (a day of 5-minute samples). */
  window: number;
  /** Robust z above which a sample is anomalous. Default 7. */
  threshold: number;
  /** Samples before the first flag. Default: the window. */
  warmup: number;
  /** Samples after a flag during which no new flag is raised. Default 288. */
  cooldown: number;
  /** Smallest scale, relative to |median| (plus 1e-9 absolute). Default 0.001. */
  minScale: number;
}

export const robustZDefaults: RobustZOptions = { window: 288, threshold: 7, warmup: 288, cooldown: 288, minScale: 0.001 };

export class RobustZDetector implements BaseDetector {
  readonly name = 'robust-z';
  readonly opts: RobustZOptions;
  private readonly ring: Float64Array;
  private readonly order: OrderStats;
  private seen = 0;
  private readonly gate: RestGate;

  constructor(options: Partial<RobustZOptions> = {}) {
    const window = options.window ?? robustZDefaults.window;
    this.opts = { ...robustZDefaults, warmup: window, ...options };
    validateNumbers('robust-z', { ...this.opts }, {
      window: { min: 3, max: 1_000_000, integer: true },
      threshold: { above: 0 },
      warmup: { min: 1, integer: true },
      cooldown: { min: 0, integer: true },
      minScale: { min: 0 },
    });
    this.ring = new Float64Array(this.opts.window);
    this.order = new OrderStats(this.opts.window + 1);
    this.gate = new RestGate(this.opts.cooldown);
  }

  get rest(): number {
    return this.opts.cooldown;
  }

  veto(): void {
    this.gate.veto();
  }

  update(_t: number, v: number): BaseResult {
    const { window, threshold, warmup, minScale } = this.opts;
    let result: BaseResult;
    const n = this.order.n;
    if (!Number.isFinite(v)) return { score: 0, isAnomaly: false, candidate: false, explanation: 'value is not a finite number: skipped', ready: this.seen >= warmup };
    if (this.seen < warmup || n < 3) {
      this.gate.clear();
      result = new WarmingUp(this.seen, warmup);
    } else {
      const med = this.order.quantile(0.5);
      let scale = 1.4826 * this.order.mad();
      let scaleText = `1.4826 × MAD ${fmt(scale / 1.4826)}`;
      if (!(scale > 0)) {
        let s = 0;
        for (let i = 0; i < n; i++) s += Math.abs(this.ring[i]! - med);
        scale = (1.2533 * s) / n;
        scaleText = `mean absolute deviation × 1.2533, since MAD is 0`;
      }
      const floor = minScale * Math.abs(med) + 1e-9;
      let flat = false;
      if (!(scale > floor)) {
        scale = floor;
        scaleText = `the floor ${fmt(floor)}, since the window is flat`;
        flat = true;
      }
      const z = (v - med) / scale;
      const score = Math.abs(z);
      const over = score > threshold;
      const isAnomaly = over ? this.gate.pass(this.seen) : false;
      const quiet = over && !isAnomaly;
      if (!over) this.gate.clear();
      const dir = z >= 0 ? 'above' : 'below';
      const sc = scale;
      const st = scaleText;
      const cooling = over && quiet ? '; not flagged: within the cooldown after the previous flag' : '';
      // A flat window has no spread to count deviations in ("53200000 robust standard deviations"
      // says nothing): say what changed, and how large a change counts.
      result = new ScoredResult(score, isAnomaly, flat
        ? () => `value ${fmt(v)} is ${dir} the last ${n} samples, which hardly moved from ${fmt(med)} (a flat window, no spread to measure the change against: a change beyond ${fmt(Number((threshold * sc).toPrecision(3)))} counts, ${threshold} × the floor ${fmt(sc)})${cooling}`
        : () => `value ${fmt(v)} is ${fmt(Number(score.toPrecision(3)))} robust standard deviations ${dir} the median ${fmt(med)} of the last ${n} samples ` +
          `(scale ${fmt(sc)} = ${st}; threshold ${threshold})${cooling}`, over);
    }
    // Slide the window: the current sample joins after being scored.
    const slot = this.seen % window;
    // Full window: one out, one in, moving only what lies between them.
    if (this.seen >= window) this.order.replace(this.ring[slot]!, v);
    else this.order.insert(v);
    this.ring[slot] = v;
    this.seen++;
    return result;
  }
}
