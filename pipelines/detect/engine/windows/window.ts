/**
 * One window (a duration or a sample count) over a SampleHistory, with the accumulators the rule
 * needs attached. Every aggregate over the same window shares it: one eviction pass per sample.
 *
 * Running sums are kept up to date on every sample (mean and std are O(1) reads). Order statistics
 * and the min/max deques are brought up to date only when a clause reads them (`order()`,
 * `max()`, `min()`): `and`/`or` short-circuit, so in `value > mean(1h) + 3 * std(1h) and value >
 * quantile(0.99, 1h)` the quantile is read on the few samples where the first clause holds. A read
 * catches up on what it missed: a deque pushes only the missed samples still in the window (never
 * more work than pushing every sample); the sorted array replays the few samples in and out when
 * it is a little behind, and otherwise is rebuilt from the window with one native sort. A rule
 * that reads them on every sample does exactly the incremental work it did before.
 *
 * Memory: nothing is allocated for an accumulator until it is first read. Order statistics read
 * only now and then (more than REPLAY_LIMIT samples apart, the case where they would be rebuilt
 * anyway) are sorted into one array shared by every window of the process and not kept; a
 * window keeps its own sorted array only while it is read on samples close together, where
 * updating it incrementally pays. The values returned are the same either way: both hold the
 * window's samples sorted.
 */
import type { SampleHistory } from './history.ts';
import { Moments } from './moments.ts';
import { MonoDeque } from './mono-deque.ts';
import { OrderStats } from './order-stats.ts';

/** Above this many missed samples (in + out) the sorted array is rebuilt instead of replayed. */
const REPLAY_LIMIT = 16;

/** The sorted window of the last sparse read (see order()), shared by every window. */
const scratch = new OrderStats(256);
let scratchOwner: Window | null = null;
let scratchStart = 0;
let scratchEnd = -1;

const WANTS_ORDER = 1;
const WANTS_MAX = 2;
const WANTS_MIN = 4;

/**
 * What a window keeps only once a clause has read its order statistics, max or min: apart from
 * the window itself, so a window read only through mean/std/sum/count carries none of it.
 */
class ReadState {
  orderStats: OrderStats | null = null;
  /** Newest sample of the previous read of the order statistics (−1: never read). */
  orderRead = -1;
  /** The order statistics hold samples [orderStart, orderEnd]; orderEnd < orderStart: empty. */
  orderStart = 0;
  orderEnd = -1;
  maxq: MonoDeque | null = null;
  minq: MonoDeque | null = null;
  /** Newest sample pushed into the max / min deque. */
  maxEnd = -1;
  minEnd = -1;
}

export class Window {
  /** Absolute index of the oldest sample in the window. */
  start = 0;
  /** Absolute index of the newest sample (the one just pushed). */
  end = -1;
  /** Whether the series spans the whole window yet (aggregates are unknown until it does). */
  complete = false;
  moments: Moments | null = null;
  /** What the rule reads: WANTS_ORDER | WANTS_MAX | WANTS_MIN. */
  private wants = 0;
  /** Allocated on the first read of order statistics, max or min. */
  private read: ReadState | null = null;

  constructor(
    private readonly h: SampleHistory,
    /** Window length in ms (0 when counted in samples). */
    readonly ms: number,
    /** Window length in samples (0 when a duration). */
    readonly n: number,
  ) {}

  need(kind: 'moments' | 'order' | 'max' | 'min'): void {
    if (kind === 'moments') this.moments ??= new Moments();
    else this.wants |= kind === 'order' ? WANTS_ORDER : kind === 'max' ? WANTS_MAX : WANTS_MIN;
  }

  /**
   * The oldest sample index the window may still read: its start, or a little before while its
   * own sorted array lags behind (so a replay does not have to rebuild). `strict`: the start only.
   */
  oldestNeeded(strict: boolean): number {
    const s = this.start;
    const r = this.read;
    if (strict || r === null || r.orderStats === null) return s;
    const os = r.orderStart;
    return os > s - REPLAY_LIMIT ? (os < s ? os : s) : s;
  }

  /**
   * Adds the sample just pushed at `idx` and evicts what fell out: samples in (t − ms, t] or the
   * last n. `t0` is the series' first timestamp (for completeness).
   */
  advance(idx: number, t: number, x: number, t0: number): void {
    const h = this.h;
    const m = this.moments;
    let s = this.start;
    let end: number;
    if (this.n > 0) {
      end = idx - this.n + 1;
      if (!this.complete) this.complete = idx + 1 >= this.n;
    } else {
      const mask = h.mask;
      const limit = t - this.ms;
      end = s;
      if (h.wide) {
        const times = h.times;
        while (times[end & mask]! <= limit) end++;
      } else {
        // base + offset is the sample's time exactly (SampleHistory checks it when storing).
        const offsets = h.offsets;
        const base = h.base;
        while (offsets[end & mask]! + base <= limit) end++;
      }
      if (!this.complete) this.complete = t - t0 >= this.ms;
    }
    if (m !== null) {
      m.add(x);
      if (end > s) {
        const values = h.values;
        const mask = h.mask;
        for (let i = s; i < end; i++) m.remove(values[i & mask]!);
      }
    }
    if (end > s) s = end;
    this.start = s;
    this.end = idx;
    if (m !== null && m.needsRebase()) m.rebase(h, s, idx);
  }

  /**
   * The window's order statistics, brought up to date. The object returned may be the shared
   * array of sparse reads: read it at once, before another window's order() call.
   */
  order(): OrderStats {
    const s = this.start;
    const e = this.end;
    const h = this.h;
    const values = h.values;
    const mask = h.mask;
    if ((this.wants & WANTS_ORDER) === 0) throw new Error('internal: order statistics read but not declared');
    const r = (this.read ??= new ReadState());
    let o = r.orderStats;
    if (o === null) {
      if (scratchOwner === this && scratchEnd === e && scratchStart === s) return scratch;
      const last = r.orderRead;
      r.orderRead = e;
      if (last < 0 || e - last > REPLAY_LIMIT) return this.sortIntoScratch(s, e);
      // Read again soon after the previous read: keep a sorted array of its own from now on.
      o = r.orderStats = new OrderStats(e - s + 1 + REPLAY_LIMIT);
      o.rebuild(values, mask, s, e);
      r.orderStart = s;
      r.orderEnd = e;
      return o;
    }
    const os = r.orderStart;
    const oe = r.orderEnd;
    if (oe === e) return o;
    r.orderRead = e;
    // Out: [os, min(s, oe + 1)) — what the array holds and the window no longer does.
    // In: [max(oe + 1, s), e] — what the window holds and the array does not. A sample that came
    // and went while nobody looked is in neither.
    const outEnd = s < oe + 1 ? s : oe + 1;
    const inStart = oe + 1 > s ? oe + 1 : s;
    const nOut = outEnd > os ? outEnd - os : 0;
    const nIn = e - inStart + 1;
    if (nOut + nIn > REPLAY_LIMIT) {
      // Far behind: read now and then again; the window's own array goes.
      r.orderStats = null;
      return this.sortIntoScratch(s, e);
    }
    if (nOut > 0 && os < h.first) {
      o.rebuild(values, mask, s, e);
    } else {
      let i = os;
      let j = inStart;
      for (; i < os + nOut && j <= e; i++, j++) o.replace(values[i & mask]!, values[j & mask]!);
      for (; i < os + nOut; i++) o.remove(values[i & mask]!);
      for (; j <= e; j++) o.insert(values[j & mask]!);
    }
    r.orderStart = s;
    r.orderEnd = e;
    return o;
  }

  private sortIntoScratch(s: number, e: number): OrderStats {
    scratch.rebuild(this.h.values, this.h.mask, s, e);
    scratchOwner = this;
    scratchStart = s;
    scratchEnd = e;
    return scratch;
  }

  /** The window's maximum (its deque brought up to date). */
  max(): number {
    if ((this.wants & WANTS_MAX) === 0) throw new Error('internal: max read but not declared');
    const r = (this.read ??= new ReadState());
    const q = (r.maxq ??= new MonoDeque(this.h, true));
    const s = this.start;
    const e = this.end;
    if (r.maxEnd !== e) {
      this.catchUp(q, r.maxEnd, s, e);
      r.maxEnd = e;
    }
    return q.front();
  }

  /** The window's minimum (its deque brought up to date). */
  min(): number {
    if ((this.wants & WANTS_MIN) === 0) throw new Error('internal: min read but not declared');
    const r = (this.read ??= new ReadState());
    const q = (r.minq ??= new MonoDeque(this.h, false));
    const s = this.start;
    const e = this.end;
    if (r.minEnd !== e) {
      this.catchUp(q, r.minEnd, s, e);
      r.minEnd = e;
    }
    return q.front();
  }

  /** Pushes the samples after `last` that are still in [s, e], then drops what left the window. */
  private catchUp(q: MonoDeque, last: number, s: number, e: number): void {
    const values = this.h.values;
    const mask = this.h.mask;
    for (let i = last + 1 > s ? last + 1 : s; i <= e; i++) q.push(i, values[i & mask]!);
    q.evictBefore(s);
  }
}
