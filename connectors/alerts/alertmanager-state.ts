/**
 * What Panoptes tells Alertmanager, as a pure state machine over alert events (no I/O, no
 * clock: `now` is passed in). Alertmanager identifies an alert by its label set, so:
 *
 * - an anomaly becomes the alert `{alertname="PanoptesAnomaly", severity, rule|detector, <series
 *   labels>}` (the series' `__name__` becomes `metric`); later anomalies of the same series and
 *   rule refresh it. It fires while an open incident holds one of its anomalies, or for
 *   `anomalyHoldMs` after its latest anomaly otherwise, and resolves (endsAt) when the incident
 *   holding it resolves or the hold runs out.
 * - an incident becomes `{alertname="PanoptesIncident", incident, severity}`, firing from OPEN to
 *   RESOLVED; the RCA result adds the top root cause to its annotations.
 *
 * Firing alerts are re-sent every `resendMs` with endsAt a few intervals ahead, so Alertmanager
 * keeps them while Panoptes runs and resolves them by itself if Panoptes stops for good.
 * Resolved alerts are sent until one push succeeds, then forgotten.
 *
 * The state is capped (`maxAlerts`, one entry per label set, firing or resolved-not-yet-pushed):
 * when full, a record that would start a new label set is refused (`onRefused`, counted by the
 * caller) and leaves no trace, while the alerts already held keep updating, resolving and being
 * pushed; a resolved alert leaves the state once pushed, which makes room again. Without the cap
 * a flood of distinct series (a label with a request id, a hostile producer) would grow it until
 * the process runs out of memory.
 *
 * Times become dates only through `isoTime` (pipelines/core/time.ts): a record whose times are
 * outside the date range (a producer's bug, a hostile sample) is refused by `apply` with an
 * InputError before it touches the state, so the caller can count and skip it; it never becomes
 * an alert that fails every push.
 */
import type { Anomaly, Incident, RcaResult } from '../../pipelines/core/records.ts';
import { isoTime } from '../../pipelines/core/time.ts';
import type { AlertEvent } from './events.ts';

/** The body items of Alertmanager's POST /api/v2/alerts. */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
}

export interface AmStateOptions {
  anomalyHoldMs: number;
  resendMs: number;
  /** Base of generatorURL (the alerts server's URL); empty leaves it out. */
  externalUrl: string;
  /** Label sets held at most (default DEFAULT_MAX_ALERTS); a new one beyond it is refused. */
  maxAlerts?: number;
}

/** The default of `--max-alertmanager-alerts`. */
export const DEFAULT_MAX_ALERTS = 50_000;

export type RefusedKind = 'anomaly' | 'incident';

interface AmAlert {
  key: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAtMs: number;
  /** null while firing. */
  endsAtMs: number | null;
  lastSeenMs: number;
  /** Open incidents holding one of its anomalies (anomaly alerts). */
  incidents: Set<string>;
  /** Time of the last successful push of the current state, or null if it changed since. */
  sentAtMs: number | null;
  everSentFiring: boolean;
  generatorPath: string;
  /** Bumped on every change, so a push of an older version does not count as sent. */
  version: number;
}

const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function labelKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));
}

export function anomalyAlertLabels(a: Anomaly): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(a.labels)) {
    if (k === '__name__') out.metric = v;
    else if (LABEL_NAME.test(k) && !k.startsWith('__') && v !== '') out[k] = v;
  }
  out.alertname = 'PanoptesAnomaly';
  out.severity = a.severity;
  if (a.ruleId) out.rule = a.ruleId;
  else if (a.detector) out.detector = a.detector;
  return out;
}

function anomalyAnnotations(a: Anomaly): Record<string, string> {
  const clauses = a.clauses.map((c) => `${c.text} = ${c.value}`).join('; ');
  return {
    summary: a.explanation || `anomalous value ${a.value}`,
    description: `${a.explanation}${a.explanation ? ' ' : ''}(value ${a.value} at ${isoTime(a.timestampMs, 'anomaly timestampMs')}${a.ruleId ? `, rule ${a.ruleId}${a.ruleVersion ? `@${a.ruleVersion}` : ''}` : a.detector ? `, detector ${a.detector}` : ''}${clauses ? `; ${clauses}` : ''})`,
    anomaly_id: a.id,
    value: String(a.value),
  };
}

export class AlertmanagerState {
  private readonly alerts = new Map<string, AmAlert>();
  /** anomaly id → alert key, so an incident's anomaly ids find their alerts (bounded). */
  private readonly byAnomaly = new Map<string, string>();
  private readonly incidentKeys = new Map<string, string>();
  /** RCA annotations that arrived before their incident. */
  private readonly pendingRca = new Map<string, Record<string, string>>();
  private readonly pushed = new WeakMap<PostableAlert, { key: string; version: number }>();
  private static readonly MAX_INDEX = 200_000;
  /** Alerts dropped because their times could not be written as dates. */
  dropped = 0;
  /** Records refused because the state was full and they would have started a new label set. */
  refused = 0;
  readonly maxAlerts: number;

  constructor(private readonly o: AmStateOptions, private readonly hooks: { onRefused?: (kind: RefusedKind) => void } = {}) {
    this.maxAlerts = o.maxAlerts ?? DEFAULT_MAX_ALERTS;
  }

  /** Whether the state holds as many label sets as it may. */
  get full(): boolean {
    return this.alerts.size >= this.maxAlerts;
  }

  /** True when `key` is held already or there is room for it; otherwise counts a refusal. */
  private admit(key: string, kind: RefusedKind): boolean {
    if (this.alerts.has(key) || this.alerts.size < this.maxAlerts) return true;
    this.refused++;
    this.hooks.onRefused?.(kind);
    return false;
  }

  /** Set once the server knows its address (listen port 0). */
  setExternalUrl(url: string): void {
    this.o.externalUrl = url.replace(/\/+$/, '');
  }

  get size(): { firing: number; resolved: number } {
    let firing = 0;
    for (const a of this.alerts.values()) if (a.endsAtMs === null) firing++;
    return { firing, resolved: this.alerts.size - firing };
  }

  apply(e: AlertEvent): void {
    if (e.kind === 'anomaly') this.anomaly(e.record as Anomaly);
    else if (e.kind === 'incident') this.incident(e.record as Incident);
    else this.rca(e.record as RcaResult);
  }

  private remember<K, V>(m: Map<K, V>, k: K, v: V): void {
    if (m.size >= AlertmanagerState.MAX_INDEX) m.delete(m.keys().next().value!);
    m.set(k, v);
  }

  private anomaly(a: Anomaly): void {
    isoTime(a.timestampMs, 'anomaly timestampMs');
    if (a.detectedAtMs) isoTime(a.detectedAtMs, 'anomaly detectedAtMs');
    // Built before the state changes: a record refused here leaves no trace.
    const annotations = anomalyAnnotations(a);
    const labels = anomalyAlertLabels(a);
    const key = labelKey(labels);
    const seen = Math.max(a.timestampMs, a.detectedAtMs || 0);
    if (!this.admit(key, 'anomaly')) return;
    let al = this.alerts.get(key);
    if (!al || al.endsAtMs !== null) {
      // A new episode: a resolved alert with the same labels starts over.
      al = { key, labels, annotations: {}, startsAtMs: a.timestampMs, endsAtMs: null, lastSeenMs: seen, incidents: new Set(), sentAtMs: null, everSentFiring: false, version: 0, generatorPath: `/v1/alerts/stream?match[]=${encodeURIComponent(`{alertname="PanoptesAnomaly"}`)}` };
      this.alerts.set(key, al);
    }
    al.lastSeenMs = Math.max(al.lastSeenMs, seen);
    al.annotations = annotations;
    al.sentAtMs = null;
    al.version++;
    this.remember(this.byAnomaly, a.id, key);
  }

  private incident(i: Incident): void {
    isoTime(i.openedAtMs, 'incident openedAtMs');
    isoTime(i.updatedAtMs, 'incident updatedAtMs');
    if (i.resolvedAtMs !== null && i.resolvedAtMs !== undefined) isoTime(i.resolvedAtMs, 'incident resolvedAtMs');
    const labels = { alertname: 'PanoptesIncident', incident: i.id, severity: i.severity };
    // Refused before any change when full (an escalation's new severity is a new label set too).
    if (!this.admit(labelKey(labels), 'incident')) return;
    let key = this.incidentKeys.get(i.id);
    // Severity is a label: an incident that escalates is a new label set, so the old one resolves.
    if (key && key !== labelKey(labels)) {
      const old = this.alerts.get(key);
      if (old && old.endsAtMs === null) {
        old.endsAtMs = i.updatedAtMs;
        old.sentAtMs = null;
        old.version++;
      }
    }
    key = labelKey(labels);
    this.remember(this.incidentKeys, i.id, key);
    let al = this.alerts.get(key);
    if (!al) {
      al = { key, labels, annotations: {}, startsAtMs: i.openedAtMs, endsAtMs: null, lastSeenMs: i.updatedAtMs, incidents: new Set(), sentAtMs: null, everSentFiring: false, version: 0, generatorPath: `/v1/alerts/stream?match[]=${encodeURIComponent(`{incident="${i.id}"}`)}` };
      this.alerts.set(key, al);
    }
    al.annotations = { ...al.annotations, summary: i.summary || `incident ${i.id}`, components: i.components.join(', '), anomaly_count: String(i.anomalyCount), ...(this.pendingRca.get(i.id) ?? {}) };
    this.pendingRca.delete(i.id);
    al.lastSeenMs = i.updatedAtMs;
    al.sentAtMs = null;
    al.version++;
    const resolved = i.status === 'RESOLVED';
    if (resolved) al.endsAtMs = i.resolvedAtMs ?? i.updatedAtMs;
    else al.endsAtMs = null;
    for (const id of i.anomalyIds) {
      const k = this.byAnomaly.get(id);
      const an = k ? this.alerts.get(k) : undefined;
      if (!an) continue;
      if (!resolved) {
        if (an.endsAtMs === null) an.incidents.add(i.id);
        continue;
      }
      an.incidents.delete(i.id);
      if (an.endsAtMs === null && an.incidents.size === 0) {
        an.endsAtMs = Math.max(al.endsAtMs!, an.startsAtMs);
        an.sentAtMs = null;
        an.version++;
      }
    }
  }

  private rca(r: RcaResult): void {
    const top = r.causes[0];
    const ann: Record<string, string> = top
      ? { root_cause: top.node, root_cause_component: top.component, root_cause_score: top.score.toFixed(3), root_cause_path: top.path.join(' -> '), root_cause_method: r.method }
      : { root_cause: '', root_cause_note: r.note || 'no root cause found' };
    const key = this.incidentKeys.get(r.incidentId);
    const al = key ? this.alerts.get(key) : undefined;
    if (!al) {
      this.remember(this.pendingRca, r.incidentId, ann);
      return;
    }
    al.annotations = { ...al.annotations, ...ann };
    al.sentAtMs = null;
    al.version++;
  }

  /**
   * The alerts to push at `now`: changed ones, firing ones due for a re-send, resolved ones not
   * yet pushed. Expires anomaly alerts past their hold first. Resolved alerts Alertmanager never
   * saw firing and that ended long ago (history read at start) are dropped without a push.
   */
  due(now: number): PostableAlert[] {
    const out: PostableAlert[] = [];
    for (const al of this.alerts.values()) {
      if (al.endsAtMs === null && al.incidents.size === 0 && al.labels.alertname === 'PanoptesAnomaly' && al.lastSeenMs + this.o.anomalyHoldMs <= now) {
        al.endsAtMs = al.lastSeenMs + this.o.anomalyHoldMs;
        al.sentAtMs = null;
        al.version++;
      }
      if (al.endsAtMs !== null && !al.everSentFiring && al.endsAtMs < now - 2 * this.o.resendMs) {
        this.alerts.delete(al.key);
        continue;
      }
      const firing = al.endsAtMs === null;
      if (al.sentAtMs !== null && (!firing || now - al.sentAtMs < this.o.resendMs)) continue;
      try {
        out.push(this.postable(al, now));
      } catch {
        // Times past the date range (apply refuses such records; a huge --resend-ms could still
        // get here): dropped and counted rather than failing every push.
        this.alerts.delete(al.key);
        this.dropped++;
      }
    }
    return out;
  }

  private postable(al: AmAlert, now: number): PostableAlert {
    const endsAt = al.endsAtMs ?? now + 4 * this.o.resendMs;
    const p: PostableAlert = {
      labels: al.labels,
      annotations: al.annotations,
      startsAt: isoTime(al.startsAtMs, 'startsAt'),
      endsAt: isoTime(Math.max(endsAt, al.startsAtMs), 'endsAt'),
      ...(this.o.externalUrl ? { generatorURL: `${this.o.externalUrl}${al.generatorPath}` } : {}),
    };
    this.pushed.set(p, { key: al.key, version: al.version });
    return p;
  }

  /** Records a successful push of these alerts (as returned by `due`) at `now`. */
  sent(pushed: PostableAlert[], now: number): void {
    for (const p of pushed) {
      const ref = this.pushed.get(p);
      const al = ref ? this.alerts.get(ref.key) : undefined;
      if (!al || al.version !== ref!.version) continue;
      if (al.endsAtMs !== null) {
        this.alerts.delete(al.key);
        continue;
      }
      {
        al.everSentFiring = true;
        al.sentAtMs = now;
      }
    }
  }
}
