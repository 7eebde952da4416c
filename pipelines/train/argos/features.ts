/**
 * Per-row feature series the offline synthesizer thresholds. Each feature is the number a rule
 * template compares, computed with the rule language's semantics for sample-count windows: the
 * window holds the last W accepted samples including the current one, and is unknown (NaN) until
 * W samples have been seen. Rows the engine does not feed (timestamp not increasing, value not
 * finite) are NaN. The review step re-scores every rule with the real engine, so these only have
 * to rank thresholds well, but they are exact for the templates used.
 */

import { OrderStats } from '../../detect/index.ts';

export type FeatureName = 'value' | 'z48' | 'z288' | 'rz48' | 'rz288' | 'std48' | 'std288' | 'shift12_288' | 'delta1' | 'qr288' | 'qr1440';

export interface FeatureSpec {
  name: FeatureName;
  /** Rule text for `feature <op> threshold`. */
  expr(op: '>' | '<', threshold: string): string;
  /** Whether the threshold must be positive for the rule text to mean `feature <op> threshold`. */
  positiveOnly: boolean;
}

const z = (w: number): FeatureSpec['expr'] => (op, k) => (k.startsWith('-') ? `value ${op} mean(${w} samples) - ${k.slice(1)} * std(${w} samples)` : `value ${op} mean(${w} samples) + ${k} * std(${w} samples)`);
const rz = (w: number): FeatureSpec['expr'] => (op, k) => `abs(value - median(${w} samples)) ${op} ${k} * mad(${w} samples)`;

export const FEATURES: Record<FeatureName, FeatureSpec> = {
  value: { name: 'value', expr: (op, c) => `value ${op} ${c}`, positiveOnly: false },
  z48: { name: 'z48', expr: z(48), positiveOnly: false },
  z288: { name: 'z288', expr: z(288), positiveOnly: false },
  rz48: { name: 'rz48', expr: rz(48), positiveOnly: true },
  rz288: { name: 'rz288', expr: rz(288), positiveOnly: true },
  std48: { name: 'std48', expr: (op, s) => `std(48 samples) ${op} ${s}`, positiveOnly: true },
  std288: { name: 'std288', expr: (op, s) => `std(288 samples) ${op} ${s}`, positiveOnly: true },
  shift12_288: { name: 'shift12_288', expr: (op, c) => `mean(12 samples) - mean(288 samples) ${op} ${c}`, positiveOnly: false },
  delta1: { name: 'delta1', expr: (op, c) => `value - lag(1) ${op} ${c}`, positiveOnly: false },
  // The value's rank in its window: `value < quantile(q, W)` holds exactly when the rank is below q.
  qr288: { name: 'qr288', expr: (op, q) => `value ${op === '<' ? '<' : '>'} quantile(${q}, 288 samples)`, positiveOnly: true },
  qr1440: { name: 'qr1440', expr: (op, q) => `value ${op === '<' ? '<' : '>'} quantile(${q}, 1440 samples)`, positiveOnly: true },
};

/** Row indexes the rule engine evaluates (increasing timestamp, finite value). */
export function acceptedRows(timestamps: ArrayLike<number>, values: ArrayLike<number>, end: number): Int32Array {
  const out: number[] = [];
  let last = -Infinity;
  for (let i = 0; i < end; i++) {
    const t = timestamps[i]!;
    if (!(t > last)) continue;
    last = t;
    if (Number.isFinite(values[i]!)) out.push(i);
  }
  return Int32Array.from(out);
}

function rollingMeanStd(x: Float64Array, w: number): { mean: Float64Array; std: Float64Array } {
  const n = x.length;
  const mean = new Float64Array(n).fill(NaN);
  const std = new Float64Array(n).fill(NaN);
  // Shifted sums keep the variance accurate for large, nearly constant values.
  const shift = n > 0 ? x[0]! : 0;
  let s = 0;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i]! - shift;
    s += d;
    ss += d * d;
    if (i >= w) {
      const o = x[i - w]! - shift;
      s -= o;
      ss -= o * o;
    }
    if (i >= w - 1) {
      const m = s / w;
      mean[i] = m + shift;
      std[i] = Math.sqrt(Math.max(0, ss / w - m * m));
    }
  }
  return { mean, std };
}

/** |value − median| / mad over the last w samples; Infinity where mad is 0 and value is off the median. */
function rollingRobustZ(x: Float64Array, w: number): Float64Array {
  const n = x.length;
  const out = new Float64Array(n).fill(NaN);
  const win = new OrderStats(w);
  for (let i = 0; i < n; i++) {
    if (i >= w) win.remove(x[i - w]!);
    win.insert(x[i]!);
    if (win.n < w) continue;
    const med = win.quantile(0.5);
    const mad = win.mad();
    const d = Math.abs(x[i]! - med);
    out[i] = mad > 0 ? d / mad : d > 0 ? Infinity : 0;
  }
  return out;
}

/**
 * Rank of the current value in its window of the last w samples (itself included), as the
 * largest q with quantile(q) <= value: (last index of the value in sorted order) / (w − 1).
 * Then `value < quantile(q, w)` (linear interpolation, R type 7) holds exactly when rank < q.
 */
function rollingRank(x: Float64Array, w: number): Float64Array {
  const n = x.length;
  const out = new Float64Array(n).fill(NaN);
  const win = new OrderStats(w);
  for (let i = 0; i < n; i++) {
    if (i >= w) win.remove(x[i - w]!);
    win.insert(x[i]!);
    if (win.n < w) continue;
    const last = win.countAtMost(x[i]!) - 1;
    out[i] = w > 1 ? last / (w - 1) : 1;
  }
  return out;
}

/** Computes one feature over accepted rows [0, end) and spreads it back onto rows (NaN elsewhere). */
export function computeFeature(name: FeatureName, values: ArrayLike<number>, rows: Int32Array, end: number): Float64Array {
  const x = Float64Array.from(rows, (r) => values[r]!);
  let f: Float64Array;
  switch (name) {
    case 'value':
      f = x;
      break;
    case 'z48':
    case 'z288': {
      const { mean, std } = rollingMeanStd(x, name === 'z48' ? 48 : 288);
      f = x.map((v, i) => (std[i]! > 0 ? (v - mean[i]!) / std[i]! : Number.isNaN(std[i]!) ? NaN : 0));
      break;
    }
    case 'std48':
    case 'std288':
      f = rollingMeanStd(x, name === 'std48' ? 48 : 288).std;
      break;
    case 'rz48':
    case 'rz288':
      f = rollingRobustZ(x, name === 'rz48' ? 48 : 288);
      break;
    case 'shift12_288': {
      const s = rollingMeanStd(x, 12).mean;
      const l = rollingMeanStd(x, 288).mean;
      f = s.map((v, i) => v - l[i]!);
      break;
    }
    case 'delta1':
      f = x.map((v, i) => (i === 0 ? NaN : v - x[i - 1]!));
      break;
    case 'qr288':
    case 'qr1440':
      f = rollingRank(x, name === 'qr288' ? 288 : 1440);
      break;
  }
  const out = new Float64Array(end).fill(NaN);
  rows.forEach((r, i) => {
    out[r] = f[i]!;
  });
  return out;
}

/**
 * `for n` on a feature: the rule `f > k for n` fires where the minimum of the last n accepted
 * values exceeds k (maximum for `<`); NaN if any of them is unknown.
 */
export function persist(f: Float64Array, rows: Int32Array, n: number, op: '>' | '<'): Float64Array {
  if (n <= 1) return f;
  const out = new Float64Array(f.length).fill(NaN);
  for (let i = n - 1; i < rows.length; i++) {
    let acc = op === '>' ? Infinity : -Infinity;
    for (let j = i - n + 1; j <= i; j++) {
      const v = f[rows[j]!]!;
      if (Number.isNaN(v)) {
        acc = NaN;
        break;
      }
      acc = op === '>' ? Math.min(acc, v) : Math.max(acc, v);
    }
    out[rows[i]!] = acc;
  }
  return out;
}
