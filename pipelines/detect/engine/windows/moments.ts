/**
 * Running sum and variance of a sliding window in O(1) per sample.
 *
 * The variance uses sums of (x − K) and (x − K)² for a shift K close to the data ("shifted data"
 * algorithm): without the shift, Σx² − (Σx)²/n cancels catastrophically for series with a large
 * offset (a temperature around 70 with spread 0.1). Adding and removing samples accumulates
 * rounding error, so once per window length of evictions the sums are rebuilt from the window
 * with K = the newest value — amortized O(1), and the error never grows past one window's worth
 * (tests/unit/detect/compiler.test.ts checks 200,000 samples at an offset of 1e9). Sliding
 * Welford was rejected: its removal step accumulates error with no point at which it is reset;
 * Neumaier compensation on every add/remove cost ~30% of a rule's time for no gain over rebasing.
 */
import type { SampleHistory } from './history.ts';

export class Moments {
  n = 0;
  private s = 0;
  private k = 0;
  private d = 0;
  private q = 0;
  private sinceRebase = 0;

  add(x: number): void {
    if (this.n === 0) {
      this.k = x;
      this.s = this.d = this.q = 0;
    }
    this.n++;
    this.s += x;
    const y = x - this.k;
    this.d += y;
    this.q += y * y;
  }

  remove(x: number): void {
    this.n--;
    this.sinceRebase++;
    this.s -= x;
    const y = x - this.k;
    this.d -= y;
    this.q -= y * y;
  }

  /** True once a window length of samples has been evicted since the sums were last rebuilt. */
  needsRebase(): boolean {
    return this.sinceRebase > this.n + 32;
  }

  /** Rebuilds the sums from the window's samples [start, end] with K = the newest value. */
  rebase(h: SampleHistory, start: number, end: number): void {
    const k = h.v(end);
    let s = 0;
    let d = 0;
    let q = 0;
    for (let i = start; i <= end; i++) {
      const x = h.v(i);
      s += x;
      const y = x - k;
      d += y;
      q += y * y;
    }
    this.k = k;
    this.s = s;
    this.d = d;
    this.q = q;
    this.n = end - start + 1;
    this.sinceRebase = 0;
  }

  sum(): number {
    return this.s;
  }

  mean(): number {
    return this.s / this.n;
  }

  /** Population standard deviation. */
  std(): number {
    const n = this.n;
    const d = this.d;
    const v = (this.q - (d * d) / n) / n;
    return v > 0 ? Math.sqrt(v) : 0;
  }
}
