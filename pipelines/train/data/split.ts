/** Argos's protocol splits every series by time: the first 70% trains, the last 30% tests. */
import { InputError } from '../../core/errors.ts';
import type { IndexWindow } from './series.ts';

export const ARGOS_TRAIN_FRACTION = 0.7;

export interface SplitPoint {
  /** Index of the first test point; train is [0, cut), test is [cut, length). */
  cut: number;
  trainLength: number;
  testLength: number;
}

export function splitIndex(length: number, trainFraction: number = ARGOS_TRAIN_FRACTION): SplitPoint {
  if (!(trainFraction > 0 && trainFraction < 1)) {
    throw new InputError(`trainFraction: expected a number in (0, 1), got ${trainFraction}`);
  }
  const cut = Math.floor(length * trainFraction);
  return { cut, trainLength: cut, testLength: length - cut };
}

/** Splits any array-like column at `cut`. */
export function splitArray<T extends Float64Array | Uint8Array>(a: T, cut: number): [T, T] {
  return [a.subarray(0, cut) as T, a.subarray(cut) as T];
}

/** Windows clipped to [from, to) and re-based to start at `from`; a window cut by the split keeps its part on each side. */
export function clipWindows(windows: readonly IndexWindow[], from: number, to: number): IndexWindow[] {
  const out: IndexWindow[] = [];
  for (const w of windows) {
    const s = Math.max(w.start, from);
    const e = Math.min(w.end, to - 1);
    if (s <= e) out.push({ start: s - from, end: e - from });
  }
  return out;
}
