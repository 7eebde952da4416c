/**
 * Explanations of a firing: each clause (comparison) that made the condition true, with the value
 * of every aggregate it read (`value 93.1 > mean(1h) 41.2 + 4 × std(1h) 7.9 = 72.8`), and one
 * sentence for the on-call person ("value 93.1 is 6.6 standard deviations above its 1h mean 41.2
 * for 3 samples"). Computed only when a rule fires, from the program's current leaf values, so it
 * costs nothing on the hot path.
 */
import type { CallNode, CompareNode, Node, Persistence } from '../rules/ast.ts';
import { formatDuration } from '../rules/ast.ts';
import { constNumber } from '../rules/checker.ts';
import { formatNumber, nodeKey } from '../rules/printer.ts';
import type { RuleProgram } from '../rules/program.ts';
import { FALSE, TRUE, UNKNOWN, compare } from '../rules/program.ts';

export interface ClauseValue {
  /** Canonical text of the clause, e.g. `value > mean(1h) + 4 * std(1h)`. */
  expr: string;
  op: string;
  left: number;
  right: number;
  /** Rendered with values: `value 93.1 > mean(1h) 41.2 + 4 × std(1h) 7.9 = 72.8`. */
  text: string;
  holds: boolean;
}

export interface Explanation {
  clauses: ClauseValue[];
  /** One sentence, e.g. "value 93.1 is 6.6 standard deviations above its 1h mean 41.2 for 3 samples". */
  sentence: string;
  /** Clause texts joined with ` and `. */
  text: string;
}

/** Short human spelling: 93.1, 41.2, 7.9, 1234.5, 0.00123. */
export function fmt(x: number): string {
  if (Number.isNaN(x)) return 'unknown';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  const a = Math.abs(x);
  if (a >= 1e15 || a < 1e-4) return x.toExponential(2);
  if (a >= 100) return String(Math.round(x * 10) / 10);
  return String(Number(x.toPrecision(3)));
}

const opWords: Record<string, string> = { '>': 'above', '>=': 'at or above', '<': 'below', '<=': 'at or below', '==': 'equal to', '!=': 'different from' };

class Explainer {
  constructor(private readonly p: RuleProgram) {}

  val(n: Node): number {
    switch (n.type) {
      case 'number':
        return n.value;
      case 'value':
        return this.p.leaf('value');
      case 'call':
        return this.p.leaf(nodeKey(n));
      case 'neg':
        return -this.val(n.arg);
      case 'arith': {
        const a = this.val(n.left);
        const b = this.val(n.right);
        return n.op === '+' ? a + b : n.op === '-' ? a - b : n.op === '*' ? a * b : a / b;
      }
      default:
        return NaN;
    }
  }

  truth(n: Node): number {
    switch (n.type) {
      case 'compare': {
        const a = this.val(n.left);
        const b = this.val(n.right);
        return Number.isNaN(a) || Number.isNaN(b) ? UNKNOWN : compare(n.op, a, b);
      }
      case 'logic': {
        const a = this.truth(n.left);
        const b = this.truth(n.right);
        if (n.op === 'and') return a === FALSE || b === FALSE ? FALSE : a === TRUE && b === TRUE ? TRUE : UNKNOWN;
        return a === TRUE || b === TRUE ? TRUE : a === FALSE && b === FALSE ? FALSE : UNKNOWN;
      }
      case 'not': {
        const a = this.truth(n.arg);
        return a === UNKNOWN ? UNKNOWN : 1 - a;
      }
      default:
        return UNKNOWN;
    }
  }

  /** The expression with each aggregate followed by its value. */
  annotate(n: Node, parentPrec = 0): string {
    const wrap = (s: string, prec: number) => (prec < parentPrec ? `(${s})` : s);
    switch (n.type) {
      case 'number':
        return formatNumber(n.value);
      case 'value':
        return `value ${fmt(this.val(n))}`;
      case 'call':
        if (n.name === 'abs') return `abs(${this.annotate(n.args[0]!)}) ${fmt(this.val(n))}`;
        return `${nodeKey(n)} ${fmt(this.val(n))}`;
      case 'neg':
        return `-${this.annotate(n.arg, 8)}`;
      case 'arith': {
        const prec = n.op === '+' || n.op === '-' ? 5 : 6;
        const op = n.op === '*' ? '×' : n.op === '-' ? '−' : n.op;
        return wrap(`${this.annotate(n.left, prec)} ${op} ${this.annotate(n.right, prec + 1)}`, prec);
      }
      default:
        return nodeKey(n);
    }
  }

  side(n: Node): string {
    const simple = n.type === 'number' || n.type === 'value' || (n.type === 'call' && n.name !== 'abs');
    return simple ? this.annotate(n) : `${this.annotate(n)} = ${fmt(this.val(n))}`;
  }

  /** Comparisons that make the condition hold: both sides of `and`, the true sides of `or`. */
  clauses(n: Node, out: { node: CompareNode; negated: boolean }[], negated = false): void {
    switch (n.type) {
      case 'compare':
        out.push({ node: n, negated });
        return;
      case 'not':
        this.clauses(n.arg, out, !negated);
        return;
      case 'logic': {
        const conj = (n.op === 'and') !== negated;
        if (conj) {
          this.clauses(n.left, out, negated);
          this.clauses(n.right, out, negated);
        } else {
          const want = negated ? FALSE : TRUE;
          const l = this.truth(n.left) === want;
          const r = this.truth(n.right) === want;
          if (l || !r) this.clauses(n.left, out, negated);
          if (r) this.clauses(n.right, out, negated);
        }
        return;
      }
      default:
        return;
    }
  }

  clause(c: CompareNode, negated: boolean): ClauseValue {
    const left = this.val(c.left);
    const right = this.val(c.right);
    const body = `${this.side(c.left)} ${c.op} ${this.side(c.right)}`;
    return {
      expr: negated ? `not (${nodeKey(c)})` : nodeKey(c),
      op: c.op,
      left,
      right,
      text: negated ? `not (${body})` : body,
      holds: compare(c.op, left, right) === (negated ? FALSE : TRUE),
    };
  }

  /** One phrase per clause; recognizes z-scores, MAD scores and quantile thresholds. */
  phrase(c: CompareNode, negated: boolean): string {
    const l = this.val(c.left);
    const r = this.val(c.right);
    if (negated) return `${this.name(c.left)} ${fmt(l)} is not ${opWords[c.op]} ${this.name(c.right)} ${fmt(r)}`;
    const above = c.op === '>' || c.op === '>=';
    const below = c.op === '<' || c.op === '<=';
    if ((above || below) && c.left.type === 'value') {
      const band = this.band(c.right);
      if (band !== undefined) {
        const { center, spread, unit, win, centerName } = band;
        const cv = this.val(center);
        const sv = this.val(spread);
        if (sv > 0) {
          const z = Math.abs(l - cv) / sv;
          return `value ${fmt(l)} is ${fmt(Number(z.toPrecision(2)))} ${unit} ${l >= cv ? 'above' : 'below'} its ${win} ${centerName} ${fmt(cv)}`;
        }
      }
      if (c.right.type === 'call' && (c.right.name === 'quantile' || c.right.name === 'median')) {
        const q = c.right.name === 'median' ? 0.5 : constNumber(c.right.args[0]!)!;
        const w = c.right.name === 'median' ? c.right.args[0]! : c.right.args[1]!;
        const last = w.type === 'samples' ? `${w.n} samples` : windowName(w);
        return `value ${fmt(l)} is ${opWords[c.op]} the ${ordinal(q)} percentile of its last ${last} (${fmt(r)})`;
      }
      if (c.right.type === 'call' && (c.right.name === 'max' || c.right.name === 'min' || c.right.name === 'mean')) {
        const what = c.right.name === 'max' ? 'maximum' : c.right.name === 'min' ? 'minimum' : 'mean';
        return `value ${fmt(l)} is ${opWords[c.op]} its ${windowName(c.right.args[0]!)} ${what} ${fmt(r)}`;
      }
      if (constNumber(c.right) !== undefined) return `value ${fmt(l)} is ${opWords[c.op]} the threshold ${fmt(r)}`;
    }
    return `${this.name(c.left)} ${fmt(l)} is ${opWords[c.op]} ${this.name(c.right)} ${fmt(r)}`;
  }

  private name(n: Node): string {
    return n.type === 'value' ? 'value' : n.type === 'number' ? 'the threshold' : nodeKey(n);
  }

  /** `mean(W) ± k * std(W)` or `median(W) ± k * mad(W)`, either factor order. */
  private band(n: Node): { center: CallNode; spread: CallNode; unit: string; win: string; centerName: string } | undefined {
    if (n.type !== 'arith' || (n.op !== '+' && n.op !== '-')) return undefined;
    const center = n.left;
    let spread: Node = n.right;
    if (spread.type === 'arith' && spread.op === '*') {
      if (constNumber(spread.left) !== undefined) spread = spread.right;
      else if (constNumber(spread.right) !== undefined) spread = spread.left;
    }
    if (center.type !== 'call' || spread.type !== 'call') return undefined;
    const same = nodeKey(center.args[0]!) === nodeKey(spread.args[0]!);
    if (!same) return undefined;
    if (center.name === 'mean' && spread.name === 'std') return { center, spread, unit: 'standard deviations', win: windowName(center.args[0]!), centerName: 'mean' };
    if (center.name === 'median' && spread.name === 'mad') return { center, spread, unit: 'MADs', win: windowName(center.args[0]!), centerName: 'median' };
    return undefined;
  }
}

function windowName(n: Node): string {
  if (n.type === 'duration') return formatDuration(n.ms);
  if (n.type === 'samples') return `${n.n}-sample`;
  return nodeKey(n);
}

function ordinal(q: number): string {
  const p = Number((q * 100).toPrecision(4));
  const s = String(p);
  if (!Number.isInteger(p)) return `${s}th`;
  const last2 = p % 100;
  const suffix = last2 >= 11 && last2 <= 13 ? 'th' : p % 10 === 1 ? 'st' : p % 10 === 2 ? 'nd' : p % 10 === 3 ? 'rd' : 'th';
  return `${s}${suffix}`;
}

/** `streak`: samples the condition has held; `heldMs`: for how long. */
export function explainFiring(body: Node, program: RuleProgram, persistence: Persistence | undefined, streak: number, heldMs: number): Explanation {
  const e = new Explainer(program);
  const found: { node: CompareNode; negated: boolean }[] = [];
  e.clauses(body, found);
  const clauses = found.map((f) => e.clause(f.node, f.negated));
  let sentence = found.map((f) => e.phrase(f.node, f.negated)).join(', and ');
  if (persistence !== undefined) {
    sentence += persistence.kind === 'samples' ? ` for ${streak} sample${streak === 1 ? '' : 's'}` : ` for ${formatDuration(heldMs)} (${streak} samples)`;
  }
  return { clauses, sentence, text: clauses.map((c) => c.text).join(' and ') };
}
