/**
 * One rule on one series: its program (compiled or reference), the `for` state and quarantine.
 * The state machine is Prometheus's: inactive → pending (condition true, `for` not yet met) →
 * firing; false or unknown resets to inactive.
 */
import type { RuleProgram } from '../rules/program.ts';
import { TRUE } from '../rules/program.ts';
import type { ClauseValue } from './explain.ts';
import { explainFiring } from './explain.ts';
import type { CheckedRule, RuleKind, Severity } from '../rules/rule.ts';
import { compileProgram } from '../rules/compiler.ts';
import { referenceProgram } from '../rules/reference.ts';

export type Backend = 'compiled' | 'reference';

export interface RuleFiring {
  ruleId: string;
  ruleVersion: string;
  kind: RuleKind;
  severity: Severity;
  description: string;
  t: number;
  value: number;
  /** Consecutive samples the condition has held (≥ the `for` count). */
  streak: number;
  clauses: ClauseValue[];
  /** Clause texts with values. */
  text: string;
  /** One sentence for on-call. */
  explanation: string;
}

export class RuleRunner {
  rule: CheckedRule;
  private program: RuleProgram;
  private streak = 0;
  private since = NaN;
  quarantine: { t: number; error: unknown } | null = null;

  constructor(
    rule: CheckedRule,
    private readonly backend: Backend,
  ) {
    this.rule = rule;
    this.program = backend === 'compiled' ? compileProgram(rule) : referenceProgram(rule);
  }

  /** Fresh state (after a quarantine is lifted: the old state missed samples). */
  reset(): void {
    this.program = this.backend === 'compiled' ? compileProgram(this.rule) : referenceProgram(this.rule);
    this.streak = 0;
    this.since = NaN;
    this.quarantine = null;
  }

  /** Throws whatever the program throws; the caller quarantines. */
  step(t: number, v: number): RuleFiring | null {
    const truth = this.program.step(t, v);
    if (truth !== TRUE) {
      this.streak = 0;
      return null;
    }
    if (this.streak === 0) this.since = t;
    this.streak++;
    const p = this.rule.ast.persistence;
    if (p !== undefined && (p.kind === 'samples' ? this.streak < p.n : t - this.since < p.ms)) return null;
    const spec = this.rule.spec;
    const ex = explainFiring(this.rule.ast.body, this.program, p, this.streak, t - this.since);
    return {
      ruleId: spec.id,
      ruleVersion: this.rule.version,
      kind: spec.kind,
      severity: spec.severity,
      description: spec.description,
      t,
      value: v,
      streak: this.streak,
      clauses: ex.clauses,
      text: ex.text,
      explanation: ex.sentence,
    };
  }
}
