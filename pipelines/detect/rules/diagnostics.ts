/**
 * Positioned rule errors. Every parse/check problem is a Diagnostic (`line:col: message`); a set of
 * them travels in one RuleError so callers (CLI, train agents, the rules consumer) see all of them.
 */
import { RuleError } from '../../core/errors.ts';
import type { Pos } from './ast.ts';

export interface Diagnostic {
  line: number;
  col: number;
  offset: number;
  message: string;
  /** Set when the rule came from a file: the rule it belongs to. */
  ruleId?: string;
}

export function formatDiagnostic(d: Diagnostic, file?: string): string {
  return `${file === undefined ? '' : `${file}:`}${d.line}:${d.col}: ${d.message}`;
}

export function diagnosticAt(pos: Pos, message: string): Diagnostic {
  return { line: pos.line, col: pos.col, offset: pos.offset, message };
}

/** A syntax error: parsing stops at the first one (later errors would be noise). */
export class RuleSyntaxError extends RuleError {
  readonly diagnostic: Diagnostic;
  constructor(pos: Pos, message: string) {
    super(`${pos.line}:${pos.col}: ${message}`, { details: { line: pos.line, col: pos.col } });
    this.diagnostic = diagnosticAt(pos, message);
  }
}

/** One or more diagnostics from parsing/checking a rule or rule file. */
export class RuleDiagnosticsError extends RuleError {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[], file?: string) {
    super(diagnostics.map((d) => formatDiagnostic(d, file)).join('\n'), { details: { diagnostics } });
    this.diagnostics = diagnostics;
  }
}
