/**
 * The recent samples of one series for one rule, in a growable ring buffer addressed by absolute
 * sample index (0 = first accepted sample). Windows, lags and seasonal lookups read it; the owner
 * trims what no reader needs any more — before the ring grows (`full()`), so the ring holds about
 * what the longest reader needs, not that plus the samples since the last trim.
 *
 * Memory: values are doubles; times are kept as 32-bit offsets from a base time while every
 * retained time is a whole number of ms within ±2^31 ms (24.8 days) of it — scraped metrics'
 * millisecond timestamps always are — so a sample costs 12 bytes instead of 16. An offset is
 * stored only after checking that base + offset gives the time back exactly, so reads are exact.
 * A time that does not fit moves the base to the oldest retained time; when even that does not
 * fit (fractions of a ms, or a reader holding more than 24.8 days), the ring switches to double
 * times for good. Values and times share one ArrayBuffer: one backing store per ring.
 */
const NO_OFFSETS = new Int32Array(0);
const NO_TIMES = new Float64Array(0);

export class SampleHistory {
  values: Float64Array;
  /** Times − `base` (compact mode); empty once `wide`. */
  offsets: Int32Array;
  /** Times as doubles (wide mode); empty until then. */
  times: Float64Array;
  /** The time offsets count from (compact mode). */
  base = NaN;
  /** True once times are kept as doubles. */
  wide = false;
  mask: number;
  /** Absolute index of the oldest retained sample. */
  first = 0;
  /** Absolute index the next sample gets. */
  next = 0;

  constructor(capacity = 64) {
    let cap = 16;
    while (cap < capacity) cap *= 2;
    const buf = new ArrayBuffer(12 * cap);
    this.values = new Float64Array(buf, 0, cap);
    this.offsets = new Int32Array(buf, 8 * cap, cap);
    this.times = NO_TIMES;
    this.mask = cap - 1;
  }

  /** True when the next push has to grow the ring (trim first to avoid that). */
  full(): boolean {
    return this.next - this.first > this.mask;
  }

  push(t: number, v: number): number {
    if (this.next - this.first > this.mask) this.resize((this.mask + 1) * 2, false);
    const i = this.next;
    const slot = i & this.mask;
    if (!this.wide) {
      if (this.first === i) this.base = t;
      let d = t - this.base;
      if (!((d | 0) === d && d + this.base === t)) {
        this.rebase(t);
        d = t - this.base;
      }
      if (!this.wide) this.offsets[slot] = d;
      else this.times[slot] = t;
    } else this.times[slot] = t;
    this.values[slot] = v;
    this.next = i + 1;
    return i;
  }

  t(i: number): number {
    return this.wide ? this.times[i & this.mask]! : this.offsets[i & this.mask]! + this.base;
  }

  v(i: number): number {
    return this.values[i & this.mask]!;
  }

  /** Forgets samples before `index` (never beyond the newest). */
  trim(index: number): void {
    if (index > this.first) this.first = Math.min(index, this.next);
  }

  /**
   * `t` does not fit an offset from the base: count from the oldest retained time instead if every
   * retained time and `t` then fit, otherwise switch to double times.
   */
  private rebase(t: number): void {
    const mask = this.mask;
    const base = this.first < this.next ? this.t(this.first) : t;
    let fits = ((t - base) | 0) === t - base && t - base + base === t;
    for (let i = this.first; fits && i < this.next; i++) {
      const ti = this.t(i);
      fits = ((ti - base) | 0) === ti - base && ti - base + base === ti;
    }
    if (!fits) {
      this.resize(mask + 1, true);
      return;
    }
    const offsets = this.offsets;
    for (let i = this.first; i < this.next; i++) offsets[i & mask] = offsets[i & mask]! + this.base - base;
    this.base = base;
  }

  /** A new buffer of `cap` samples (a power of two), in wide mode when `wide`, holding the retained samples. */
  private resize(cap: number, wide: boolean): void {
    wide ||= this.wide;
    const buf = new ArrayBuffer((wide ? 16 : 12) * cap);
    const values = new Float64Array(buf, 0, cap);
    const offsets = wide ? NO_OFFSETS : new Int32Array(buf, 8 * cap, cap);
    const times = wide ? new Float64Array(buf, 8 * cap, cap) : NO_TIMES;
    const m = cap - 1;
    for (let i = this.first; i < this.next; i++) {
      values[i & m] = this.values[i & this.mask]!;
      if (wide) times[i & m] = this.t(i);
      else offsets[i & m] = this.offsets[i & this.mask]!;
    }
    this.values = values;
    this.offsets = offsets;
    this.times = times;
    this.wide = wide;
    this.mask = m;
  }
}
