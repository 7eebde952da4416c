/**
 * Anomaly → incident correlation. Anomalies close in time (within `windowMs` of an incident's
 * latest anomaly) on components connected in the dependency graph (within `maxHops`) belong to
 * one incident. Lifecycle: OPEN on the first anomaly, UPDATED when the incident grows (new
 * component, higher severity, anomaly count doubling), RESOLVED after `quietMs` without anomalies
 * (event time: the watermark is the latest anomaly timestamp seen, or `advance(now)`).
 *
 * Deterministic: incident ids hash the first anomaly's identity, time comes only from the records,
 * and an anomaly id seen before is ignored, so replaying a topic yields the same incidents.
 * Pure: no I/O, no clock. A consumer feeds records in partition order and produces the events.
 */
import { isDateTime, isoTime, MAX_TIME_MS } from '../core/time.ts';
import { createHash } from 'node:crypto';
import { Counter, Gauge, type Registry } from 'prom-client';
import { ConfigError, InputError, type ConfigIssue } from '../core/errors.ts';
import type { Anomaly, Incident, Severity } from '../core/records.ts';

export interface CorrelatorOptions {
  windowMs: number;
  quietMs: number;
  /** 0: same component only; 1: direct dependencies too; … */
  maxHops: number;
  /** Bound on the anomaly ids an incident record carries (the count keeps counting). */
  maxAnomalyIds: number;
  /** Label keys naming the component, first present wins. */
  componentLabels: string[];
  /** How many recently seen anomaly ids to remember for de-duplication. */
  dedupCapacity: number;
}

export const defaultCorrelatorOptions: CorrelatorOptions = {
  windowMs: 10 * 60_000,
  quietMs: 15 * 60_000,
  maxHops: 1,
  maxAnomalyIds: 100,
  componentLabels: ['service', 'component', 'job', 'instance'],
  dedupCapacity: 100_000,
};

export function validateCorrelatorOptions(o: Partial<CorrelatorOptions>): CorrelatorOptions {
  const opts = { ...defaultCorrelatorOptions, ...o };
  const issues: ConfigIssue[] = [];
  const posInt = (k: keyof CorrelatorOptions, min: number) => {
    const v = opts[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) issues.push({ path: `incidents.${k}`, message: `expected an integer ≥ ${min}, got ${JSON.stringify(v)}` });
  };
  posInt('windowMs', 1);
  posInt('quietMs', 1);
  posInt('maxHops', 0);
  posInt('maxAnomalyIds', 1);
  posInt('dedupCapacity', 1);
  if (!Array.isArray(opts.componentLabels) || opts.componentLabels.length === 0 || opts.componentLabels.some((l) => typeof l !== 'string' || !l)) {
    issues.push({ path: 'incidents.componentLabels', message: 'expected a non-empty list of label names' });
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return opts;
}

/** Undirected adjacency between components (who calls whom, either way). */
export type DependencyGraph = ReadonlyMap<string, ReadonlySet<string>>;

export function dependencyGraphFromEdges(edges: Iterable<readonly [string, string]>): Map<string, Set<string>> {
  const g = new Map<string, Set<string>>();
  const add = (a: string, b: string) => {
    if (!g.has(a)) g.set(a, new Set());
    g.get(a)!.add(b);
  };
  for (const [a, b] of edges) {
    if (a === b) continue;
    add(a, b);
    add(b, a);
  }
  return g;
}

const severityRank: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

export function incidentId(first: Anomaly): string {
  const key = first.id || JSON.stringify([first.fingerprint, first.timestampMs, first.ruleId, first.ruleVersion]);
  return `inc-${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

interface OpenIncident {
  record: Incident;
  components: Set<string>;
  /** Count at which the next UPDATED is announced for growth alone. */
  nextAnnounce: number;
}

export interface CorrelatorState {
  open: Incident[];
  watermarkMs: number;
  seen: string[];
  /** Per open incident, the anomaly count at which growth alone is announced next (exact restores). */
  announceAt?: Record<string, number>;
}

export class IncidentCorrelator {
  private readonly opts: CorrelatorOptions;
  private readonly graph: DependencyGraph;
  private open = new Map<string, OpenIncident>();
  private watermarkMs = -Infinity;
  private seen = new Set<string>();
  private readonly anomaliesTotal?: Counter<'result'>;
  private readonly openGauge?: Gauge;

  constructor(graph: DependencyGraph, opts: Partial<CorrelatorOptions> = {}, registry?: Registry) {
    this.opts = validateCorrelatorOptions(opts);
    this.graph = graph;
    if (registry) {
      const c = 'panoptes_incidents_anomalies_total';
      const g = 'panoptes_incidents_open_incidents';
      this.anomaliesTotal = (registry.getSingleMetric(c) as Counter<'result'> | undefined) ?? new Counter({ name: c, help: 'Anomalies correlated, by result (opened, joined, merged, duplicate).', labelNames: ['result'], registers: [registry] });
      this.openGauge = (registry.getSingleMetric(g) as Gauge | undefined) ?? new Gauge({ name: g, help: 'Incidents currently open.', registers: [registry] });
    }
  }

  componentOf(a: Anomaly): string {
    for (const k of this.opts.componentLabels) {
      const v = a.labels[k];
      if (v) return v;
    }
    return 'unknown';
  }

  /** Components within maxHops of c (c included). */
  private neighbourhood(c: string): Set<string> {
    const out = new Set([c]);
    let frontier = [c];
    for (let h = 0; h < this.opts.maxHops; h++) {
      const next: string[] = [];
      for (const x of frontier) for (const y of this.graph.get(x) ?? []) if (!out.has(y)) {
        out.add(y);
        next.push(y);
      }
      frontier = next;
    }
    return out;
  }

  /** Feeds one anomaly; returns the incident records to publish, in order. */
  ingest(a: Anomaly): Incident[] {
    // Before any state changes: a time outside the Date range is the record's own fault (the
    // consumer dead-letters it), never a reason to stop.
    if (!isDateTime(a.timestampMs)) throw new InputError(`anomaly ${a.id}: timestampMs ${a.timestampMs} is outside the date range (±${MAX_TIME_MS} ms)`);
    const events: Incident[] = [];
    if (this.seen.has(a.id)) {
      this.anomaliesTotal?.inc({ result: 'duplicate' });
      return events;
    }
    this.remember(a.id);
    events.push(...this.advance(a.timestampMs));
    const comp = this.componentOf(a);
    const near = this.neighbourhood(comp);
    const matches = [...this.open.values()]
      .filter((o) => a.timestampMs - o.record.updatedAtMs <= this.opts.windowMs && o.record.openedAtMs - a.timestampMs <= this.opts.windowMs && [...o.components].some((c) => near.has(c)))
      .sort((x, y) => x.record.openedAtMs - y.record.openedAtMs || x.record.id.localeCompare(y.record.id));
    if (matches.length === 0) {
      const rec: Incident = {
        id: incidentId(a),
        status: 'OPEN',
        openedAtMs: a.timestampMs,
        updatedAtMs: a.timestampMs,
        resolvedAtMs: null,
        severity: a.severity,
        components: [comp],
        anomalyIds: [a.id],
        anomalyCount: 1,
        summary: '',
      };
      rec.summary = summarize(rec);
      this.open.set(rec.id, { record: rec, components: new Set([comp]), nextAnnounce: 2 });
      this.anomaliesTotal?.inc({ result: 'opened' });
      events.push({ ...rec, components: [...rec.components], anomalyIds: [...rec.anomalyIds] });
    } else {
      const [keep, ...absorbed] = matches as [OpenIncident, ...OpenIncident[]];
      let changed = false;
      for (const other of absorbed) {
        // Two incidents that one anomaly connects are one incident: the older survives.
        for (const c of other.components) if (!keep.components.has(c)) keep.components.add(c);
        keep.record.anomalyCount += other.record.anomalyCount;
        for (const id of other.record.anomalyIds) if (keep.record.anomalyIds.length < this.opts.maxAnomalyIds) keep.record.anomalyIds.push(id);
        if (severityRank[other.record.severity] > severityRank[keep.record.severity]) keep.record.severity = other.record.severity;
        keep.record.openedAtMs = Math.min(keep.record.openedAtMs, other.record.openedAtMs);
        this.open.delete(other.record.id);
        events.push({ ...other.record, status: 'RESOLVED', resolvedAtMs: a.timestampMs, summary: `merged into ${keep.record.id}`, components: [...other.components].sort(), anomalyIds: [...other.record.anomalyIds] });
        changed = true;
      }
      const r = keep.record;
      if (!keep.components.has(comp)) {
        keep.components.add(comp);
        changed = true;
      }
      if (severityRank[a.severity] > severityRank[r.severity]) {
        r.severity = a.severity;
        changed = true;
      }
      r.anomalyCount += 1;
      if (r.anomalyIds.length < this.opts.maxAnomalyIds) r.anomalyIds.push(a.id);
      r.updatedAtMs = Math.max(r.updatedAtMs, a.timestampMs);
      r.openedAtMs = Math.min(r.openedAtMs, a.timestampMs);
      r.components = [...keep.components].sort();
      if (r.anomalyCount >= keep.nextAnnounce) {
        keep.nextAnnounce = r.anomalyCount * 2;
        changed = true;
      }
      this.anomaliesTotal?.inc({ result: absorbed.length > 0 ? 'merged' : 'joined' });
      if (changed) {
        r.status = 'UPDATED';
        r.summary = summarize(r);
        events.push({ ...r, components: [...r.components], anomalyIds: [...r.anomalyIds] });
      }
    }
    this.openGauge?.set(this.open.size);
    return events;
  }

  /** Moves event time forward; resolves incidents quiet for quietMs. */
  advance(nowMs: number): Incident[] {
    if (nowMs > this.watermarkMs) this.watermarkMs = nowMs;
    const out: Incident[] = [];
    const due = [...this.open.values()]
      .filter((o) => this.watermarkMs - o.record.updatedAtMs >= this.opts.quietMs)
      .sort((x, y) => x.record.updatedAtMs - y.record.updatedAtMs || x.record.id.localeCompare(y.record.id));
    for (const o of due) {
      this.open.delete(o.record.id);
      const r: Incident = { ...o.record, status: 'RESOLVED', resolvedAtMs: o.record.updatedAtMs + this.opts.quietMs, components: [...o.record.components], anomalyIds: [...o.record.anomalyIds] };
      r.summary = summarize(r);
      out.push(r);
    }
    this.openGauge?.set(this.open.size);
    return out;
  }

  openIncidents(): Incident[] {
    return [...this.open.values()].map((o) => ({ ...o.record, components: [...o.record.components], anomalyIds: [...o.record.anomalyIds] }));
  }

  /** State to rebuild from after a restart or partition assignment. */
  snapshot(): CorrelatorState {
    const announceAt: Record<string, number> = {};
    for (const [id, o] of this.open) announceAt[id] = o.nextAnnounce;
    return { open: this.openIncidents(), watermarkMs: this.watermarkMs, seen: [...this.seen], announceAt };
  }

  restore(state: CorrelatorState): void {
    this.open = new Map(state.open.map((r) => [r.id, { record: { ...r, components: [...r.components], anomalyIds: [...r.anomalyIds] }, components: new Set(r.components), nextAnnounce: state.announceAt?.[r.id] ?? Math.max(2, r.anomalyCount * 2) }]));
    this.watermarkMs = state.watermarkMs;
    this.seen = new Set(state.seen);
  }

  private remember(id: string): void {
    this.seen.add(id);
    if (this.seen.size > this.opts.dedupCapacity) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }
}

function summarize(r: Incident): string {
  const comps = r.components.length <= 4 ? r.components.join(', ') : `${r.components.slice(0, 4).join(', ')} and ${r.components.length - 4} more`;
  const what = `${r.anomalyCount} anomal${r.anomalyCount === 1 ? 'y' : 'ies'} on ${comps} since ${isoTime(r.openedAtMs, 'openedAtMs')}`;
  return r.status === 'RESOLVED' ? `resolved: ${what}, quiet since ${isoTime(r.updatedAtMs, 'updatedAtMs')}` : `${r.severity}: ${what}`;
}

/** Convenience for replay and tests: feeds anomalies in timestamp order, then closes at `endMs`. */
export function correlateAll(graph: DependencyGraph, anomalies: readonly Anomaly[], opts: Partial<CorrelatorOptions> = {}, endMs?: number): Incident[] {
  const c = new IncidentCorrelator(graph, opts);
  const sorted = [...anomalies].sort((a, b) => a.timestampMs - b.timestampMs || a.id.localeCompare(b.id));
  const out: Incident[] = [];
  for (const a of sorted) out.push(...c.ingest(a));
  if (endMs !== undefined) out.push(...c.advance(endMs));
  return out;
}
