/** O(1) rolling statistics over the last `size` values of a stream. */
export class RollingStats {
  private readonly buf: Float64Array;
  private head = 0;
  private n = 0;
  private sum = 0;
  private sumSq = 0;
  // Sums drift after millions of add/remove steps; recompute them exactly every so often.
  private sinceExact = 0;

  constructor(readonly size: number) {
    this.buf = new Float64Array(size);
  }

  get count(): number {
    return this.n;
  }

  push(v: number): void {
    if (this.n === this.size) {
      const old = this.buf[this.head]!;
      this.sum -= old;
      this.sumSq -= old * old;
    } else this.n++;
    this.buf[this.head] = v;
    this.head = (this.head + 1) % this.size;
    this.sum += v;
    this.sumSq += v * v;
    if (++this.sinceExact >= 100_000) this.recompute();
  }

  mean(): number {
    return this.n === 0 ? 0 : this.sum / this.n;
  }

  variance(): number {
    if (this.n < 2) return 0;
    const m = this.sum / this.n;
    return Math.max(0, this.sumSq / this.n - m * m);
  }

  std(): number {
    return Math.sqrt(this.variance());
  }

  private recompute(): void {
    this.sinceExact = 0;
    let s = 0;
    let q = 0;
    for (let i = 0; i < this.n; i++) {
      const v = this.buf[(this.head - 1 - i + this.size * 2) % this.size]!;
      s += v;
      q += v * v;
    }
    this.sum = s;
    this.sumSq = q;
  }
}

/** Upper tail of the standard normal, Q(z) = P(Z > z) (Abramowitz-Stegun 7.1.26 on erfc). */
export function normalTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  const erfc = y; // erfc(x) for x >= 0
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}
