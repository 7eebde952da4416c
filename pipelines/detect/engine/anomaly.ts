/**
 * A decision as it is reported: `anomalyRecord` (what `detect --csv` prints, one object per
 * anomalous sample) and `toAnomaly` (the Anomaly record the online detector produces). Times become
 * dates only through `isoTime`, which refuses a time outside JavaScript's Date range with an
 * InputError (the record's own fault: a stage dead-letters it) instead of a RangeError.
 */
import { createHash } from 'node:crypto';
import type { Anomaly } from '../../core/records.ts';
import { isoTime } from '../../core/time.ts';
import type { Decision } from './series-detector.ts';

export interface AnomalyRecord {
  timestamp: string;
  t: number;
  value: number;
  rule: string;
  ruleVersion: string | null;
  kind: 'FN' | 'FP' | 'base';
  severity: string;
  score: number | null;
  explanation: string;
  clauses: { expr: string; text: string; left: number; right: number }[];
  /** Every other reason the sample is anomalous (more rules, the base detector). */
  also: { rule: string; ruleVersion: string | null; explanation: string }[];
}

/** The first FN rule that fired leads; the base detector otherwise; the other reasons are `also`. */
export function anomalyRecord(d: Decision, baseName: string | undefined): AnomalyRecord {
  const reasons: AnomalyRecord[] = [];
  const timestamp = isoTime(d.t, 'sample timestamp');
  const score = d.base?.score ?? null;
  for (const f of d.fn) {
    reasons.push({
      timestamp, t: d.t, value: d.value, rule: f.ruleId, ruleVersion: f.ruleVersion, kind: 'FN', severity: f.severity, score,
      explanation: f.explanation, clauses: f.clauses.map((c) => ({ expr: c.expr, text: c.text, left: c.left, right: c.right })), also: [],
    });
  }
  if (d.base?.isAnomaly && !d.suppressed) {
    reasons.push({ timestamp, t: d.t, value: d.value, rule: `base:${baseName}`, ruleVersion: null, kind: 'base', severity: 'warning', score, explanation: d.base.explanation, clauses: [], also: [] });
  }
  const [first, ...rest] = reasons;
  if (first === undefined) throw new Error('internal: anomalyRecord on a normal sample');
  first.also = rest.map((r) => ({ rule: r.rule, ruleVersion: r.ruleVersion, explanation: r.explanation }));
  return first;
}

export function anomalyId(fingerprint: string, t: number, rule: string, version: string | null): string {
  return createHash('sha1').update(`${fingerprint}\u0000${t}\u0000${rule}\u0000${version ?? ''}`).digest('hex').slice(0, 20);
}

/** Decision → Anomaly record: the first FN rule that fired leads; otherwise the base detector. */
export function toAnomaly(d: Decision, fingerprint: string, labels: Record<string, string>, baseName: string | undefined, now: number): Anomaly {
  const r = anomalyRecord(d, baseName);
  const isRule = r.kind !== 'base';
  return {
    id: anomalyId(fingerprint, d.t, r.rule, r.ruleVersion),
    fingerprint,
    labels,
    timestampMs: d.t,
    value: d.value,
    ruleId: isRule ? r.rule : null,
    ruleVersion: isRule ? r.ruleVersion : null,
    ruleKind: isRule ? 'FN' : null,
    severity: (['info', 'warning', 'critical'].includes(r.severity) ? r.severity : 'warning') as Anomaly['severity'],
    detector: baseName ?? '',
    baseScore: d.base?.score ?? 0,
    explanation: r.also.length > 0 ? `${r.explanation} (also: ${r.also.map((a) => `${a.rule}: ${a.explanation}`).join('; ')})` : r.explanation,
    clauses: r.clauses.map((c) => ({ text: c.text, value: c.left })),
    detectedAtMs: now,
  };
}
