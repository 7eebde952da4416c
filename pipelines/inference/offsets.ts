/**
 * Which input offsets may be committed while requests of a partition finish out of order.
 *
 * The Kafka interface admits every record of a batch at once and the pool answers them in
 * deadline order, not offset order. The committed offset of a partition may only move past a
 * record once its result (or dead letter) is acknowledged by the broker, so the committable
 * position is the first offset still in flight, or one past the last offset seen when none is.
 * Pure bookkeeping: no I/O, no timers.
 */

interface PartitionState {
  /** Offsets in the order they were added (increasing within one assignment). */
  offsets: number[];
  /** offset → index into `offsets`, for the offsets not yet passed by `head`. */
  index: Map<number, number>;
  done: boolean[];
  /** First index not known to be done. */
  head: number;
  /** Largest offset added (survives the compaction of `offsets`), or -1. */
  last: number;
  /** The position last handed out by `committable` (next offset to read), or -1. */
  committed: number;
  /** Bumped when the partition is reset, so results of an earlier assignment are ignored. */
  generation: number;
}

export interface Ticket {
  partition: number;
  offset: number;
  generation: number;
}

export class OffsetTracker {
  private readonly parts = new Map<number, PartitionState>();
  private generations = 0;
  private pending = 0;

  /** Records added and not yet marked done (across partitions). */
  get inFlight(): number {
    return this.pending;
  }

  inFlightOf(partition: number): number {
    const s = this.parts.get(partition);
    if (!s) return 0;
    let n = 0;
    for (let i = s.head; i < s.offsets.length; i++) if (!s.done[i]) n++;
    return n;
  }

  private state(partition: number): PartitionState {
    let s = this.parts.get(partition);
    if (!s) {
      s = { offsets: [], index: new Map(), done: [], head: 0, last: -1, committed: -1, generation: ++this.generations };
      this.parts.set(partition, s);
    }
    return s;
  }

  /**
   * Starts tracking a record. Offsets of a partition must increase; a smaller or repeated one
   * means the consumer went back (a re-fetch), so the partition starts over: the records before
   * were either committed already or will be delivered again.
   */
  add(partition: number, offset: number): Ticket {
    let s = this.state(partition);
    if (offset <= s.last) {
      this.reset(partition);
      s = this.state(partition);
    }
    s.index.set(offset, s.offsets.length);
    s.offsets.push(offset);
    s.done.push(false);
    s.last = offset;
    this.pending++;
    return { partition, offset, generation: s.generation };
  }

  /** Marks a record answered (its result acknowledged). Returns false for a stale or unknown ticket. */
  done(t: Ticket): boolean {
    const s = this.parts.get(t.partition);
    if (!s || s.generation !== t.generation) return false;
    const i = s.index.get(t.offset);
    if (i === undefined || s.done[i]) return false;
    s.done[i] = true;
    this.pending--;
    while (s.head < s.offsets.length && s.done[s.head]) {
      s.index.delete(s.offsets[s.head]!);
      s.head++;
    }
    // Keep the arrays short: drop the finished prefix once it dominates.
    if (s.head > 1024 && s.head * 2 > s.offsets.length) {
      s.offsets = s.offsets.slice(s.head);
      s.done = s.done.slice(s.head);
      s.index = new Map(s.offsets.map((o, j) => [o, j] as [number, number]).filter(([, j]) => !s.done[j]));
      s.head = 0;
    }
    return true;
  }

  /** The position (next offset to read) that may be committed per partition, where it moved since the last call. */
  committable(): { partition: number; offset: number }[] {
    const out: { partition: number; offset: number }[] = [];
    for (const [partition, s] of this.parts) {
      if (s.last < 0) continue;
      const pos = s.head < s.offsets.length ? s.offsets[s.head]! : s.last + 1;
      if (pos > s.committed) {
        s.committed = pos;
        out.push({ partition, offset: pos });
      }
    }
    return out;
  }

  /** Forgets a partition (revoked, or re-fetched from an earlier offset); its in-flight tickets become stale. */
  reset(partition: number): void {
    const s = this.parts.get(partition);
    if (!s) return;
    for (let i = s.head; i < s.offsets.length; i++) if (!s.done[i]) this.pending--;
    this.parts.delete(partition);
  }
}
