/**
 * The dashboard's bounded in-memory picture of the pipeline, built only from topic records. Pure:
 * no I/O, no clock of its own (times come from the records or the caller), so it is unit-tested
 * and rebuilt identically from a replay. Every collection has a cap, because a dashboard left
 * running for weeks must not grow with the topics it watches.
 */
import type { Anomaly, CausalGraphRecord, Incident, InferenceResult, MetricBatch, RcaResult, RuleRecord } from '../core/records.ts';
import { InferenceStats, type InferenceSummary } from './inference-stats.ts';
import type { ViewLimits } from './spec.ts';

export interface Point {
  t: number;
  v: number;
}

export interface SeriesState {
  fingerprint: string;
  labels: Record<string, string>;
  /** Oldest first, at most `limits.pointsPerSeries`. */
  points: Point[];
  /** Oldest first, at most `limits.anomaliesPerSeries`. */
  anomalies: Anomaly[];
  lastSeenMs: number;
}

export interface SeriesSummary {
  fingerprint: string;
  name: string;
  labels: Record<string, string>;
  points: number;
  anomalies: number;
  lastValue: number | null;
  lastSeenMs: number;
}

/**
 * A rule as the detectors hold it: they check every record of the rules topic and, when a new
 * version is rejected, keep the version already in force. `rejection` is the newest rejection.
 */
export interface RuleView extends RuleRecord {
  status: 'deployed' | 'rejected';
  rejection: string | null;
}

export interface IncidentView extends Incident {
  rca: RcaResult | null;
}

/** What one applied record changed, as the live feed carries it; null when nothing changed. */
export type ViewEvent =
  | { type: 'metric'; data: { fingerprint: string; name: string; labels: Record<string, string>; points: Point[] } }
  | { type: 'anomaly'; data: Anomaly }
  | { type: 'rule'; data: RuleView | { id: string; deleted: true } }
  | { type: 'incident'; data: IncidentView }
  | { type: 'rca'; data: RcaResult }
  | { type: 'graph'; data: { name: string; version: string; nodes: number; edges: number } }
  | { type: 'inference'; data: InferenceSummary };

/** Human name of a series: its `__name__` and the other labels, Prometheus style. */
export function seriesName(labels: Record<string, string>): string {
  const rest = Object.keys(labels)
    .filter((k) => k !== '__name__')
    .sort()
    .map((k) => `${k}="${labels[k]}"`);
  return `${labels.__name__ ?? ''}${rest.length ? `{${rest.join(', ')}}` : ''}` || '{}';
}

/** Inserts keeping order by `key` (records mostly arrive in order, so this scans from the end). */
function insertSorted<T>(arr: T[], item: T, key: (x: T) => number): void {
  const k = key(item);
  let i = arr.length;
  while (i > 0 && key(arr[i - 1]) > k) i--;
  arr.splice(i, 0, item);
}

/** Drops the least recently touched entries of a Map kept in touch order until it fits. */
function evict<K, V>(m: Map<K, V>, max: number): void {
  while (m.size > max) m.delete(m.keys().next().value as K);
}

export class DashboardView {
  private readonly series = new Map<string, SeriesState>();
  private readonly recent: Anomaly[] = [];
  private readonly rules = new Map<string, RuleView>();
  private readonly incidents = new Map<string, IncidentView>();
  /** RCA results that arrived before their incident (different topics, different partitions). */
  private readonly pendingRca = new Map<string, RcaResult>();
  private readonly graphs = new Map<string, CausalGraphRecord>();
  readonly inference: InferenceStats;
  private anomalyTotal = 0;

  constructor(private readonly limits: ViewLimits) {
    this.inference = new InferenceStats(limits.inferenceWindowMs);
  }

  private touchSeries(fingerprint: string, labels: Record<string, string>): SeriesState {
    let s = this.series.get(fingerprint);
    if (s) this.series.delete(fingerprint);
    else s = { fingerprint, labels, points: [], anomalies: [], lastSeenMs: 0 };
    this.series.set(fingerprint, s);
    evict(this.series, this.limits.maxSeries);
    return s;
  }

  applyMetrics(b: MetricBatch): ViewEvent | null {
    const fresh = b.samples.filter((x) => !x.stale && Number.isFinite(x.value)).map((x) => ({ t: x.timestampMs, v: x.value }));
    if (fresh.length === 0) return null;
    const s = this.touchSeries(b.fingerprint, b.labels);
    s.labels = b.labels;
    for (const p of fresh) {
      const last = s.points[s.points.length - 1];
      if (last && last.t === p.t) last.v = p.v;
      else insertSorted(s.points, p, (x) => x.t);
    }
    if (s.points.length > this.limits.pointsPerSeries) s.points.splice(0, s.points.length - this.limits.pointsPerSeries);
    s.lastSeenMs = Math.max(s.lastSeenMs, fresh[fresh.length - 1].t);
    return { type: 'metric', data: { fingerprint: s.fingerprint, name: seriesName(s.labels), labels: s.labels, points: fresh } };
  }

  applyAnomaly(a: Anomaly): ViewEvent | null {
    const s = this.touchSeries(a.fingerprint, a.labels);
    // Ids are deterministic, so a replayed or re-delivered anomaly replaces itself.
    const dup = s.anomalies.findIndex((x) => x.id === a.id);
    if (dup >= 0) s.anomalies.splice(dup, 1);
    else this.anomalyTotal++;
    insertSorted(s.anomalies, a, (x) => x.timestampMs);
    if (s.anomalies.length > this.limits.anomaliesPerSeries) s.anomalies.splice(0, s.anomalies.length - this.limits.anomaliesPerSeries);
    const r = this.recent.findIndex((x) => x.id === a.id);
    if (r >= 0) this.recent.splice(r, 1);
    insertSorted(this.recent, a, (x) => x.detectedAtMs || x.timestampMs);
    if (this.recent.length > this.limits.recentAnomalies) this.recent.splice(0, this.recent.length - this.limits.recentAnomalies);
    return { type: 'anomaly', data: a };
  }

  /**
   * A null record is a tombstone on the compacted rules topic. `rejected` is the checker's reason
   * when the detectors would refuse this record (detect/rule-records.ts RuleSet).
   */
  applyRule(id: string, r: RuleRecord | null, rejected: string | null = null): ViewEvent | null {
    if (r === null) {
      if (!this.rules.delete(id)) return null;
      return { type: 'rule', data: { id, deleted: true } };
    }
    const old = this.rules.get(id);
    let next: RuleView;
    if (rejected === null) {
      if (old && old.status === 'deployed' && old.rejection === null && old.version === r.version && old.publishedAtMs === r.publishedAtMs) return null;
      next = { ...r, status: 'deployed', rejection: null };
    } else if (old && old.status === 'deployed') next = { ...old, rejection: rejected };
    else next = { ...r, status: 'rejected', rejection: rejected };
    this.rules.set(id, next);
    return { type: 'rule', data: next };
  }

  applyIncident(i: Incident): ViewEvent {
    const old = this.incidents.get(i.id);
    this.incidents.delete(i.id);
    const rca = old?.rca ?? this.pendingRca.get(i.id) ?? null;
    this.pendingRca.delete(i.id);
    const v: IncidentView = { ...i, rca };
    this.incidents.set(i.id, v);
    evict(this.incidents, this.limits.maxIncidents);
    return { type: 'incident', data: v };
  }

  applyRca(r: RcaResult): ViewEvent {
    const inc = this.incidents.get(r.incidentId);
    if (inc) inc.rca = r;
    else {
      this.pendingRca.set(r.incidentId, r);
      evict(this.pendingRca, this.limits.maxIncidents);
    }
    return { type: 'rca', data: r };
  }

  applyGraph(name: string, g: CausalGraphRecord | null): ViewEvent | null {
    if (g === null) {
      this.graphs.delete(name);
      return null;
    }
    this.graphs.set(name, g);
    evict(this.graphs, 32);
    return { type: 'graph', data: { name, version: g.version, nodes: g.nodes.length, edges: g.edges.length } };
  }

  applyInference(r: InferenceResult, atMs: number): void {
    this.inference.add(r, atMs);
  }

  // ---- reads (JSON-ready) ----

  seriesCount(): number {
    return this.series.size;
  }

  seriesList(): SeriesSummary[] {
    return [...this.series.values()]
      .map((s) => ({
        fingerprint: s.fingerprint,
        name: seriesName(s.labels),
        labels: s.labels,
        points: s.points.length,
        anomalies: s.anomalies.length,
        lastValue: s.points.length ? s.points[s.points.length - 1].v : null,
        lastSeenMs: s.lastSeenMs,
      }))
      .sort((a, b) => b.anomalies - a.anomalies || a.name.localeCompare(b.name));
  }

  seriesDetail(fingerprint: string): (SeriesState & { name: string }) | null {
    const s = this.series.get(fingerprint);
    return s ? { ...s, name: seriesName(s.labels) } : null;
  }

  recentAnomalies(limit = this.limits.recentAnomalies): Anomaly[] {
    return this.recent.slice(-limit).reverse();
  }

  ruleList(): RuleView[] {
    return [...this.rules.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  incidentList(): IncidentView[] {
    return [...this.incidents.values()].sort((a, b) => b.updatedAtMs - a.updatedAtMs);
  }

  graph(name: string): CausalGraphRecord | null {
    return this.graphs.get(name) ?? null;
  }

  /** The graph an RCA result was computed on: by version, else the only (or newest) graph. */
  graphFor(r: RcaResult | null): CausalGraphRecord | null {
    const all = [...this.graphs.values()];
    if (r?.graphVersion) {
      const g = all.find((x) => x.version === r.graphVersion);
      if (g) return g;
    }
    return all.sort((a, b) => b.createdAtMs - a.createdAtMs)[0] ?? null;
  }

  graphList(): { name: string; version: string; nodes: number; edges: number; source: string; createdAtMs: number }[] {
    return [...this.graphs.values()].map((g) => ({ name: g.name, version: g.version, nodes: g.nodes.length, edges: g.edges.length, source: g.source, createdAtMs: g.createdAtMs }));
  }

  summary(nowMs: number): { series: number; anomalies: number; rules: number; rejectedRules: number; incidents: number; openIncidents: number; graphs: number; inference: InferenceSummary['overall'] } {
    return {
      series: this.series.size,
      anomalies: this.anomalyTotal,
      rules: [...this.rules.values()].filter((r) => r.status === 'deployed').length,
      rejectedRules: [...this.rules.values()].filter((r) => r.status === 'rejected' || r.rejection !== null).length,
      incidents: this.incidents.size,
      openIncidents: [...this.incidents.values()].filter((i) => i.status !== 'RESOLVED').length,
      graphs: this.graphs.size,
      inference: this.inference.summary(nowMs).overall,
    };
  }
}
