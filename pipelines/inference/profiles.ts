/**
 * Latency profiles per (model, batch size), as Clockwork keeps them: the estimate is the p99 of the
 * last `window` measurements (with 10 samples that is their maximum, a deliberately pessimistic
 * choice: admission trusts these numbers). Seeded by profiling at first load, then updated from
 * every measured action.
 */

export class SlidingWindow {
  private readonly buf: number[] = [];
  private next = 0;
  /** Sorted copy, rebuilt lazily: estimates are read far more often than measurements arrive. */
  private sorted: number[] | undefined;
  constructor(private readonly size: number) {}
  add(v: number): void {
    if (this.buf.length < this.size) this.buf.push(v);
    else this.buf[this.next] = v;
    this.next = (this.next + 1) % this.size;
    this.sorted = undefined;
  }
  get count(): number {
    return this.buf.length;
  }
  /** Nearest-rank quantile of the values in the window; undefined when empty. */
  quantile(q: number): number | undefined {
    if (this.buf.length === 0) return undefined;
    const s = (this.sorted ??= [...this.buf].sort((a, b) => a - b));
    return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
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
  /** Load estimate when no load has been measured yet. */
  defaultLoadMs: number;
}

export const defaultProfileOptions: ProfileOptions = {
  window: 10,
  quantile: 0.99,
  batchSizes: [1, 2, 4, 8, 16],
  defaultExecMs: 5,
  defaultLoadMs: 20,
};

export function batchSizesUpTo(max: number): number[] {
  const out: number[] = [];
  for (let b = 1; b < max; b *= 2) out.push(b);
  out.push(max);
  return out;
}

export class ProfileStore {
  private readonly exec = new Map<string, Map<number, SlidingWindow>>();
  private readonly load = new Map<string, SlidingWindow>();
  private readonly anyLoad: SlidingWindow;
  readonly opts: ProfileOptions;

  constructor(opts: Partial<ProfileOptions> = {}) {
    this.opts = { ...defaultProfileOptions, ...opts };
    this.anyLoad = new SlidingWindow(this.opts.window);
  }

  get maxBatch(): number {
    return this.opts.batchSizes[this.opts.batchSizes.length - 1]!;
  }

  /** The profiled batch size a batch of `rows` rows is accounted under. */
  bucket(rows: number): number {
    for (const b of this.opts.batchSizes) if (b >= rows) return b;
    throw new RangeError(`batch of ${rows} rows exceeds the largest profiled batch size ${this.maxBatch}`);
  }

  hasProfile(model: string): boolean {
    return (this.exec.get(model)?.size ?? 0) > 0;
  }

  recordExec(model: string, bucket: number, ms: number): void {
    let byBucket = this.exec.get(model);
    if (!byBucket) this.exec.set(model, (byBucket = new Map()));
    let w = byBucket.get(bucket);
    if (!w) byBucket.set(bucket, (w = new SlidingWindow(this.opts.window)));
    w.add(ms);
  }

  recordLoad(model: string, ms: number): void {
    let w = this.load.get(model);
    if (!w) this.load.set(model, (w = new SlidingWindow(this.opts.window)));
    w.add(ms);
    this.anyLoad.add(ms);
  }

  /**
   * Estimated exec time of a batch in `bucket`. Unmeasured buckets borrow from the nearest larger
   * measured bucket (an upper bound: more rows never run faster), else scale the nearest smaller
   * one linearly, else fall back to the default.
   */
  execMs(model: string, bucket: number): number {
    const byBucket = this.exec.get(model);
    if (!byBucket) return this.opts.defaultExecMs;
    const quant = this.opts.quantile;
    const own = byBucket.get(bucket)?.quantile(quant);
    if (own !== undefined) return own;
    const sizes = this.opts.batchSizes;
    for (const b of sizes) {
      if (b <= bucket) continue;
      const v = byBucket.get(b)?.quantile(quant);
      if (v !== undefined) return v;
    }
    for (let i = sizes.length - 1; i >= 0; i--) {
      const b = sizes[i]!;
      if (b >= bucket) continue;
      const v = byBucket.get(b)?.quantile(quant);
      if (v !== undefined) return (v * bucket) / b;
    }
    return this.opts.defaultExecMs;
  }

  loadMs(model: string): number {
    return this.load.get(model)?.quantile(this.opts.quantile) ?? this.anyLoad.quantile(this.opts.quantile) ?? this.opts.defaultLoadMs;
  }
}
