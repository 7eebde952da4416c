/**
 * Running sum and variance of a sliding window in O(1) per sample.
 *
 * The sum uses Neumaier compensation so adding and removing millions of samples does not drift.
 * The variance uses sums of (x − K) and (x − K)² for a shift K close to the data ("shifted data"
 * algorithm): without the shift, Σx² − (Σx)²/n cancels catastrophically for series with a large
 * offset (a temperature around 70 with spread 0.1). K is re-chosen (the newest value) and the
 * sums recomputed from the window once per window length of evictions — amortized O(1) — so
 * neither rounding error nor a drifting level builds up. Sliding Welford was rejected: its removal
 * step accumulates error with no point at which it is reset.
 */
import type { SampleHistory } from './history.ts';

export class Moments {
  n = 0;
  private s = 0;
  private sc = 0;
  private k = 0;
  private d = 0;
  private dc = 0;
  private q = 0;
  private qc = 0;
  private sinceRebase = 0;

  add(x: number): void {
    if (this.n === 0) {
      this.k = x;
      this.s = this.sc = this.d = this.dc = this.q = this.qc = 0;
    }
    this.n++;
    let t = this.s + x;
    if (Math.abs(this.s) >= Math.abs(x)) this.sc += this.s - t + x;
    else this.sc += x - t + this.s;
    this.s = t;
    const y = x - this.k;
    t = this.d + y;
    if (Math.abs(this.d) >= Math.abs(y)) this.dc += this.d - t + y;
    else this.dc += y - t + this.d;
    this.d = t;
    const y2 = y * y;
    t = this.q + y2;
    if (Math.abs(this.q) >= y2) this.qc += this.q - t + y2;
    else this.qc += y2 - t + this.q;
    this.q = t;
  }

  remove(x: number): void {
    this.n--;
    this.sinceRebase++;
    let t = this.s - x;
    if (Math.abs(this.s) >= Math.abs(x)) this.sc += this.s - t - x;
    else this.sc += -x - t + this.s;
    this.s = t;
    const y = x - this.k;
    t = this.d - y;
    if (Math.abs(this.d) >= Math.abs(y)) this.dc += this.d - t - y;
    else this.dc += -y - t + this.d;
    this.d = t;
    const y2 = y * y;
    t = this.q - y2;
    if (Math.abs(this.q) >= y2) this.qc += this.q - t - y2;
    else this.qc += -y2 - t + this.q;
    this.q = t;
  }

  /** True once a window length of samples has been evicted since the sums were last rebuilt. */
  needsRebase(): boolean {
    return this.sinceRebase > this.n + 32;
  }

  /** Rebuilds the sums from the window's samples [start, end] with K = the newest value. */
  rebase(h: SampleHistory, start: number, end: number): void {
    this.n = 0;
    this.sinceRebase = 0;
    this.k = h.v(end);
    this.s = this.sc = this.d = this.dc = this.q = this.qc = 0;
    const k = this.k;
    this.n = 0;
    for (let i = start; i <= end; i++) {
      this.n++;
      const x = h.v(i);
      let t = this.s + x;
      if (Math.abs(this.s) >= Math.abs(x)) this.sc += this.s - t + x;
      else this.sc += x - t + this.s;
      this.s = t;
      const y = x - k;
      t = this.d + y;
      if (Math.abs(this.d) >= Math.abs(y)) this.dc += this.d - t + y;
      else this.dc += y - t + this.d;
      this.d = t;
      const y2 = y * y;
      t = this.q + y2;
      if (Math.abs(this.q) >= y2) this.qc += this.q - t + y2;
      else this.qc += y2 - t + this.q;
      this.q = t;
    }
  }

  sum(): number {
    return this.s + this.sc;
  }

  mean(): number {
    return (this.s + this.sc) / this.n;
  }

  /** Population standard deviation. */
  std(): number {
    const n = this.n;
    const d = this.d + this.dc;
    const v = (this.q + this.qc - (d * d) / n) / n;
    return v > 0 ? Math.sqrt(v) : 0;
  }
}
