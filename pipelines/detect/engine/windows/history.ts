/**
 * The recent samples of one series for one rule, in a growable ring buffer addressed by absolute
 * sample index (0 = first accepted sample). Windows, lags and seasonal lookups read it; the owner
 * trims what no reader needs any more — before the ring grows (`full()`), so the ring holds about
 * what the longest reader needs, not that plus the samples since the last trim.
 *
 * Times and values share one ArrayBuffer (times in the first half, values in the second): one
 * backing store per ring instead of two, each with its own allocation and external-memory
 * bookkeeping.
 */
export class SampleHistory {
  times: Float64Array;
  values: Float64Array;
  mask: number;
  /** Absolute index of the oldest retained sample. */
  first = 0;
  /** Absolute index the next sample gets. */
  next = 0;

  constructor(capacity = 64) {
    let cap = 16;
    while (cap < capacity) cap *= 2;
    const buf = new ArrayBuffer(16 * cap);
    this.times = new Float64Array(buf, 0, cap);
    this.values = new Float64Array(buf, 8 * cap, cap);
    this.mask = cap - 1;
  }

  /** True when the next push has to grow the ring (trim first to avoid that). */
  full(): boolean {
    return this.next - this.first > this.mask;
  }

  push(t: number, v: number): number {
    if (this.next - this.first > this.mask) this.grow();
    const i = this.next++;
    this.times[i & this.mask] = t;
    this.values[i & this.mask] = v;
    return i;
  }

  t(i: number): number {
    return this.times[i & this.mask]!;
  }

  v(i: number): number {
    return this.values[i & this.mask]!;
  }

  /** Forgets samples before `index` (never beyond the newest). */
  trim(index: number): void {
    if (index > this.first) this.first = Math.min(index, this.next);
  }

  private grow(): void {
    const cap = (this.mask + 1) * 2;
    const buf = new ArrayBuffer(16 * cap);
    const times = new Float64Array(buf, 0, cap);
    const values = new Float64Array(buf, 8 * cap, cap);
    for (let i = this.first; i < this.next; i++) {
      times[i & (cap - 1)] = this.times[i & this.mask]!;
      values[i & (cap - 1)] = this.values[i & this.mask]!;
    }
    this.times = times;
    this.values = values;
    this.mask = cap - 1;
  }
}
