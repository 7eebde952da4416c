/**
 * Open-loop arrival times (pure): a non-homogeneous Poisson process sampled by thinning, with the
 * rate shaped as constant (poisson), a sine around the mean (diurnal) or a base rate with periodic
 * bursts (burst). Same seed, same arrivals.
 */
import { mulberry32 } from '../../core/random.ts';
import type { WorkloadSpec } from '../types.ts';

export function rateAt(spec: WorkloadSpec, tMs: number): number {
  switch (spec.shape) {
    case 'poisson':
      return spec.rps;
    case 'diurnal': {
      // A day compressed into the period: trough at the start, peak in the middle.
      const period = spec.periodMs ?? spec.durationMs;
      return spec.rps * (1 - 0.6 * Math.cos((2 * Math.PI * tMs) / period));
    }
    case 'burst': {
      const b = spec.burst ?? { everyMs: 10_000, lengthMs: 2_000, factor: 5 };
      return tMs % b.everyMs >= b.everyMs - b.lengthMs ? spec.rps * b.factor : spec.rps;
    }
  }
}

function maxRate(spec: WorkloadSpec): number {
  if (spec.shape === 'diurnal') return spec.rps * 1.6;
  if (spec.shape === 'burst') return spec.rps * Math.max(1, (spec.burst ?? { factor: 5 }).factor);
  return spec.rps;
}

/** Arrival offsets (ms from start) within [0, durationMs), at most `max` of them. */
export function arrivals(spec: WorkloadSpec, max: number): number[] {
  const rnd = mulberry32(spec.seed);
  const lmax = maxRate(spec);
  const out: number[] = [];
  let t = 0;
  while (out.length < max) {
    t += (-Math.log(1 - rnd()) / lmax) * 1000;
    if (t >= spec.durationMs) break;
    if (rnd() * lmax <= rateAt(spec, t)) out.push(t);
  }
  return out;
}
