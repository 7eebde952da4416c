/**
 * A small seeded generator (mulberry32) so a training run is reproducible from its seed: chunk
 * choice is the only randomness in the loop, and Math.random would make rules differ per run.
 */
import { mulberry32 } from '../../core/random.ts';

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number;
}

export function createRng(seed: number): Rng {
  const next = mulberry32((Math.trunc(seed) ^ 0x9e3779b9) >>> 0);
  return { next, int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)) };
}
