/** Validation of detector options: every problem named with its key and what was expected. */
import { ConfigError } from '../../core/errors.ts';
import type { ConfigIssue } from '../../core/errors.ts';

export interface NumberRule {
  min?: number;
  max?: number;
  /** Exclusive lower bound. */
  above?: number;
  integer?: boolean;
}

export function validateNumbers(prefix: string, values: Record<string, number>, rules: Record<string, NumberRule>): void {
  const issues: ConfigIssue[] = [];
  for (const [key, rule] of Object.entries(rules)) {
    const v = values[key];
    const path = `${prefix}.${key}`;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      issues.push({ path, message: `expected a finite number, found ${JSON.stringify(v)}` });
      continue;
    }
    if (rule.integer && !Number.isInteger(v)) issues.push({ path, message: `expected a whole number, found ${v}` });
    if (rule.min !== undefined && v < rule.min) issues.push({ path, message: `expected ≥ ${rule.min}, found ${v}` });
    if (rule.max !== undefined && v > rule.max) issues.push({ path, message: `expected ≤ ${rule.max}, found ${v}` });
    if (rule.above !== undefined && !(v > rule.above)) issues.push({ path, message: `expected > ${rule.above}, found ${v}` });
  }
  if (issues.length > 0) throw new ConfigError(issues);
}
