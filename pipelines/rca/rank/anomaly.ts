/**
 * Per-series anomaly models fitted on normal data. Median/MAD as in the PetShop baseline
 * (dowhy's MedianDeviationScorer, threshold 5), but one-sided by the metric's polarity: a latency
 * that drops or an availability that rises is not a symptom of a fault.
 */
import { mad, median, std } from '../stats.ts';

export type Direction = 'up' | 'down' | 'both';

/** Which way is bad for a metric, from its name. */
export function metricDirection(metric: string): Direction {
  const m = metric.toLowerCase();
  if (/(availability|success|throughput_ok|uptime|hit_ratio)/.test(m) || /^up$/.test(m)) return 'down';
  if (/(latency|duration|error|fail|saturation|utili[sz]ation|queue|lag|wait|memory|cpu|restart|timeout|drop|loss)/.test(m)) return 'up';
  return 'both';
}

export interface AnomalyModel {
  center: number;
  scale: number;
  /** How the scale was obtained: MAD, standard deviation (MAD was 0), or a constant series. */
  kind: 'mad' | 'std' | 'constant';
  n: number;
}

export function finite(xs: readonly number[]): number[] {
  return xs.filter((x) => Number.isFinite(x));
}

/** Null when the normal data has fewer than `minPoints` samples: no basis to judge. */
export function fitAnomalyModel(values: readonly number[], minPoints = 10): AnomalyModel | null {
  const xs = finite(values);
  if (xs.length < minPoints) return null;
  const center = median(xs);
  const m = mad(xs);
  if (m > 0) return { center, scale: m, kind: 'mad', n: xs.length };
  const s = std(xs);
  if (s > 0) return { center, scale: s, kind: 'std', n: xs.length };
  // A constant series: any change is news, scaled against a tiny fraction of its level.
  return { center, scale: Math.max(Math.abs(center), 1) * 1e-3, kind: 'constant', n: xs.length };
}

/** Deviation in scale units, counted only in the bad direction; 0 for missing values. */
export function anomalyScore(model: AnomalyModel, x: number, dir: Direction): number {
  if (!Number.isFinite(x)) return 0;
  const d = (x - model.center) / model.scale;
  const s = dir === 'up' ? Math.max(0, d) : dir === 'down' ? Math.max(0, -d) : Math.abs(d);
  return Math.min(s, 1e6);
}
