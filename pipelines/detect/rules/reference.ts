/**
 * The reference interpreter: walks the AST for every sample and recomputes every window from the
 * full history (sorting for quantiles, two-pass variance, EWMA replayed from the first sample).
 * Slow on purpose and simple enough to trust: property tests check the compiler against it and
 * the benchmark measures the compiler's speed-up over it. Same semantics as compiler.ts, including
 * completeness, short-circuit evaluation and faults.
 */
import type { CallNode, Node } from './ast.ts';
import { constNumber } from './checker.ts';
import { nodeKey } from './printer.ts';
import type { RuleProgram } from './program.ts';
import { FALSE, TRUE, UNKNOWN, compare, ewmaAlpha, ewmaStep, fault } from './program.ts';
import type { CheckedRule } from './rule.ts';
import { interpolate } from '../engine/windows/order-stats.ts';

export class ReferenceProgram implements RuleProgram {
  private readonly ts: number[] = [];
  private readonly vs: number[] = [];

  constructor(private readonly rule: CheckedRule) {}

  step(t: number, v: number): number {
    this.ts.push(t);
    this.vs.push(v);
    return this.bool(this.rule.ast.body);
  }

  leaf(key: string): number {
    if (key === 'value') return this.vs[this.vs.length - 1]!;
    const node = findCall(this.rule.ast.body, key);
    return node === undefined ? NaN : this.call(node);
  }

  private bool(n: Node): number {
    switch (n.type) {
      case 'compare': {
        const a = this.num(n.left);
        const b = this.num(n.right);
        if (Number.isNaN(a) || Number.isNaN(b)) return UNKNOWN;
        if (!Number.isFinite(a) || !Number.isFinite(b)) fault(n, `comparison '${n.op}'`, a, b);
        return compare(n.op, a, b);
      }
      case 'logic': {
        const a = this.bool(n.left);
        if (n.op === 'and') {
          if (a === FALSE) return FALSE;
          const b = this.bool(n.right);
          if (b === FALSE) return FALSE;
          return a === UNKNOWN || b === UNKNOWN ? UNKNOWN : TRUE;
        }
        if (a === TRUE) return TRUE;
        const b = this.bool(n.right);
        if (b === TRUE) return TRUE;
        return a === UNKNOWN || b === UNKNOWN ? UNKNOWN : FALSE;
      }
      case 'not': {
        const a = this.bool(n.arg);
        return a === UNKNOWN ? UNKNOWN : a === TRUE ? FALSE : TRUE;
      }
      default:
        throw new Error(`internal: ${n.type} is not a condition`);
    }
  }

  private num(n: Node): number {
    switch (n.type) {
      case 'number':
        return n.value;
      case 'value':
        return this.vs[this.vs.length - 1]!;
      case 'neg':
        return -this.num(n.arg);
      case 'call':
        return this.call(n);
      case 'arith': {
        const a = this.num(n.left);
        const b = this.num(n.right);
        const x = n.op === '+' ? a + b : n.op === '-' ? a - b : n.op === '*' ? a * b : a / b;
        if (!Number.isFinite(x) && !Number.isNaN(a) && !Number.isNaN(b)) fault(n, n.op === '/' ? "division '/'" : `'${n.op}'`, a, b);
        return x;
      }
      default:
        throw new Error(`internal: ${n.type} is not numeric`);
    }
  }

  /** The window's values oldest first, or undefined while the series is younger than the window. */
  private window(arg: Node): number[] | undefined {
    const last = this.ts.length - 1;
    const t = this.ts[last]!;
    if (arg.type === 'samples') {
      if (last + 1 < arg.n) return undefined;
      return this.vs.slice(last + 1 - arg.n);
    }
    const ms = (arg as { ms: number }).ms;
    if (t - this.ts[0]! < ms) return undefined;
    let j = last;
    while (j > 0 && this.ts[j - 1]! > t - ms) j--;
    return this.vs.slice(j);
  }

  private windowTimes(arg: Node): number[] {
    const last = this.ts.length - 1;
    if (arg.type === 'samples') return this.ts.slice(Math.max(0, last + 1 - arg.n));
    const t = this.ts[last]!;
    return this.ts.filter((x) => x > t - (arg as { ms: number }).ms);
  }

  private call(n: CallNode): number {
    const a0 = n.args[0]!;
    const last = this.vs.length - 1;
    switch (n.name) {
      case 'abs':
        return Math.abs(this.num(a0));
      case 'ewma': {
        const spec = a0.type === 'duration' ? { halflifeMs: a0.ms } : a0.type === 'samples' ? { halflifeSamples: a0.n } : { alpha: constNumber(a0)! };
        let s = this.vs[0]!;
        for (let i = 1; i <= last; i++) s = ewmaStep(s, this.vs[i]!, ewmaAlpha(spec, this.ts[i]! - this.ts[i - 1]!));
        return s;
      }
      case 'lag': {
        const k = a0.type === 'samples' ? a0.n : constNumber(a0)!;
        return last - k >= 0 ? this.vs[last - k]! : NaN;
      }
      case 'seasonal': {
        const limit = this.ts[last]! - (a0 as { ms: number }).ms;
        for (let i = last; i >= 0; i--) if (this.ts[i]! <= limit) return this.vs[i]!;
        return NaN;
      }
    }
    const wArg = n.name === 'quantile' ? n.args[1]! : a0;
    const w = this.window(wArg);
    if (w === undefined) return NaN;
    const sorted = () => [...w].sort((x, y) => x - y);
    switch (n.name) {
      case 'mean':
        return sumOf(w) / w.length;
      case 'sum':
        return sumOf(w);
      case 'std': {
        const mean = sumOf(w) / w.length;
        let ss = 0;
        for (const x of w) ss += (x - mean) * (x - mean);
        return Math.sqrt(ss / w.length);
      }
      case 'count':
        return w.length;
      case 'min':
        return w.reduce((m, x) => (x < m ? x : m), Infinity);
      case 'max':
        return w.reduce((m, x) => (x > m ? x : m), -Infinity);
      case 'median':
        return interpolate(sorted(), w.length, 0.5);
      case 'quantile':
        return interpolate(sorted(), w.length, constNumber(a0)!);
      case 'mad': {
        const med = interpolate(sorted(), w.length, 0.5);
        const dev = w.map((x) => Math.abs(x - med)).sort((x, y) => x - y);
        return interpolate(dev, dev.length, 0.5);
      }
      case 'delta':
        return w.length < 2 ? NaN : w[w.length - 1]! - w[0]!;
      case 'rate': {
        if (w.length < 2) return NaN;
        const times = this.windowTimes(wArg);
        return (w[w.length - 1]! - w[0]!) / ((times[times.length - 1]! - times[0]!) / 1000);
      }
      default:
        throw new Error(`internal: unknown function ${n.name}`);
    }
  }
}

function sumOf(xs: number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

function findCall(n: Node, key: string): CallNode | undefined {
  if (n.type === 'call' && nodeKey(n) === key) return n;
  for (const c of children(n)) {
    const f = findCall(c, key);
    if (f !== undefined) return f;
  }
  return undefined;
}

export function children(n: Node): Node[] {
  switch (n.type) {
    case 'call':
      return n.args;
    case 'neg':
    case 'not':
      return [n.arg];
    case 'arith':
    case 'compare':
    case 'logic':
      return [n.left, n.right];
    default:
      return [];
  }
}

export function referenceProgram(rule: CheckedRule): RuleProgram {
  return new ReferenceProgram(rule);
}
