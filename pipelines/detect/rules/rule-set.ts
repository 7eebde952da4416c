/**
 * Building a rule set from specs (a rule file, records of the compacted `rules` topic, an agent's
 * output): every rule is parsed and checked before any is used, and all problems come back at
 * once, each tagged with its rule id — so a consumer can keep its old set when the new one is bad.
 */
import type { CheckOptions } from './checker.ts';
import type { Diagnostic } from './diagnostics.ts';
import { RuleDiagnosticsError } from './diagnostics.ts';
import type { CheckedRule, RuleSpec } from './rule.ts';
import { prepareRule, ruleIdPattern } from './rule.ts';

export function buildRuleSet(specs: readonly RuleSpec[], options: CheckOptions = {}): CheckedRule[] {
  const rules: CheckedRule[] = [];
  const diagnostics: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const spec of specs) {
    const at0 = { line: 1, col: 1, offset: 0, ruleId: spec.id };
    if (!ruleIdPattern.test(spec.id)) diagnostics.push({ ...at0, message: `rule id '${spec.id}' is not valid (letters, digits, _ . : - /)` });
    else if (seen.has(spec.id)) diagnostics.push({ ...at0, message: `duplicate rule id '${spec.id}'` });
    seen.add(spec.id);
    const r = prepareRule(spec, options);
    for (const d of r.diagnostics) diagnostics.push({ ...d, message: `${spec.id}: ${d.message}`, ruleId: spec.id });
    if (r.rule) rules.push(r.rule);
  }
  if (diagnostics.length > 0) throw new RuleDiagnosticsError(diagnostics);
  return rules;
}
