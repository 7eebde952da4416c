/**
 * Sliding-window max (or min) by a monotonic deque: each sample enters and leaves once, so
 * amortized O(1) per sample; the front is always the window's extreme. Values are kept beside
 * their indices so the hot loop never reads the history ring. Indices and values share one
 * ArrayBuffer, which starts at 16 entries and doubles when needed.
 */
import type { SampleHistory } from './history.ts';

export class MonoDeque {
  private idx: Float64Array;
  private val: Float64Array;
  private mask: number;
  private head = 0;
  private tail = 0;

  constructor(
    _h: SampleHistory,
    /** true: keeps the maximum; false: the minimum. */
    private readonly max: boolean,
  ) {
    const buf = new ArrayBuffer(16 * 16);
    this.idx = new Float64Array(buf, 0, 16);
    this.val = new Float64Array(buf, 8 * 16, 16);
    this.mask = 15;
  }

  push(i: number, x: number): void {
    const val = this.val;
    const mask = this.mask;
    let tail = this.tail;
    const head = this.head;
    if (this.max) while (tail > head && val[(tail - 1) & mask]! <= x) tail--;
    else while (tail > head && val[(tail - 1) & mask]! >= x) tail--;
    this.tail = tail;
    if (tail - head > mask) this.grow();
    const m = this.mask;
    this.idx[this.tail & m] = i;
    this.val[this.tail & m] = x;
    this.tail++;
  }

  evictBefore(start: number): void {
    const idx = this.idx;
    const mask = this.mask;
    let head = this.head;
    while (head < this.tail && idx[head & mask]! < start) head++;
    this.head = head;
  }

  front(): number {
    return this.tail > this.head ? this.val[this.head & this.mask]! : NaN;
  }

  private grow(): void {
    const cap = (this.mask + 1) * 2;
    const buf = new ArrayBuffer(16 * cap);
    const idx = new Float64Array(buf, 0, cap);
    const val = new Float64Array(buf, 8 * cap, cap);
    for (let k = this.head; k < this.tail; k++) {
      idx[k & (cap - 1)] = this.idx[k & this.mask]!;
      val[k & (cap - 1)] = this.val[k & this.mask]!;
    }
    this.idx = idx;
    this.val = val;
    this.mask = cap - 1;
  }
}
