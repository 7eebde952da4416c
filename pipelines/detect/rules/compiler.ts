/**
 * Compiles a checked rule into plain closures over incremental window state — no eval, no
 * generated source: each AST node becomes a closure calling its children's closures.
 *
 * Per sample: push into the history, advance each distinct window once (its accumulators add the
 * new sample and drop the evicted ones), update EWMAs and seasonal pointers, evaluate the
 * condition. Every distinct aggregate (by canonical text, e.g. `std(1h)`) is one closure shared by
 * all clauses, cached per sample, so `mean(1h)` in three clauses is computed once.
 * Cost: O(1) amortized for mean/std/sum/count/min/max/ewma/rate/delta/lag/seasonal; quantile,
 * median and mad O(log n) plus one memmove on insert/remove (see windows/order-stats.ts). Order
 * statistics and min/max catch up only when a clause reads them (see windows/window.ts), so a
 * clause that `and`/`or` short-circuits costs almost nothing on the samples that skip it.
 */
import type { CallNode, Node } from './ast.ts';
import { constNumber } from './checker.ts';
import { generateCondition } from './codegen.ts';
import { nodeKey } from './printer.ts';
import type { RuleProgram } from './program.ts';
import { ewmaAlpha, ewmaStep, fault } from './program.ts';
import type { CheckedRule } from './rule.ts';
import { SampleHistory } from '../engine/windows/history.ts';
import { Window } from '../engine/windows/window.ts';

type Fn = () => number;

class Ewma {
  s = NaN;
  private lastT = NaN;
  private lastDt = NaN;
  private alpha = NaN;
  constructor(private readonly spec: { alpha?: number; halflifeMs?: number; halflifeSamples?: number }) {}
  update(t: number, x: number): void {
    if (this.s !== this.s) this.s = x;
    else {
      // Regular sampling repeats Δt: reuse the weight instead of a Math.pow per sample.
      const dt = t - this.lastT;
      if (dt !== this.lastDt) {
        this.alpha = ewmaAlpha(this.spec, dt);
        this.lastDt = dt;
      }
      this.s = ewmaStep(this.s, x, this.alpha);
    }
    this.lastT = t;
  }
}

class Seasonal {
  /** Index of the latest sample at or before t − period; −1 while there is none. */
  ptr = -1;
  constructor(
    private readonly h: SampleHistory,
    readonly ms: number,
  ) {}
  advance(idx: number, t: number): void {
    const limit = t - this.ms;
    while (this.ptr < idx && this.h.t(this.ptr + 1) <= limit) this.ptr++;
  }
}

export class CompiledProgram implements RuleProgram {
  private readonly h = new SampleHistory();
  private idx = -1;
  private t0 = NaN;
  /** The current sample's value (read by the generated condition). */
  v = NaN;
  private windows: Window[] = [];
  private readonly windowByKey = new Map<string, Window>();
  private ewmas: Ewma[] = [];
  private seasonals: Seasonal[] = [];
  private maxLag = 0;
  private readonly leaves = new Map<string, Fn>();
  private readonly cond: Fn;

  constructor(rule: CheckedRule) {
    // Leaf aggregates are closures over the windows (shared with explanations through leaf());
    // the condition around them is one generated function per rule (codegen.ts).
    const walk = (n: Node): void => {
      if (n.type === 'call') this.call(n);
      if ('args' in n) for (const a of n.args) walk(a);
      if ('arg' in n) walk(n.arg);
      if ('left' in n) {
        walk(n.left);
        walk(n.right);
      }
    };
    walk(rule.ast.body);
    const g = generateCondition(rule.ast);
    const leaves = g.leafKeys.map((k) => this.leaves.get(k)!);
    this.cond = g.make(leaves, this, g.consts, g.nodes, g.messages, fault);
  }

  step(t: number, v: number): number {
    const h = this.h;
    // Trimming only bounds memory: every 64 samples is enough and keeps it off the hot path.
    if ((this.idx & 63) === 0) this.trim();
    const idx = h.push(t, v);
    this.idx = idx;
    this.v = v;
    if (idx === 0) this.t0 = t;
    const ws = this.windows;
    const t0 = this.t0;
    for (let i = 0; i < ws.length; i++) ws[i]!.advance(idx, t, v, t0);
    const es = this.ewmas;
    for (let i = 0; i < es.length; i++) es[i]!.update(t, v);
    const ss = this.seasonals;
    for (let i = 0; i < ss.length; i++) ss[i]!.advance(idx, t);
    return this.cond();
  }

  private trim(): void {
    let keep = this.idx + 1 - this.maxLag;
    const ws = this.windows;
    for (let i = 0; i < ws.length; i++) if (ws[i]!.start < keep) keep = ws[i]!.start;
    const ss = this.seasonals;
    for (let i = 0; i < ss.length; i++) if (ss[i]!.ptr < keep) keep = ss[i]!.ptr < 0 ? 0 : ss[i]!.ptr;
    this.h.trim(keep);
  }

  leaf(key: string): number {
    if (key === 'value') return this.v;
    const f = this.leaves.get(key);
    return f === undefined ? NaN : f();
  }

  private window(arg: Node): Window {
    const ms = arg.type === 'duration' ? arg.ms : 0;
    const n = arg.type === 'samples' ? arg.n : 0;
    const key = `${ms}/${n}`;
    let w = this.windowByKey.get(key);
    if (w === undefined) {
      w = new Window(this.h, ms, n);
      this.windowByKey.set(key, w);
      this.windows.push(w);
    }
    return w;
  }

  private num(n: Node): Fn {
    switch (n.type) {
      case 'number': {
        const c = n.value;
        return () => c;
      }
      case 'value':
        return () => this.v;
      case 'call':
        return this.call(n);
      case 'neg': {
        const a = this.num(n.arg);
        return () => -a();
      }
      case 'arith':
        return this.arith(n.op, n.left, n.right, n);
      default:
        throw new Error(`internal: ${n.type} is not numeric`);
    }
  }

  private arith(op: string, ln: Node, rn: Node, node: Node): Fn {
    const l = this.num(ln);
    const r = this.num(rn);
    const lc = constNumber(ln);
    const rc = constNumber(rn);
    // A finite result or NaN from a NaN operand (unknown) passes; anything else is a fault.
    switch (op) {
      case '+':
        return () => {
          const a = l();
          const b = r();
          const x = a + b;
          if (x - x !== 0 && a === a && b === b) fault(node, "'+'", a, b);
          return x;
        };
      case '-':
        return () => {
          const a = l();
          const b = r();
          const x = a - b;
          if (x - x !== 0 && a === a && b === b) fault(node, "'-'", a, b);
          return x;
        };
      case '*':
        if (lc !== undefined) {
          return () => {
            const b = r();
            const x = lc * b;
            if (x - x !== 0 && b === b) fault(node, "'*'", lc, b);
            return x;
          };
        }
        if (rc !== undefined) {
          return () => {
            const a = l();
            const x = a * rc;
            if (x - x !== 0 && a === a) fault(node, "'*'", a, rc);
            return x;
          };
        }
        return () => {
          const a = l();
          const b = r();
          const x = a * b;
          if (x - x !== 0 && a === a && b === b) fault(node, "'*'", a, b);
          return x;
        };
      default:
        return () => {
          const a = l();
          const b = r();
          const x = a / b;
          if (x - x !== 0 && a === a && b === b) fault(node, "division '/'", a, b);
          return x;
        };
    }
  }

  private call(n: CallNode): Fn {
    const key = nodeKey(n);
    const existing = this.leaves.get(key);
    if (existing !== undefined) return existing;
    const compute = this.leafCompute(n);
    // O(1) reads (mean is s/n) are cheaper than a cache check; order statistics are cached per
    // sample so `quantile(0.99, 1h)` named in two clauses is computed once.
    let stamp = -1;
    let cached = NaN;
    const f = !(n.name === 'quantile' || n.name === 'median' || n.name === 'mad') ? compute : () => {
      if (stamp === this.idx) return cached;
      stamp = this.idx;
      return (cached = compute());
    };
    this.leaves.set(key, f);
    return f;
  }

  private leafCompute(n: CallNode): Fn {
    const h = this.h;
    const arg0 = n.args[0]!;
    switch (n.name) {
      case 'abs': {
        const a = this.num(arg0);
        return () => Math.abs(a());
      }
      case 'ewma': {
        const spec = arg0.type === 'duration' ? { halflifeMs: arg0.ms } : arg0.type === 'samples' ? { halflifeSamples: arg0.n } : { alpha: constNumber(arg0)! };
        const e = new Ewma(spec);
        this.ewmas.push(e);
        return () => e.s;
      }
      case 'lag': {
        const k = arg0.type === 'samples' ? arg0.n : constNumber(arg0)!;
        if (k > this.maxLag) this.maxLag = k;
        return () => (this.idx - k >= 0 ? h.v(this.idx - k) : NaN);
      }
      case 'seasonal': {
        const s = new Seasonal(h, arg0.type === 'duration' ? arg0.ms : 0);
        this.seasonals.push(s);
        return () => (s.ptr >= 0 ? h.v(s.ptr) : NaN);
      }
    }
    const wArg = n.name === 'quantile' ? n.args[1]! : arg0;
    const w = this.window(wArg);
    switch (n.name) {
      case 'mean': {
        w.need('moments');
        const m = w.moments!;
        return () => (w.complete ? m.mean() : NaN);
      }
      case 'std': {
        w.need('moments');
        const m = w.moments!;
        return () => (w.complete ? m.std() : NaN);
      }
      case 'sum': {
        w.need('moments');
        const m = w.moments!;
        return () => (w.complete ? m.sum() : NaN);
      }
      case 'count':
        return () => (w.complete ? this.idx - w.start + 1 : NaN);
      case 'min': {
        w.need('min');
        return () => (w.complete ? w.min() : NaN);
      }
      case 'max': {
        w.need('max');
        return () => (w.complete ? w.max() : NaN);
      }
      case 'median': {
        w.need('order');
        return () => (w.complete ? w.order().quantile(0.5) : NaN);
      }
      case 'quantile': {
        w.need('order');
        const q = constNumber(arg0)!;
        return () => (w.complete ? w.order().quantile(q) : NaN);
      }
      case 'mad': {
        w.need('order');
        return () => (w.complete ? w.order().mad() : NaN);
      }
      case 'delta':
        return () => (w.complete && this.idx > w.start ? h.v(this.idx) - h.v(w.start) : NaN);
      case 'rate':
        return () => (w.complete && this.idx > w.start ? (h.v(this.idx) - h.v(w.start)) / ((h.t(this.idx) - h.t(w.start)) / 1000) : NaN);
      default:
        throw new Error(`internal: unknown function ${n.name}`);
    }
  }
}

export function compileProgram(rule: CheckedRule): RuleProgram {
  return new CompiledProgram(rule);
}
