/**
 * Event-loop lag of the controller thread, measured with a repeating timer. Everything that runs
 * on that thread waits for it: a request that arrived is read that late, a worker's result is
 * seen that late. The door counts it in a request's arrival time and the scheduler in every
 * finish time it predicts.
 */
/** `ms` is the recent worst lateness of a 2 ms timer, decaying by `decay` per period. */
export class LoopLag {
  private timer: NodeJS.Timeout | undefined;
  private expected = 0;
  private lag = 0;
  /**
   * `decay` 0.5 per period: a stall is felt by the requests read right after it (they waited in
   * their sockets that long) and forgotten within a few periods, so one stall does not refuse the
   * requests that arrive fresh after it.
   */
  constructor(private readonly periodMs = 2, private readonly decay = 0.5) {}

  start(): this {
    if (this.timer) return this;
    this.expected = performance.now() + this.periodMs;
    this.timer = setInterval(() => {
      const now = performance.now();
      const late = Math.max(0, now - this.expected);
      this.expected = now + this.periodMs;
      this.lag = Math.max(late, this.lag * this.decay);
    }, this.periodMs);
    this.timer.unref();
    return this;
  }

  /** The loop's current lag estimate, ms (what has been waiting is at least this late). */
  get ms(): number {
    // While the loop is blocked the timer cannot fire: count the time since it was due.
    return Math.max(this.lag, performance.now() - this.expected);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

