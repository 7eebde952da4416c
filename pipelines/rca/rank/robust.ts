/**
 * One-sided robust scales. MAD is 0 for series that sit at one value most of the time
 * (availability at 100%), and a MAD-score then calls every small dip infinitely anomalous — the
 * PetShop baseline's main source of false alarms. Here each side gets its own scale: the distance
 * from the median to the 1st/99th percentile divided by 2.326 (the standard normal's), so a score
 * of ~2.3 means "as far out as the worst 1% of normal data", whatever the distribution's shape;
 * 1.4826·MAD is the floor when it is larger.
 */
import { finite, type AnomalyModel } from './anomaly.ts';

export interface AnomalyModelEx extends AnomalyModel {
  upScale: number;
  downScale: number;
}

function quantile(sorted: readonly number[], q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function quantileScale(values: readonly number[], m: AnomalyModel): { upScale: number; downScale: number } {
  const xs = finite(values).sort((a, b) => a - b);
  const madScale = m.kind === 'mad' ? 1.4826 * m.scale : 0;
  const tiny = Math.max(Math.abs(m.center), 1) * 1e-3;
  const up = (quantile(xs, 0.99) - m.center) / 2.326;
  const down = (m.center - quantile(xs, 0.01)) / 2.326;
  return { upScale: Math.max(up, madScale, tiny), downScale: Math.max(down, madScale, tiny) };
}
