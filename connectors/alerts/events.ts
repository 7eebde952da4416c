/**
 * One shape for everything an alert subscriber can receive, whatever topic it came from: the
 * labels subscriptions match on, the severity they filter on, the record itself, and where it sits
 * in Kafka (the position is what SSE event ids and webhook progress are made of).
 */
import type { Anomaly, Incident, RcaResult, Severity } from '../../pipelines/core/records.ts';
import type { Selector } from './matchers.ts';

export const ALERT_KINDS = ['anomaly', 'incident', 'rca'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];

/** The logical topic (TOPICS key) each kind is read from. */
export const KIND_TOPIC = { anomaly: 'anomalies', incident: 'incidents', rca: 'rca' } as const;

export interface SourcePosition {
  /** Logical topic name (without prefix): anomalies, incidents or rca. */
  topic: string;
  partition: number;
  offset: string;
}

export interface AlertEvent {
  kind: AlertKind;
  /** The record's own id (anomaly id, incident id, or the incident id an RCA result is for). */
  id: string;
  labels: Record<string, string>;
  severity: Severity;
  source: SourcePosition;
  /** Kafka record timestamp, ms. */
  timestampMs: number;
  record: Anomaly | Incident | RcaResult;
}

/**
 * Labels an anomaly is matched on: the series' labels plus what Panoptes knows about it. Our own
 * names (alertname, kind, severity, rule, detector) win over same-named series labels, so a
 * `severity=` matcher always means the anomaly's severity.
 */
export function anomalyLabels(a: Anomaly): Record<string, string> {
  return { ...a.labels, alertname: 'PanoptesAnomaly', kind: 'anomaly', severity: a.severity, rule: a.ruleId ?? '', detector: a.detector };
}

export function incidentLabels(i: Incident): Record<string, string> {
  return { alertname: 'PanoptesIncident', kind: 'incident', incident: i.id, status: i.status, severity: i.severity, component: i.components.join(',') };
}

export function rcaLabels(r: RcaResult, severity: Severity): Record<string, string> {
  const top = r.causes[0];
  return { alertname: 'PanoptesRootCause', kind: 'rca', incident: r.incidentId, severity, method: r.method, root_cause: top?.node ?? '', component: top?.component ?? '' };
}

/**
 * Builds events from decoded records. RCA results carry no severity: they take their incident's,
 * remembered from the incident records seen before (warning when the incident was not seen).
 */
export class EventBuilder {
  private readonly incidentSeverity = new Map<string, Severity>();
  private static readonly MAX_REMEMBERED = 100_000;

  build(kind: AlertKind, record: unknown, source: SourcePosition, timestampMs: number): AlertEvent {
    switch (kind) {
      case 'anomaly': {
        const a = record as Anomaly;
        return { kind, id: a.id, labels: anomalyLabels(a), severity: a.severity, source, timestampMs, record: a };
      }
      case 'incident': {
        const i = record as Incident;
        if (this.incidentSeverity.size >= EventBuilder.MAX_REMEMBERED) this.incidentSeverity.delete(this.incidentSeverity.keys().next().value!);
        this.incidentSeverity.set(i.id, i.severity);
        return { kind, id: i.id, labels: incidentLabels(i), severity: i.severity, source, timestampMs, record: i };
      }
      case 'rca': {
        const r = record as RcaResult;
        const severity = this.incidentSeverity.get(r.incidentId) ?? 'warning';
        return { kind, id: r.incidentId, labels: rcaLabels(r, severity), severity, source, timestampMs, record: r };
      }
    }
  }
}

/** What a subscriber wants: selectors (a union), severities and kinds (empty = all). */
export interface EventFilter {
  selectors: Selector[];
  severities: readonly Severity[];
  kinds: readonly AlertKind[];
}

export function eventMatches(f: EventFilter, e: AlertEvent): boolean {
  if (f.kinds.length > 0 && !f.kinds.includes(e.kind)) return false;
  if (f.severities.length > 0 && !f.severities.includes(e.severity)) return false;
  if (f.selectors.length === 0) return true;
  return f.selectors.some((s) => s.every((m) => m.test(e.labels)));
}

/** The JSON each SSE `data:` line (and each webhook body) carries. */
export function eventPayload(e: AlertEvent): Record<string, unknown> {
  return { kind: e.kind, id: e.id, severity: e.severity, labels: e.labels, source: e.source, timestampMs: e.timestampMs, record: e.record };
}
