/**
 * One window (a duration or a sample count) over a SampleHistory, with the accumulators the rule
 * needs attached. Every aggregate over the same window shares it: one eviction pass per sample.
 */
import type { SampleHistory } from './history.ts';
import { Moments } from './moments.ts';
import { MonoDeque } from './mono-deque.ts';
import { OrderStats } from './order-stats.ts';

export class Window {
  /** Absolute index of the oldest sample in the window. */
  start = 0;
  moments: Moments | null = null;
  order: OrderStats | null = null;
  maxq: MonoDeque | null = null;
  minq: MonoDeque | null = null;

  constructor(
    private readonly h: SampleHistory,
    /** Window length in ms (0 when counted in samples). */
    readonly ms: number,
    /** Window length in samples (0 when a duration). */
    readonly n: number,
  ) {}

  need(kind: 'moments' | 'order' | 'max' | 'min'): void {
    if (kind === 'moments') this.moments ??= new Moments();
    else if (kind === 'order') this.order ??= new OrderStats(this.n > 0 ? this.n + 1 : 64);
    else if (kind === 'max') this.maxq ??= new MonoDeque(this.h, true);
    else this.minq ??= new MonoDeque(this.h, false);
  }

  /** Adds the sample just pushed at `idx` and evicts what fell out: samples in (t − ms, t] or the last n. */
  advance(idx: number, t: number, x: number): void {
    const h = this.h;
    const m = this.moments;
    const o = this.order;
    if (m !== null) m.add(x);
    if (o !== null) o.insert(x);
    if (this.maxq !== null) this.maxq.push(idx, x);
    if (this.minq !== null) this.minq.push(idx, x);
    let s = this.start;
    if (this.n > 0) {
      const ns = idx - this.n + 1;
      while (s < ns) {
        const old = h.v(s);
        if (m !== null) m.remove(old);
        if (o !== null) o.remove(old);
        s++;
      }
    } else {
      const limit = t - this.ms;
      while (h.t(s) <= limit) {
        const old = h.v(s);
        if (m !== null) m.remove(old);
        if (o !== null) o.remove(old);
        s++;
      }
    }
    this.start = s;
    if (this.maxq !== null) this.maxq.evictBefore(s);
    if (this.minq !== null) this.minq.evictBefore(s);
    if (m !== null && m.needsRebase()) m.rebase(h, s, idx);
  }
}
