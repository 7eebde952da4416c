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
  /** Whether the series spans the whole window yet (aggregates are unknown until it does). */
  complete = false;
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

  /**
   * Adds the sample just pushed at `idx` and evicts what fell out: samples in (t − ms, t] or the
   * last n. `t0` is the series' first timestamp (for completeness).
   */
  advance(idx: number, t: number, x: number, t0: number): void {
    const h = this.h;
    const times = h.times;
    const values = h.values;
    const mask = h.mask;
    const m = this.moments;
    const o = this.order;
    let s = this.start;
    let end: number;
    if (this.n > 0) {
      end = idx - this.n + 1;
      if (!this.complete) this.complete = idx + 1 >= this.n;
    } else {
      const limit = t - this.ms;
      end = s;
      while (times[end & mask]! <= limit) end++;
      if (!this.complete) this.complete = t - t0 >= this.ms;
    }
    if (m !== null) m.add(x);
    if (o !== null) {
      // One in, one out is the steady state: a single pass moves only what lies between them.
      if (end > s) {
        o.replace(values[s & mask]!, x);
        for (let i = s + 1; i < end; i++) o.remove(values[i & mask]!);
      } else o.insert(x);
    }
    if (m !== null) for (let i = s; i < end; i++) m.remove(values[i & mask]!);
    if (end > s) s = end;
    this.start = s;
    if (this.maxq !== null) {
      this.maxq.push(idx, x);
      this.maxq.evictBefore(s);
    }
    if (this.minq !== null) {
      this.minq.push(idx, x);
      this.minq.evictBefore(s);
    }
    if (m !== null && m.needsRebase()) m.rebase(h, s, idx);
  }
}
