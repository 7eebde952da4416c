/**
 * `zscore-w64`: a robust z-score anomaly scorer expressed in ONNX ops. Input `window` [batch, 64]
 * holds a series' last 64 values (oldest first); output `score` [batch, 1] is
 * |last − median| / (1.4826·MAD + eps), where MAD is the median absolute deviation. The median of
 * an even window is the mean of its two middle order statistics, taken with TopK (a full sort)
 * and Gather. `robustZScore` is the TypeScript twin the tests compare against.
 */
import { GraphBuilder } from '../onnx/writer.ts';
import type { Signature } from './signature.ts';

export const ZSCORE_WINDOW = 64;
export const ZSCORE_EPS = 1e-6;
const MAD_SCALE = 1.4826;

export function buildZscore(name = 'zscore-w64', window = ZSCORE_WINDOW): { bytes: Uint8Array; signature: Signature } {
  if (window < 2 || window % 2 !== 0) throw new RangeError(`zscore window must be even and ≥ 2, got ${window}`);
  const g = new GraphBuilder(name);
  const x = g.input('window', ['batch', window]);
  const k = g.int64Const('k', [1], [window]);
  const mid = g.int64Const('mid', [2], [window / 2 - 1, window / 2]);
  const lastIdx = g.int64Const('last_idx', [1], [window - 1]);
  const median = (t: string): string => {
    const sorted = g.node('TopK', [t, k], { axis: 1, largest: 1, sorted: 1 }, [`${t}_sorted`, `${t}_order`]);
    const middle = g.node('Gather', [sorted, mid], { axis: 1 });
    return g.node('ReduceMean', [middle], { axes: [1], keepdims: 1 });
  };
  const med = median(x);
  const last = g.node('Gather', [x, lastIdx], { axis: 1 });
  const absDev = g.node('Abs', [g.node('Sub', [x, med])]);
  const mad = median(absDev);
  const denom = g.node('Add', [g.node('Mul', [mad, g.floatConst('mad_scale', [], [MAD_SCALE])]), g.floatConst('eps', [], [ZSCORE_EPS])]);
  g.node('Div', [g.node('Abs', [g.node('Sub', [last, med])]), denom], {}, 'score');
  g.output('score', ['batch', 1]);
  return {
    bytes: g.toBytes({ family: 'detector', window: String(window) }),
    signature: {
      inputs: [{ name: 'window', datatype: 'FP32', shape: [-1, window] }],
      outputs: [{ name: 'score', datatype: 'FP32', shape: [-1, 1] }],
    },
  };
}

function medianOf(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/** The same score in plain TypeScript (double precision). */
export function robustZScore(window: ArrayLike<number>): number {
  const xs = Array.from(window);
  const med = medianOf(xs);
  const mad = medianOf(xs.map((v) => Math.abs(v - med)));
  return Math.abs(xs[xs.length - 1]! - med) / (MAD_SCALE * mad + ZSCORE_EPS);
}
