/**
 * Bounded recent windows of the `metrics` topic per causal-graph node, for the rca consumer.
 * A series becomes node `<component>:<metric>` from its labels (component: first of
 * `componentLabels` present; metric: first of `metricLabels`, usually `signal` then `__name__`).
 * Samples are aligned to `stepMs`; several series on one node (instances, replicas) are averaged
 * per step. Pure: time comes from the samples.
 */
import { isDateTime } from '../core/time.ts';
import type { MetricBatch } from '../core/records.ts';
import type { Frame } from './frame.ts';

export interface WindowOptions {
  stepMs: number;
  /** Samples older than this behind the series' newest are dropped. */
  windowMs: number;
  maxPointsPerSeries: number;
  maxNodes: number;
  /** A row without a sample of a series takes the series' latest earlier sample up to this old. */
  fillMs: number;
  componentLabels: string[];
  metricLabels: string[];
}

export const defaultWindowOptions: WindowOptions = {
  stepMs: 1000,
  windowMs: 30 * 60_000,
  maxPointsPerSeries: 3600,
  maxNodes: 5000,
  fillMs: 2000,
  componentLabels: ['component', 'service', 'job'],
  metricLabels: ['signal', '__name__'],
};

export function validateWindowOptions(o: Partial<WindowOptions>): WindowOptions {
  const w = { ...defaultWindowOptions, ...o };
  const bad: string[] = [];
  for (const k of ['stepMs', 'windowMs', 'maxPointsPerSeries', 'maxNodes'] as const) if (!Number.isInteger(w[k]) || w[k] < 1) bad.push(`rca.${k}: expected an integer ≥ 1, got ${JSON.stringify(w[k])}`);
  if (!Number.isInteger(w.fillMs) || w.fillMs < 0) bad.push(`rca.fillMs: expected an integer ≥ 0, got ${JSON.stringify(w.fillMs)}`);
  for (const k of ['componentLabels', 'metricLabels'] as const) if (!Array.isArray(w[k]) || w[k].length === 0 || w[k].some((l) => typeof l !== 'string' || !l)) bad.push(`rca.${k}: expected a non-empty list of label names`);
  if (bad.length > 0) throw new RangeError(bad.join('; '));
  return w;
}

interface Series {
  points: Map<number, number>;
  newest: number;
}

export class MetricWindows {
  readonly opts: WindowOptions;
  /** node → series fingerprint → aligned points. */
  private readonly nodes = new Map<string, Map<string, Series>>();
  droppedNodes = 0;
  /** Samples dropped because their time is outside the Date range. */
  droppedSamples = 0;

  constructor(opts: Partial<WindowOptions> = {}) {
    this.opts = validateWindowOptions(opts);
  }

  nodeOf(labels: Record<string, string>): string | null {
    const pick = (keys: string[]) => keys.map((k) => labels[k]).find((v) => v !== undefined && v !== '');
    const c = pick(this.opts.componentLabels);
    const m = pick(this.opts.metricLabels);
    return c !== undefined && m !== undefined ? `${c}:${m}` : null;
  }

  /** Adds a batch's samples; returns how many were kept. */
  add(batch: MetricBatch): number {
    const node = this.nodeOf(batch.labels);
    if (node === null) return 0;
    let byFp = this.nodes.get(node);
    if (!byFp) {
      if (this.nodes.size >= this.opts.maxNodes) {
        this.droppedNodes++;
        return 0;
      }
      byFp = new Map();
      this.nodes.set(node, byFp);
    }
    let s = byFp.get(batch.fingerprint);
    if (!s) {
      s = { points: new Map(), newest: -Infinity };
      byFp.set(batch.fingerprint, s);
    }
    let kept = 0;
    for (const x of batch.samples) {
      if (x.stale || !Number.isFinite(x.value)) continue;
      // A sample stamped outside the Date range would make every other sample look ancient (and
      // no date can be shown for it): it is dropped and counted, never kept.
      if (!isDateTime(x.timestampMs)) {
        this.droppedSamples++;
        continue;
      }
      const t = Math.round(x.timestampMs / this.opts.stepMs) * this.opts.stepMs;
      s.points.set(t, x.value);
      if (t > s.newest) s.newest = t;
      kept++;
    }
    this.prune(s);
    return kept;
  }

  private prune(s: Series): void {
    const oldest = s.newest - this.opts.windowMs;
    if (s.points.size <= this.opts.maxPointsPerSeries) {
      // Cheap common case: samples arrive in order, so the oldest sit first in the map.
      for (const t of s.points.keys()) {
        if (t >= oldest) break;
        s.points.delete(t);
      }
      return;
    }
    const keep = [...s.points.keys()].filter((t) => t >= oldest).sort((a, b) => a - b).slice(-this.opts.maxPointsPerSeries);
    const next = new Map(keep.map((t) => [t, s.points.get(t)!]));
    s.points = next;
  }

  nodeIds(): string[] {
    return [...this.nodes.keys()].sort();
  }

  pointCount(): number {
    let n = 0;
    for (const byFp of this.nodes.values()) for (const s of byFp.values()) n += s.points.size;
    return n;
  }

  /**
   * Rows in [fromMs, toMs) (all when omitted) of every node. A series without a sample at a row
   * takes its latest earlier sample up to `fillMs` old: series recorded in different phases (rule
   * groups evaluated at different offsets, jitter around a rounding boundary) would otherwise
   * leave holes exactly at the row an analysis looks at. Older than that: NaN (a stale series, a
   * process that is gone).
   */
  frame(fromMs = -Infinity, toMs = Infinity): Frame {
    const ts = new Set<number>();
    for (const byFp of this.nodes.values()) for (const s of byFp.values()) for (const t of s.points.keys()) if (t >= fromMs && t < toMs) ts.add(t);
    const timestamps = [...ts].sort((a, b) => a - b);
    const fill = this.opts.fillMs;
    const series = new Map<string, number[]>();
    for (const [node, byFp] of this.nodes) {
      const sum = new Array<number>(timestamps.length).fill(0);
      const cnt = new Array<number>(timestamps.length).fill(0);
      for (const s of byFp.values()) {
        const pts = [...s.points].sort((a, b) => a[0] - b[0]);
        let j = -1;
        for (let i = 0; i < timestamps.length; i++) {
          const t = timestamps[i]!;
          while (j + 1 < pts.length && pts[j + 1]![0] <= t) j++;
          if (j < 0 || t - pts[j]![0] > fill) continue;
          sum[i]! += pts[j]![1];
          cnt[i]!++;
        }
      }
      series.set(node, sum.map((v, i) => (cnt[i]! > 0 ? v / cnt[i]! : NaN)));
    }
    return { timestamps, series };
  }
}

/** Splits the windows at an incident's start: normal history before (minus a gap), the incident window from it. */
export function telemetryFor(w: MetricWindows, openedAtMs: number, normalGapMs: number): { normal: Frame; failure: Frame } {
  // The first anomalous sample sits at openedAtMs; aligned, it may round to just below it.
  const start = Math.round(openedAtMs / w.opts.stepMs) * w.opts.stepMs;
  return { normal: w.frame(-Infinity, Math.min(start, openedAtMs - normalGapMs)), failure: w.frame(start, Infinity) };
}
