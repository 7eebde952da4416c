/**
 * Latency profiles per (model, batch size), as Clockwork keeps them: the estimate is the p99 of the
 * last `window` measurements (with 10 samples that is their maximum, a deliberately pessimistic
 * choice: admission trusts these numbers). Seeded by profiling at first load, then updated from
 * every measured action.
 */

/**
 * The last `size` measurements, each forgotten after `maxAgeMs`. An estimate is refreshed only by
 * actions it admitted: without ageing, one preemption spike (other processes share these cores)
 * in a model's window could make that model look infeasible and freeze its estimate for good.
 */
export class AgingWindow {
  private readonly values: { v: number; t: number }[] = [];
  private sorted: number[] | undefined;
  /** When the oldest cached sample expires. */
  private validUntil = Infinity;
  constructor(private readonly size: number, private readonly maxAgeMs: number) {}

  add(v: number, t: number): void {
    this.values.push({ v, t });
    if (this.values.length > this.size) this.values.shift();
    this.sorted = undefined;
  }

  private live(now: number): number[] {
    if (this.sorted === undefined || now > this.validUntil) {
      let oldest = Infinity;
      const vs: number[] = [];
      for (const e of this.values)
        if (now - e.t <= this.maxAgeMs) {
          vs.push(e.v);
          if (e.t < oldest) oldest = e.t;
        }
      this.sorted = vs.sort((a, b) => a - b);
      this.validUntil = oldest + this.maxAgeMs;
    }
    return this.sorted;
  }

  count(now: number): number {
    return this.live(now).length;
  }

  quantile(q: number, now: number): number | undefined {
    const s = this.live(now);
    if (s.length === 0) return undefined;
    return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  }
}

/**
 * The largest recent value, fading with age: a value counts in full when it is seen and by half
 * every `halfLifeMs` after, until a larger (faded) one replaces it. The scheduler's noise margin:
 * a stall of the process is felt by the decisions right after it and forgotten gradually, not
 * held in full for seconds (with a 25 ms SLO, one 35 ms stall held for 2 s refused every request
 * for those 2 s while the worker stood idle).
 */
export class DecayingPeak {
  private peak = 0;
  private at = 0;
  constructor(private readonly halfLifeMs: number) {}

  add(v: number, t: number): void {
    if (v >= this.value(t)) {
      this.peak = v;
      this.at = t;
    }
  }

  value(now: number): number {
    if (this.peak === 0) return 0;
    return this.peak * 0.5 ** (Math.max(0, now - this.at) / this.halfLifeMs);
  }
}

export interface ProfileOptions {
  /** Measurements kept per key (Clockwork: 10). */
  window: number;
  /** Quantile of the window used as the estimate (Clockwork: 0.99). */
  quantile: number;
  /** Batch sizes profiled; requests are grouped into the smallest size that holds them. */
  batchSizes: number[];
  /** Exec estimate when nothing at all is known about a model. */
  defaultExecMs: number;
  /** Load estimate when no recent load has been measured. */
  defaultLoadMs: number;
  /** Measurements older than these no longer count. */
  execMaxAgeMs: number;
  loadMaxAgeMs: number;
}

export const defaultProfileOptions: ProfileOptions = {
  window: 10,
  quantile: 0.99,
  batchSizes: [1, 2, 4, 8, 16],
  defaultExecMs: 5,
  defaultLoadMs: 10,
  execMaxAgeMs: 1_000,
  loadMaxAgeMs: 5_000,
};

export function batchSizesUpTo(max: number): number[] {
  const out: number[] = [];
  for (let b = 1; b < max; b *= 2) out.push(b);
  out.push(max);
  return out;
}

export class ProfileStore {
  private readonly exec = new Map<string, Map<number, AgingWindow>>();
  private readonly load = new Map<string, AgingWindow>();
  private readonly anyLoad: AgingWindow;
  readonly opts: ProfileOptions;

  constructor(opts: Partial<ProfileOptions> = {}) {
    this.opts = { ...defaultProfileOptions, ...opts };
    this.anyLoad = new AgingWindow(this.opts.window, this.opts.loadMaxAgeMs);
  }

  get maxBatch(): number {
    return this.opts.batchSizes[this.opts.batchSizes.length - 1]!;
  }

  /** The profiled batch size a batch of `rows` rows is accounted under. */
  bucket(rows: number): number {
    for (const b of this.opts.batchSizes) if (b >= rows) return b;
    throw new RangeError(`batch of ${rows} rows exceeds the largest profiled batch size ${this.maxBatch}`);
  }

  /** Whether the model was ever profiled (its first load profiles it). */
  hasProfile(model: string): boolean {
    return (this.exec.get(model)?.size ?? 0) > 0;
  }

  recordExec(model: string, bucket: number, ms: number, now: number): void {
    let byBucket = this.exec.get(model);
    if (!byBucket) this.exec.set(model, (byBucket = new Map()));
    let w = byBucket.get(bucket);
    if (!w) byBucket.set(bucket, (w = new AgingWindow(this.opts.window, this.opts.execMaxAgeMs)));
    w.add(ms, now);
  }

  recordLoad(model: string, ms: number, now: number): void {
    let w = this.load.get(model);
    if (!w) this.load.set(model, (w = new AgingWindow(this.opts.window, this.opts.loadMaxAgeMs)));
    w.add(ms, now);
    this.anyLoad.add(ms, now);
  }

  /**
   * Estimated exec time of a batch in `bucket`. Unmeasured buckets borrow from the nearest larger
   * measured bucket (an upper bound: more rows never run faster), else scale the nearest smaller
   * one linearly, else fall back to the default.
   */
  execMs(model: string, bucket: number, now: number): number {
    const byBucket = this.exec.get(model);
    if (!byBucket) return this.opts.defaultExecMs;
    const quant = this.opts.quantile;
    const own = byBucket.get(bucket)?.quantile(quant, now);
    if (own !== undefined) return own;
    const sizes = this.opts.batchSizes;
    for (const b of sizes) {
      if (b <= bucket) continue;
      const v = byBucket.get(b)?.quantile(quant, now);
      if (v !== undefined) return v;
    }
    for (let i = sizes.length - 1; i >= 0; i--) {
      const b = sizes[i]!;
      if (b >= bucket) continue;
      const v = byBucket.get(b)?.quantile(quant, now);
      if (v !== undefined) return (v * bucket) / b;
    }
    return this.opts.defaultExecMs;
  }

  /**
   * A model's own load window once it has a few measurements; before that the window over all
   * models, so that one unlucky first load does not mark a model unloadable for good.
   */
  loadMs(model: string, now: number): number {
    const q = this.opts.quantile;
    const own = this.load.get(model);
    if (own && own.count(now) >= 3) return own.quantile(q, now)!;
    return this.anyLoad.quantile(q, now) ?? this.opts.defaultLoadMs;
  }
}
