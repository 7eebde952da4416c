/**
 * When the Panoptes agent answers "fault" to a detection problem: series (component:signal) that
 * the lab rules flag again and again since the agent was called, and that were quiet before it
 * (the alert history before the call is the background noise). Base-detector
 * outliers alone do not count: on the lab's near-zero series they fire on harmless blips, and a
 * busy machine makes every latency series jumpy at once. A target going down counts at once.
 *
 * The thresholds (DETECTION_SETTINGS) were chosen on the training half of the shipped problems
 * only, by replaying the anomaly streams their runs recorded (agents/tune-detection.ts); they name
 * no problem, component or fault kind.
 */
import type { Anomaly } from '../../core/records.ts';

export interface DetectionSettings {
  /** FN-rule hits a series needs since the call to count as evidence. */
  minHits: number;
  /** A series with at least this many FN-rule hits in the history window is background noise. */
  noiseHits: number;
  /** How far back the history window reaches (ms). */
  lookbackMs: number;
  /** Distinct series with evidence needed for "fault" (a `down` target is enough alone). */
  minSeries: number;
}

/**
 * Chosen by agents/tune-detection.ts on the training half's 13 detection problems (7 with a fault,
 * 6 fault-free; run lab-20261207T191524, one run each, shared machine): 84.6 % accuracy, 0/6 false
 * alarms, 4.5 s to detect. The settings before (3 hits, 1 noise hit, 60 s, 1 series; set a priori)
 * gave 76.9 % and 3/6 false alarms on the same cases.
 */
export const DETECTION_SETTINGS: DetectionSettings = { minHits: 3, noiseHits: 2, lookbackMs: 30_000, minSeries: 2 };

/** The compact anomaly a decision needs (also what run reports record, for replays). */
export interface AnomalyMark {
  /** epoch ms */
  ts: number;
  series: string;
  /** FN rule id, or '' for a base-detector anomaly. */
  rule: string;
  value: number;
}

export function markOf(a: Anomaly): AnomalyMark {
  const component = a.labels.component ?? a.labels.service ?? 'unknown';
  const signal = a.labels.signal ?? a.labels.__name__?.replace(/^lab:/, '') ?? '';
  return { ts: a.timestampMs, series: `${component}:${signal}`, rule: a.ruleId && a.ruleKind !== 'FP' ? a.ruleId : '', value: a.value };
}

export interface DetectionVerdict {
  fault: boolean;
  /** The series that are evidence, most hits first. */
  series: string[];
  why: string;
}

/** `after`: anomalies since the call; `before`: those of the history window. */
export function detectionVerdict(after: readonly AnomalyMark[], before: readonly AnomalyMark[], s: DetectionSettings = DETECTION_SETTINGS): DetectionVerdict {
  const hits = (xs: readonly AnomalyMark[]) => {
    const m = new Map<string, number>();
    for (const x of xs) if (x.rule) m.set(x.series, (m.get(x.series) ?? 0) + 1);
    return m;
  };
  const now = hits(after);
  const noise = hits(before);
  const down = [...new Set(after.filter((x) => x.rule && x.series.endsWith(':up') && x.value < 0.5).map((x) => x.series))].filter((x) => (noise.get(x) ?? 0) < s.noiseHits);
  const evidence = [...now].filter(([k, n]) => n >= s.minHits && (noise.get(k) ?? 0) < s.noiseHits).sort((a, b) => b[1] - a[1]).map(([k]) => k);
  if (down.length > 0) return { fault: true, series: [...new Set([...down, ...evidence])], why: `${down.join(', ')} went down` };
  if (evidence.length >= s.minSeries) return { fault: true, series: evidence, why: `${evidence.slice(0, 3).join(', ')} flagged ${now.get(evidence[0]!)}× since the call, quiet in the ${s.lookbackMs / 1000} s before` };
  const noisy = [...now.keys()].filter((k) => (noise.get(k) ?? 0) >= s.noiseHits);
  return { fault: false, series: [], why: noisy.length ? `only series that were already noisy before the call (${noisy.slice(0, 3).join(', ')})` : 'no series flagged repeatedly by the rules' };
}
