/**
 * Rules on the compacted `rules` topic: keyed by rule id, a null value deletes the rule. This
 * module converts between checked rules and Rule records and keeps the current rule set as a
 * topic is read, rejecting records whose expression does not parse or check (the rest of the set
 * stays in force).
 */
import type { RuleRecord } from '../../core/records.ts';
import { formatDiagnostic } from './diagnostics.ts';
import { prepareRule, type CheckedRule } from './rule.ts';

export interface DeployedRule {
  rule: CheckedRule;
  /** Label equality matchers: the rule runs on series whose labels include all of them. */
  selector: Record<string, string>;
}

export function toRuleRecord(rule: CheckedRule, opts: { selector?: Record<string, string>; source?: string; trainingScore?: number | null; now?: number } = {}): RuleRecord {
  return {
    id: rule.spec.id,
    version: rule.version,
    kind: rule.spec.kind,
    severity: rule.spec.severity,
    description: rule.spec.description,
    expr: rule.spec.expr,
    selector: opts.selector ?? {},
    source: opts.source ?? 'manual',
    trainingScore: opts.trainingScore ?? null,
    publishedAtMs: opts.now ?? Date.now(),
  };
}

export type RuleUpdate =
  | { kind: 'set'; id: string; version: string }
  | { kind: 'deleted'; id: string }
  | { kind: 'rejected'; id: string; reason: string }
  | { kind: 'unchanged'; id: string };

/** The rule set as of the records applied so far, in publication order. */
export class RuleSet {
  private readonly rules = new Map<string, DeployedRule>();

  apply(id: string, record: RuleRecord | null): RuleUpdate {
    if (record === null) {
      return this.rules.delete(id) ? { kind: 'deleted', id } : { kind: 'unchanged', id };
    }
    if (record.id !== id) return { kind: 'rejected', id, reason: `record key '${id}' differs from rule id '${record.id}'` };
    const { rule, diagnostics } = prepareRule({ id: record.id, kind: record.kind, severity: record.severity, description: record.description, expr: record.expr });
    if (!rule) return { kind: 'rejected', id, reason: diagnostics.map((d) => formatDiagnostic(d, `rule ${id}`)).join('; ') };
    const prev = this.rules.get(id);
    this.rules.set(id, { rule, selector: record.selector ?? {} });
    return prev && prev.rule.version === rule.version && JSON.stringify(prev.selector) === JSON.stringify(record.selector ?? {}) ? { kind: 'unchanged', id } : { kind: 'set', id, version: rule.version };
  }

  all(): DeployedRule[] {
    return [...this.rules.values()];
  }

  /** Rules whose selector matches a series' labels. */
  forLabels(labels: Record<string, string>): CheckedRule[] {
    const out: CheckedRule[] = [];
    for (const d of this.rules.values()) {
      let ok = true;
      for (const [k, v] of Object.entries(d.selector)) if (labels[k] !== v) ok = false;
      if (ok) out.push(d.rule);
    }
    return out;
  }
}
