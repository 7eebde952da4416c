/**
 * Sliding-window max (or min) by a monotonic deque of sample indices: each sample enters and
 * leaves once, so amortized O(1) per sample; the front is always the window's extreme.
 */
import type { SampleHistory } from './history.ts';

export class MonoDeque {
  private idx: Float64Array;
  private mask: number;
  private head = 0;
  private tail = 0;

  constructor(
    private readonly h: SampleHistory,
    /** true: keeps the maximum; false: the minimum. */
    private readonly max: boolean,
  ) {
    this.idx = new Float64Array(64);
    this.mask = 63;
  }

  push(i: number, x: number): void {
    const h = this.h;
    if (this.max) {
      while (this.tail > this.head && h.v(this.idx[(this.tail - 1) & this.mask]!) <= x) this.tail--;
    } else {
      while (this.tail > this.head && h.v(this.idx[(this.tail - 1) & this.mask]!) >= x) this.tail--;
    }
    if (this.tail - this.head > this.mask) this.grow();
    this.idx[this.tail & this.mask] = i;
    this.tail++;
  }

  evictBefore(start: number): void {
    while (this.tail > this.head && this.idx[this.head & this.mask]! < start) this.head++;
  }

  front(): number {
    return this.tail > this.head ? this.h.v(this.idx[this.head & this.mask]!) : NaN;
  }

  private grow(): void {
    const cap = (this.mask + 1) * 2;
    const idx = new Float64Array(cap);
    for (let k = this.head; k < this.tail; k++) idx[k & (cap - 1)] = this.idx[k & this.mask]!;
    this.idx = idx;
    this.mask = cap - 1;
  }
}
