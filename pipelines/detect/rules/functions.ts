/**
 * The function table, shared by parser (arity in messages), checker (types), compiler, interpreter
 * and README. Every function returns a number; what its arguments may be is its `params` list.
 */

/**
 * - `window`: a duration (`1h`: samples in (t − 1h, t]) or a sample count (`60 samples`)
 * - `q`: a constant number in [0, 1]
 * - `smoothing`: a constant alpha in (0, 1], a halflife duration or a halflife in samples
 * - `lag`: a constant whole number of samples ≥ 1 (or `N samples`)
 * - `period`: a duration
 * - `number`: any numeric expression
 */
export type ParamKind = 'window' | 'q' | 'smoothing' | 'lag' | 'period' | 'number';

export interface FunctionSpec {
  name: string;
  params: ParamKind[];
  summary: string;
}

const list: FunctionSpec[] = [
  { name: 'mean', params: ['window'], summary: 'arithmetic mean of the window' },
  { name: 'std', params: ['window'], summary: 'population standard deviation of the window' },
  { name: 'min', params: ['window'], summary: 'smallest value in the window' },
  { name: 'max', params: ['window'], summary: 'largest value in the window' },
  { name: 'sum', params: ['window'], summary: 'sum of the window' },
  { name: 'count', params: ['window'], summary: 'number of (non-NaN) samples in the window' },
  { name: 'median', params: ['window'], summary: 'median of the window (quantile 0.5)' },
  { name: 'mad', params: ['window'], summary: 'median absolute deviation from the median (unscaled; × 1.4826 ≈ σ for normal data)' },
  { name: 'quantile', params: ['q', 'window'], summary: 'q-quantile of the window, linear interpolation between order statistics' },
  { name: 'ewma', params: ['smoothing'], summary: 'exponentially weighted moving average over the whole series' },
  { name: 'rate', params: ['window'], summary: '(last − first) / seconds between them, over the window' },
  { name: 'delta', params: ['window'], summary: 'last − first value in the window' },
  { name: 'lag', params: ['lag'], summary: 'the value N samples before the current one' },
  { name: 'seasonal', params: ['period'], summary: 'the value one period ago: the latest sample at or before t − period' },
  { name: 'abs', params: ['number'], summary: 'absolute value' },
];

export const functions: ReadonlyMap<string, FunctionSpec> = new Map(list.map((f) => [f.name, f]));
export const functionList: readonly FunctionSpec[] = list;

/** Aggregates over a window, the ones incremental state is kept for. */
export const windowAggregates = new Set(['mean', 'std', 'min', 'max', 'sum', 'count', 'median', 'mad', 'quantile', 'rate', 'delta']);
