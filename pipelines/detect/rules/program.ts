/**
 * What compiled rules and the reference interpreter share: the program interface the engine
 * drives, three-valued truth, run-time faults and the few formulas both must compute identically.
 *
 * Truth is a number: 1 true, 0 false, UNKNOWN while a window the rule reads is not yet complete
 * (the series is younger than the window, or a lag reaches before its first sample). Unknown
 * never fires. Numbers are NaN when unknown. A non-finite number made by arithmetic or reaching a
 * comparison (division by zero, overflow) is a fault: the program throws RuleRuntimeError and the
 * engine quarantines the rule.
 */
import { RuleError } from '../../core/errors.ts';
import type { Node } from './ast.ts';
import type { CheckedRule } from './rule.ts';

export const FALSE = 0;
export const TRUE = 1;
export const UNKNOWN = 2;

export interface RuleProgram {
  /**
   * Feeds the next sample (strictly increasing t, finite v: the engine filters the rest) and
   * returns the condition's truth for it.
   */
  step(t: number, v: number): number;
  /** Value of a leaf (`value` or a call, by canonical text) at the last step, for explanations. */
  leaf(key: string): number;
}

export type ProgramFactory = (rule: CheckedRule) => RuleProgram;

export class RuleRuntimeError extends RuleError {
  constructor(message: string, node: Node) {
    super(`${node.pos.line}:${node.pos.col}: ${message}`, { details: { line: node.pos.line, col: node.pos.col } });
  }
}

export function fault(node: Node, what: string, a: number, b?: number): never {
  const operands = b === undefined ? `${a}` : `${a} and ${b}`;
  throw new RuleRuntimeError(`${what} produced a non-finite value from ${operands}`, node);
}

/**
 * EWMA weight of the newest sample. Alpha is given, or derived from a halflife: in samples
 * 1 − 2^(−1/N); in time 1 − 2^(−Δt/halflife), so irregular sampling is weighted by elapsed time.
 */
export function ewmaAlpha(spec: { alpha?: number; halflifeMs?: number; halflifeSamples?: number }, dtMs: number): number {
  if (spec.alpha !== undefined) return spec.alpha;
  if (spec.halflifeSamples !== undefined) return 1 - Math.pow(2, -1 / spec.halflifeSamples);
  return 1 - Math.pow(2, -dtMs / spec.halflifeMs!);
}

export function ewmaStep(s: number, x: number, alpha: number): number {
  return s + alpha * (x - s);
}

export function compare(op: string, a: number, b: number): number {
  switch (op) {
    case '>':
      return a > b ? TRUE : FALSE;
    case '>=':
      return a >= b ? TRUE : FALSE;
    case '<':
      return a < b ? TRUE : FALSE;
    case '<=':
      return a <= b ? TRUE : FALSE;
    case '==':
      return a === b ? TRUE : FALSE;
    default:
      return a !== b ? TRUE : FALSE;
  }
}
