/**
 * Canonical text of a rule: one spelling per meaning (spacing, durations as `1h30m`, minimal
 * parentheses). Versions hash it and window aggregates are shared by their canonical key.
 */
import type { Node, Persistence, RuleAst } from './ast.ts';
import { formatDuration } from './ast.ts';

function prec(n: Node): number {
  switch (n.type) {
    case 'logic':
      return n.op === 'or' ? 1 : 2;
    case 'not':
      return 3;
    case 'compare':
      return 4;
    case 'arith':
      return n.op === '+' || n.op === '-' ? 5 : 6;
    case 'neg':
      return 7;
    default:
      return 8;
  }
}

export function formatNumber(v: number): string {
  return String(v);
}

export interface PrintStyle {
  /** Spelling of `*` (`×` in explanations). */
  times: string;
}

const canonicalStyle: PrintStyle = { times: '*' };

export function printNode(n: Node, style: PrintStyle = canonicalStyle): string {
  const sub = (child: Node, minPrec: number) => {
    const s = printNode(child, style);
    return prec(child) < minPrec ? `(${s})` : s;
  };
  switch (n.type) {
    case 'number':
      return formatNumber(n.value);
    case 'duration':
      return formatDuration(n.ms);
    case 'samples':
      return `${n.n} samples`;
    case 'value':
      return 'value';
    case 'call':
      return `${n.name}(${n.args.map((a) => printNode(a, style)).join(', ')})`;
    case 'neg':
      return `-${sub(n.arg, 8)}`;
    case 'not':
      return `not ${sub(n.arg, 3)}`;
    case 'arith':
    case 'compare':
    case 'logic': {
      const p = prec(n);
      const op = n.type === 'arith' && n.op === '*' ? style.times : n.op;
      // Left-associative: an equal-precedence child on the right keeps its parentheses.
      return `${sub(n.left, p)} ${op} ${sub(n.right, p + 1)}`;
    }
  }
}

const keys = new WeakMap<Node, string>();

/** Canonical text of a node, memoized: leaf keys are looked up on every firing's explanation. */
export function nodeKey(n: Node): string {
  let k = keys.get(n);
  if (k === undefined) {
    k = printNode(n);
    keys.set(n, k);
  }
  return k;
}

export function printPersistence(p: Persistence): string {
  return p.kind === 'samples' ? `for ${p.n}` : `for ${formatDuration(p.ms)}`;
}

export function printRule(ast: RuleAst): string {
  const body = printNode(ast.body);
  return ast.persistence ? `${body} ${printPersistence(ast.persistence)}` : body;
}
