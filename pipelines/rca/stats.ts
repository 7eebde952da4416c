/**
 * Small numeric kit for the RCA stage: robust location/scale, correlation, partial correlation,
 * Fisher z tests and least squares. Plain arrays, no dependencies: the matrices here are a few
 * dozen columns wide, so clarity beats speed.
 */

export type Matrix = number[][];

export function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return xs.length === 0 ? NaN : s / xs.length;
}

export function std(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) ** 2;
  return Math.sqrt(s / (xs.length - 1));
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median absolute deviation (unscaled, as dowhy's MedianDeviationScorer uses it). */
export function mad(xs: readonly number[]): number {
  const m = median(xs);
  return median(xs.map((x) => Math.abs(x - m)));
}

/** Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): enough for p-values compared with alpha. */
export function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const ax = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * ax);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-ax * ax);
  return sign * y;
}

export function normalCdf(z: number): number {
  return 0.5 * (1 + erf(z / Math.SQRT2));
}

/** Columns of `rows` (samples × variables) standardized to a correlation matrix. */
export function correlationMatrix(rows: readonly (readonly number[])[]): Matrix {
  const n = rows.length;
  const p = n === 0 ? 0 : rows[0]!.length;
  const mu = new Array<number>(p).fill(0);
  for (const r of rows) for (let j = 0; j < p; j++) mu[j]! += r[j]! / n;
  const cov: Matrix = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  for (const r of rows) {
    for (let i = 0; i < p; i++) {
      const di = r[i]! - mu[i]!;
      for (let j = i; j < p; j++) cov[i]![j]! += di * (r[j]! - mu[j]!);
    }
  }
  const corr: Matrix = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  for (let i = 0; i < p; i++) {
    for (let j = i; j < p; j++) {
      const d = Math.sqrt(cov[i]![i]! * cov[j]![j]!);
      const c = i === j ? 1 : d > 0 ? cov[i]![j]! / d : 0;
      corr[i]![j] = c;
      corr[j]![i] = c;
    }
  }
  return corr;
}

/** Gauss–Jordan inverse with partial pivoting; a tiny ridge keeps near-singular sets usable. */
export function invert(a: Matrix, ridge = 1e-10): Matrix {
  const n = a.length;
  const m = a.map((row, i) => [...row.map((v, j) => (i === j ? v + ridge : v)), ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[piv]![c]!)) piv = r;
    [m[c], m[piv]] = [m[piv]!, m[c]!];
    const d = m[c]![c]!;
    if (Math.abs(d) < 1e-14) continue;
    for (let j = 0; j < 2 * n; j++) m[c]![j]! /= d;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]!;
      if (f === 0) continue;
      for (let j = 0; j < 2 * n; j++) m[r]![j]! -= f * m[c]![j]!;
    }
  }
  return m.map((row) => row.slice(n));
}

/** Partial correlation of i and j given the set s, from the precision matrix of {i, j} ∪ s. */
export function partialCorrelation(corr: Matrix, i: number, j: number, s: readonly number[]): number {
  if (s.length === 0) return corr[i]![j]!;
  const idx = [i, j, ...s];
  const sub = idx.map((a) => idx.map((b) => corr[a]![b]!));
  const prec = invert(sub, 1e-8);
  const d = Math.sqrt(prec[0]![0]! * prec[1]![1]!);
  if (!(d > 0)) return 0;
  const r = -prec[0]![1]! / d;
  return Math.max(-0.999999, Math.min(0.999999, r));
}

/** Two-sided p-value of H0: partial correlation r = 0, n samples, k conditioning variables. */
export function fisherZPValue(r: number, n: number, k: number): number {
  const dof = n - k - 3;
  if (dof <= 0) return 1;
  const z = 0.5 * Math.log((1 + r) / (1 - r)) * Math.sqrt(dof);
  return 2 * (1 - normalCdf(Math.abs(z)));
}

/**
 * Least squares with an intercept and a ridge penalty pulling each slope toward a prior
 * (default 0): minimizes |y − Xb|² + λ·n·|b − prior|². With informative data the data wins;
 * a regressor with no variation keeps its prior. Returns [intercept, b1..bk] and the residual SD.
 */
export function ols(y: readonly number[], xs: readonly (readonly number[])[], ridge: number | readonly number[] = 1e-6, prior?: readonly number[]): { coef: number[]; residualStd: number } {
  const n = y.length;
  const k = xs.length;
  const p = k + 1;
  const xtx: Matrix = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  const xty = new Array<number>(p).fill(0);
  const row = new Array<number>(p).fill(1);
  for (let t = 0; t < n; t++) {
    for (let a = 0; a < k; a++) row[a + 1] = xs[a]![t]!;
    for (let a = 0; a < p; a++) {
      xty[a]! += row[a]! * y[t]!;
      for (let b = 0; b < p; b++) xtx[a]![b]! += row[a]! * row[b]!;
    }
  }
  for (let a = 1; a < p; a++) {
    const lambda = typeof ridge === 'number' ? ridge : (ridge[a - 1] ?? 0);
    xtx[a]![a]! += lambda * n;
    xty[a]! += lambda * n * (prior?.[a - 1] ?? 0);
  }
  const inv = invert(xtx, 0);
  const coef = inv.map((r) => r.reduce((s, v, b) => s + v * xty[b]!, 0));
  let ss = 0;
  for (let t = 0; t < n; t++) {
    let pred = coef[0]!;
    for (let a = 0; a < k; a++) pred += coef[a + 1]! * xs[a]![t]!;
    ss += (y[t]! - pred) ** 2;
  }
  return { coef, residualStd: Math.sqrt(ss / Math.max(1, n - p)) };
}

/** Seeded PRNG for synthetic data and shuffles (the project's one mulberry32). */
export { mulberry32 as rng } from '../core/random.ts';

export function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
