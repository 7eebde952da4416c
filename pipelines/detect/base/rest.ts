/**
 * One alarm per event, and how it combines with Argos rules.
 *
 * A base detector's alarm condition often holds for several samples of one event; after an alarm
 * it raises no new one for `rest` accepted samples. The rest is applied **after** the FP rules:
 * an alarm that an FP rule vetoes was never raised, so it starts no rest period, and the same
 * event can still be detected a few samples later (when the veto no longer holds). FN rules add
 * alarms of their own and do not touch the base's rest.
 *
 * Online, `SeriesDetector` calls `BaseDetector.veto()` right after an update whose alarm an FP
 * rule removed. Offline (the Argos trainer and evaluation), `combineTrace` replays the same
 * decision over whole label arrays from the base's alarm *candidates* (`traceBase`), so training
 * scores exactly what the online path will raise (tests/unit/detect/base/rest.test.ts checks this
 * against SeriesDetector with real rules).
 */
import type { BaseDetector } from './types.ts';

/** The rest period of one detector: which sample raised the last alarm that was not vetoed. */
export class RestGate {
  private last = -Infinity;
  private before = -Infinity;
  private armed = false;

  constructor(readonly rest: number) {}

  /**
   * The alarm condition holds on accepted sample `n`: true when an alarm may be raised now (it is
   * then recorded as the last alarm), false while resting.
   */
  pass(n: number): boolean {
    if (n - this.last > this.rest) {
      this.before = this.last;
      this.last = n;
      this.armed = true;
      return true;
    }
    this.armed = false;
    return false;
  }

  /** True when an alarm on sample `n` would be held back by the rest period. */
  resting(n: number): boolean {
    return !(n - this.last > this.rest);
  }

  /** Any sample that raised no alarm: a later `veto()` has nothing to undo. */
  clear(): void {
    this.armed = false;
  }

  /** The alarm just raised was removed by an FP rule: forget it, so it starts no rest period. */
  veto(): void {
    if (!this.armed) return;
    this.last = this.before;
    this.armed = false;
  }
}

/**
 * What a base detector decided on a whole series, before the rest: enough to replay the rest
 * with any set of FP vetoes. Positional (one entry per row of the series).
 */
export interface BaseTrace {
  /** 1 where the alarm condition held on an accepted sample (whether or not the rest let it through). */
  candidates: Uint8Array;
  /** The accepted-sample index of each row; −1 for a row the detector did not accept (NaN, repeated or older timestamp). */
  sample: Int32Array;
  /** The detector's rest period in accepted samples (0: every candidate is an alarm). */
  rest: number;
}

/**
 * Runs a fresh detector over a series with SeriesDetector's input rules (a timestamp not after
 * the last one is dropped; a NaN/±Inf value is skipped but its timestamp counts) and records its
 * alarm candidates.
 */
export function traceBase(make: () => BaseDetector, timestamps: ArrayLike<number>, values: ArrayLike<number>, end = values.length): BaseTrace {
  const d = make();
  const candidates = new Uint8Array(end);
  const sample = new Int32Array(end).fill(-1);
  let lastT = -Infinity;
  let n = 0;
  for (let i = 0; i < end; i++) {
    const t = timestamps[i]!;
    const v = values[i]!;
    if (!(t > lastT) || t === Infinity) continue;
    lastT = t;
    if (v - v !== 0) continue;
    const r = d.update(t, v);
    sample[i] = n++;
    candidates[i] = (r.candidate ?? r.isAnomaly) ? 1 : 0;
  }
  return { candidates, sample, rest: d.rest ?? 0 };
}

/** A trace from plain 0/1 labels (a detector without a rest): every labelled row is an alarm. */
export function traceOfLabels(labels: ArrayLike<number>, end = labels.length): BaseTrace {
  const candidates = new Uint8Array(end);
  const sample = new Int32Array(end);
  for (let i = 0; i < end; i++) {
    candidates[i] = labels[i] ? 1 : 0;
    sample[i] = i;
  }
  return { candidates, sample, rest: 0 };
}

/**
 * The sample index of the last alarm raised before row `row` (−Infinity: none), with the FP vetoes
 * `fp` (1 = an FP rule fires on that row; null = no FP rule). Lets a caller score rows
 * [row, …) without replaying the prefix each time.
 */
export function lastAlarmBefore(trace: BaseTrace, fp: ArrayLike<number> | null, row: number): number {
  const { candidates, sample, rest } = trace;
  let last = -Infinity;
  for (let i = 0; i < row; i++) {
    if (candidates[i] === 0) continue;
    const n = sample[i]!;
    if (n - last > rest && !(fp !== null && fp[i])) last = n;
  }
  return last;
}

/**
 * Argos's combination as SeriesDetector computes it, on rows [from, to):
 * `label = (base alarm ∧ ¬FP) ∨ FN`, where a base alarm is a candidate outside the rest period of
 * the last alarm that no FP rule vetoed. `fp` / `fn`: 1 where any FP / FN rule fires (null: none).
 * `last`: the value of `lastAlarmBefore(trace, fp, from)` (computed when omitted).
 */
export function combineTrace(
  trace: BaseTrace,
  fp: ArrayLike<number> | null,
  fn: ArrayLike<number> | null,
  from = 0,
  to = trace.candidates.length,
  last = lastAlarmBefore(trace, fp, from),
  out = new Uint8Array(to - from),
): Uint8Array {
  const { candidates, sample, rest } = trace;
  for (let i = from; i < to; i++) {
    let label = 0;
    if (candidates[i] === 1) {
      const n = sample[i]!;
      if (n - last > rest) {
        if (fp !== null && fp[i]) {
          // Vetoed: never raised, starts no rest.
        } else {
          last = n;
          label = 1;
        }
      }
    }
    out[i - from] = fn !== null && fn[i] ? 1 : label;
  }
  return out;
}

/** The base's own alarms (no rules): `combineTrace` without vetoes or additions. */
export function traceAlarms(trace: BaseTrace, from = 0, to = trace.candidates.length): Uint8Array {
  return combineTrace(trace, null, null, from, to);
}
