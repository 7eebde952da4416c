/**
 * Admission at the door: what a request costs before the scheduler sees it, so that a request the
 * server cannot serve in time is refused on arrival, before its body is read or parsed.
 *
 * The scheduler's admission sees a request only once its body is read and parsed. On one event
 * loop that also runs HTTP, that time is invisible to it: requests wait in socket buffers while the
 * loop is busy, then in the loop while earlier bodies parse. Past capacity the scheduler then
 * decides on a stale picture and the machine is spent on requests that are refused late. The door
 * counts three things:
 * - **loop lag**: how late a 2 ms timer fires, a measure of how long a request that just arrived
 *   may have waited in its socket before the loop read it. The request's arrival is taken as
 *   "seen − lag", so that time counts against its deadline;
 * - **parse backlog**: the estimated parse time of the bodies admitted and not yet handed to the
 *   pool (they are parsed one after another on this thread);
 * - **parse cost** of this body: bytes × the measured cost per byte of its encoding (JSON or the
 *   binary extension), learned from every parse.
 * With those it asks the pool whether the request, reaching the scheduler then, could still finish
 * by its deadline given the work queued ahead (`InferencePool.admitAtDoor`).
 */

import { LoopLag } from '../loop-lag.ts';

export type Encoding = 'json' | 'binary';

/** Parse cost per encoding: a fixed part and a part per byte, each an exponentially weighted mean. */
export class ParseCost {
  private readonly perByteNs: Record<Encoding, number> = { json: 15, binary: 1 };
  private readonly fixedMs: Record<Encoding, number> = { json: 0.02, binary: 0.03 };
  constructor(private readonly alpha = 0.05) {}

  estimate(enc: Encoding, bytes: number): number {
    return this.fixedMs[enc] + (bytes * this.perByteNs[enc]) / 1e6;
  }

  /** Learns from one parse of `bytes` that took `ms`. Small bodies teach the fixed part. */
  observe(enc: Encoding, bytes: number, ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) return;
    if (bytes < 2048) this.fixedMs[enc] += this.alpha * (ms - this.fixedMs[enc]);
    else this.perByteNs[enc] += this.alpha * ((Math.max(0, ms - this.fixedMs[enc]) * 1e6) / bytes - this.perByteNs[enc]);
  }
}

export interface DoorEstimate {
  /** When the request is taken to have arrived (seen − lag), epoch ms. */
  arrivedAt: number;
  /** When it is expected to reach the scheduler, epoch ms. */
  atScheduler: number;
  /** This body's estimated parse time, ms (to add to and remove from the backlog). */
  parseMs: number;
  lagMs: number;
}

/** The door's running picture: loop lag, parse backlog, parse cost. */
export class Door {
  readonly lag: LoopLag;
  readonly cost = new ParseCost();
  /** Estimated parse time of the bodies admitted and not yet handed to the pool, ms. */
  private backlogMs = 0;
  /** Requests admitted at the door and not yet handed to the pool. */
  inDoor = 0;

  /** `lag`: the controller loop's lag (the pool's: the door runs on the pool's thread). */
  constructor(lag: LoopLag) {
    this.lag = lag;
  }

  /** The door's estimate for a request seen at `now` with a body of `bytes` bytes. */
  estimate(now: number, enc: Encoding, bytes: number): DoorEstimate {
    const lagMs = this.lag.ms;
    const parseMs = this.cost.estimate(enc, bytes);
    return { arrivedAt: now - lagMs, atScheduler: now + this.backlogMs + parseMs, parseMs, lagMs };
  }

  /** The estimate for a body parsed on a parse worker whose backlog is `workerBacklogMs`. */
  estimateOffloaded(now: number, bytes: number, workerBacklogMs: number): DoorEstimate {
    const lagMs = this.lag.ms;
    const parseMs = this.cost.estimate('json', bytes);
    return { arrivedAt: now - lagMs, atScheduler: now + workerBacklogMs + parseMs, parseMs, lagMs };
  }

  enter(e: DoorEstimate): void {
    this.backlogMs += e.parseMs;
    this.inDoor++;
  }

  leave(e: DoorEstimate): void {
    this.backlogMs = Math.max(0, this.backlogMs - e.parseMs);
    this.inDoor--;
    if (this.inDoor === 0) this.backlogMs = 0;
  }

  get parseBacklogMs(): number {
    return this.backlogMs;
  }
}
