/**
 * A rule: id, kind, severity, description and an expression, versioned by content hash. FN rules
 * may add anomalies (max with the base detector's label), FP rules may only remove them (min),
 * FP first, as Argos deploys them.
 */
import { createHash } from 'node:crypto';
import type { RuleAst } from './ast.ts';
import type { CheckOptions } from './checker.ts';
import { checkRule } from './checker.ts';
import type { Diagnostic } from './diagnostics.ts';
import { RuleDiagnosticsError, RuleSyntaxError } from './diagnostics.ts';
import { parseRule } from './parser.ts';
import { printRule } from './printer.ts';

export const ruleKinds = ['FN', 'FP'] as const;
export type RuleKind = (typeof ruleKinds)[number];
export const severities = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof severities)[number];

export interface RuleSpec {
  id: string;
  kind: RuleKind;
  severity: Severity;
  description: string;
  expr: string;
}

/** A rule that parsed and type-checked: ready to compile or interpret. */
export interface CheckedRule {
  spec: RuleSpec;
  ast: RuleAst;
  canonical: string;
  version: string;
}

export const ruleIdPattern = /^[A-Za-z0-9_][A-Za-z0-9_.:\-/]*$/;

/** First 12 hex digits of sha256 over kind and canonical expression: equal meaning, equal version. */
export function ruleVersion(canonical: string, kind: RuleKind): string {
  return createHash('sha256').update(`${kind}\n${canonical}`).digest('hex').slice(0, 12);
}

/** Parses and checks one rule; diagnostics are positioned within `spec.expr`. */
export function prepareRule(spec: RuleSpec, options: CheckOptions = {}): { rule?: CheckedRule; diagnostics: Diagnostic[] } {
  let ast: RuleAst;
  try {
    ast = parseRule(spec.expr);
  } catch (err) {
    if (err instanceof RuleSyntaxError) return { diagnostics: [err.diagnostic] };
    throw err;
  }
  const diagnostics = checkRule(ast, options);
  if (diagnostics.length > 0) return { diagnostics };
  const canonical = printRule(ast);
  return { rule: { spec, ast, canonical, version: ruleVersion(canonical, spec.kind) }, diagnostics };
}

/** Convenience for code and tests: a checked rule or a RuleDiagnosticsError with every problem. */
export function defineRule(expr: string, fields: Partial<Omit<RuleSpec, 'expr'>> = {}, options: CheckOptions = {}): CheckedRule {
  const spec: RuleSpec = { id: fields.id ?? 'rule', kind: fields.kind ?? 'FN', severity: fields.severity ?? 'warning', description: fields.description ?? '', expr };
  const { rule, diagnostics } = prepareRule(spec, options);
  if (rule === undefined) throw new RuleDiagnosticsError(diagnostics);
  return rule;
}
