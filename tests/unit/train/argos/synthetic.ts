/**
 * Synthetic labelled series for the training tests: 5-minute samples of a daily sine plus noise,
 * with labelled spikes, and a base detector's labels that miss some spikes and raise false alarms
 * at normal points. Everything comes from one seed.
 */
import { createRng } from '../../../../pipelines/train/argos/rng.ts';

export interface SyntheticSeries {
  name: string;
  timestamps: Float64Array;
  values: Float64Array;
  truth: Uint8Array;
  base: Uint8Array;
}

export interface SyntheticOptions {
  n?: number;
  spikes?: number;
  /** Base false alarms on normal points. */
  falseAlarms?: number;
  /** Share of spikes the base detector catches. */
  baseRecall?: number;
  /** Spike height in noise standard deviations. */
  height?: number;
  /** Spike length in samples (default: 1 to 4 at random). */
  spikeLength?: number;
}

export function syntheticSeries(seed: number, o: SyntheticOptions = {}): SyntheticSeries {
  const rng = createRng(seed);
  const n = o.n ?? 3000;
  const t0 = Date.UTC(2026, 0, 1);
  const timestamps = Float64Array.from({ length: n }, (_, i) => t0 + i * 300_000);
  const gauss = () => {
    const u = Math.max(1e-12, rng.next());
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
  };
  const level = 50 + rng.next() * 50;
  const values = Float64Array.from({ length: n }, (_, i) => level + 10 * Math.sin((2 * Math.PI * i) / 288) + 2 * gauss());
  const truth = new Uint8Array(n);
  const base = new Uint8Array(n);
  const spikes = o.spikes ?? 8;
  const height = o.height ?? 12;
  for (let k = 0; k < spikes; k++) {
    const at = rng.int(350, n - 20);
    const len = o.spikeLength ?? rng.int(1, 4);
    for (let i = at; i < at + len; i++) values[i] = values[i]! + height * 2 * (0.8 + 0.4 * rng.next());
    truth.fill(1, Math.max(0, at - 3), Math.min(n, at + len + 3));
    if (rng.next() < (o.baseRecall ?? 0.5)) base[at] = 1;
  }
  for (let k = 0; k < (o.falseAlarms ?? 6); k++) {
    const at = rng.int(300, n - 1);
    if (!truth[at]) base[at] = 1;
  }
  return { name: `synthetic-${seed}`, timestamps, values, truth, base };
}
