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
 *
 * What every series running a rule shares is built once per rule (`RulePlan`): the list of
 * windows with their accumulators, EWMAs, seasonal lookups, the leaf functions and the generated
 * condition, all taking the series' state as their argument. A series holds only its state
 * (`CompiledProgram`): its windows, EWMAs and seasonal pointers, and a sample ring only when the
 * rule reads past samples (a window, `lag` or `seasonal`). A rule such as `value > 1000000`
 * costs a series a few numbers.
 */
import type { CallNode, Node } from './ast.ts';
import { constNumber } from './checker.ts';
import { generateCondition } from './codegen.ts';
import type { Leaf } from './codegen.ts';
import { nodeKey } from './printer.ts';
import type { RuleProgram } from './program.ts';
import { ewmaAlpha, ewmaStep, fault } from './program.ts';
import type { CheckedRule } from './rule.ts';
import { SampleHistory } from '../engine/windows/history.ts';
import { Window } from '../engine/windows/window.ts';

type Fn = Leaf<CompiledProgram>;
type EwmaSpec = { alpha?: number; halflifeMs?: number; halflifeSamples?: number };
type Accumulator = 'moments' | 'order' | 'max' | 'min';

class Ewma {
  s = NaN;
  private lastT = NaN;
  private lastDt = NaN;
  private alpha = NaN;
  constructor(private readonly spec: EwmaSpec) {}
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
  constructor(readonly ms: number) {}
  advance(h: SampleHistory, idx: number, t: number): void {
    const limit = t - this.ms;
    while (this.ptr < idx && h.t(this.ptr + 1) <= limit) this.ptr++;
  }
}

const NONE: readonly never[] = Object.freeze([]);

/** What every series running one rule shares (built once per rule, see the top of this file). */
class RulePlan {
  readonly windows: { ms: number; n: number; needs: Set<Accumulator> }[] = [];
  private readonly windowByKey = new Map<string, number>();
  readonly ewmas: EwmaSpec[] = [];
  readonly seasonals: number[] = [];
  maxLag = 0;
  readonly leaves = new Map<string, Fn>();
  readonly cond: Fn;

  constructor(rule: CheckedRule) {
    // Leaf aggregates are functions of a series' state (shared with explanations through leaf());
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
    this.cond = g.make(leaves, g.consts, g.nodes, g.messages, fault);
  }

  /** Whether a series needs a sample ring: something reads past samples. */
  get history(): boolean {
    return this.windows.length > 0 || this.seasonals.length > 0 || this.maxLag > 0;
  }

  private window(arg: Node, need?: Accumulator): number {
    const ms = arg.type === 'duration' ? arg.ms : 0;
    const n = arg.type === 'samples' ? arg.n : 0;
    const key = `${ms}/${n}`;
    let i = this.windowByKey.get(key);
    if (i === undefined) {
      i = this.windows.push({ ms, n, needs: new Set() }) - 1;
      this.windowByKey.set(key, i);
    }
    if (need !== undefined) this.windows[i]!.needs.add(need);
    return i;
  }

  private num(n: Node): Fn {
    switch (n.type) {
      case 'number': {
        const c = n.value;
        return () => c;
      }
      case 'value':
        return (p) => p.v;
      case 'call':
        return this.call(n);
      case 'neg': {
        const a = this.num(n.arg);
        return (p) => -a(p);
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
        return (p) => {
          const a = l(p);
          const b = r(p);
          const x = a + b;
          if (x - x !== 0 && a === a && b === b) fault(node, "'+'", a, b);
          return x;
        };
      case '-':
        return (p) => {
          const a = l(p);
          const b = r(p);
          const x = a - b;
          if (x - x !== 0 && a === a && b === b) fault(node, "'-'", a, b);
          return x;
        };
      case '*':
        if (lc !== undefined) {
          return (p) => {
            const b = r(p);
            const x = lc * b;
            if (x - x !== 0 && b === b) fault(node, "'*'", lc, b);
            return x;
          };
        }
        if (rc !== undefined) {
          return (p) => {
            const a = l(p);
            const x = a * rc;
            if (x - x !== 0 && a === a) fault(node, "'*'", a, rc);
            return x;
          };
        }
        return (p) => {
          const a = l(p);
          const b = r(p);
          const x = a * b;
          if (x - x !== 0 && a === a && b === b) fault(node, "'*'", a, b);
          return x;
        };
      default:
        return (p) => {
          const a = l(p);
          const b = r(p);
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
    // No per-sample cache: mean/std are O(1) reads, and order statistics catch up once per sample
    // (Window.order), after which a quantile is one interpolation.
    const f = this.leafCompute(n);
    this.leaves.set(key, f);
    return f;
  }

  private leafCompute(n: CallNode): Fn {
    const arg0 = n.args[0]!;
    switch (n.name) {
      case 'abs': {
        const a = this.num(arg0);
        return (p) => Math.abs(a(p));
      }
      case 'ewma': {
        const spec = arg0.type === 'duration' ? { halflifeMs: arg0.ms } : arg0.type === 'samples' ? { halflifeSamples: arg0.n } : { alpha: constNumber(arg0)! };
        const e = this.ewmas.push(spec) - 1;
        return (p) => p.ewmas[e]!.s;
      }
      case 'lag': {
        const k = arg0.type === 'samples' ? arg0.n : constNumber(arg0)!;
        if (k > this.maxLag) this.maxLag = k;
        return (p) => (p.idx - k >= 0 ? p.h!.v(p.idx - k) : NaN);
      }
      case 'seasonal': {
        const i = this.seasonals.push(arg0.type === 'duration' ? arg0.ms : 0) - 1;
        return (p) => {
          const ptr = p.seasonals[i]!.ptr;
          return ptr >= 0 ? p.h!.v(ptr) : NaN;
        };
      }
    }
    const wArg = n.name === 'quantile' ? n.args[1]! : arg0;
    switch (n.name) {
      case 'mean': {
        const i = this.window(wArg, 'moments');
        return (p) => {
          const w = p.windows[i]!;
          return w.complete ? w.moments!.mean() : NaN;
        };
      }
      case 'std': {
        const i = this.window(wArg, 'moments');
        return (p) => {
          const w = p.windows[i]!;
          return w.complete ? w.moments!.std() : NaN;
        };
      }
      case 'sum': {
        const i = this.window(wArg, 'moments');
        return (p) => {
          const w = p.windows[i]!;
          return w.complete ? w.moments!.sum() : NaN;
        };
      }
      case 'count': {
        const i = this.window(wArg);
        return (p) => {
          const w = p.windows[i]!;
          return w.complete ? p.idx - w.start + 1 : NaN;
        };
      }
      case 'min': {
        const i = this.window(wArg, 'min');
        return (p) => {
          const w = p.windows[i]!;
          return w.complete ? w.min() : NaN;
        };
      }
      case 'max': {
        const i = this.window(wArg, 'max');
        return (p) => {
          const w = p.windows[i]!;
          return w.complete ? w.max() : NaN;
        };
      }
      case 'median': {
        const i = this.window(wArg, 'order');
        return (p) => {
          const w = p.windows[i]!;
          return w.complete ? w.order().quantile(0.5) : NaN;
        };
      }
      case 'quantile': {
        const i = this.window(wArg, 'order');
        const q = constNumber(arg0)!;
        return (p) => {
          const w = p.windows[i]!;
          return w.complete ? w.order().quantile(q) : NaN;
        };
      }
      case 'mad': {
        const i = this.window(wArg, 'order');
        return (p) => {
          const w = p.windows[i]!;
          return w.complete ? w.order().mad() : NaN;
        };
      }
      case 'delta': {
        const i = this.window(wArg);
        return (p) => {
          const w = p.windows[i]!;
          const h = p.h!;
          return w.complete && p.idx > w.start ? h.v(p.idx) - h.v(w.start) : NaN;
        };
      }
      case 'rate': {
        const i = this.window(wArg);
        return (p) => {
          const w = p.windows[i]!;
          const h = p.h!;
          return w.complete && p.idx > w.start ? (h.v(p.idx) - h.v(w.start)) / ((h.t(p.idx) - h.t(w.start)) / 1000) : NaN;
        };
      }
      default:
        throw new Error(`internal: unknown function ${n.name}`);
    }
  }
}

const plans = new WeakMap<CheckedRule['ast'], RulePlan>();

/** The rule's plan, built on first use and shared by every series running the rule. */
function planOf(rule: CheckedRule): RulePlan {
  let plan = plans.get(rule.ast);
  if (plan === undefined) plans.set(rule.ast, (plan = new RulePlan(rule)));
  return plan;
}

/** One rule's state on one series. */
export class CompiledProgram implements RuleProgram {
  private readonly plan: RulePlan;
  /** The sample ring; null when the rule reads no past sample. */
  readonly h: SampleHistory | null;
  idx = -1;
  private t0 = NaN;
  /** The current sample's value (read by the generated condition). */
  v = NaN;
  readonly windows: readonly Window[];
  readonly ewmas: readonly Ewma[];
  readonly seasonals: readonly Seasonal[];

  constructor(rule: CheckedRule) {
    const plan = planOf(rule);
    this.plan = plan;
    const h = plan.history ? new SampleHistory(16) : null;
    this.h = h;
    this.windows = plan.windows.length === 0 ? NONE : plan.windows.map((spec) => {
      const w = new Window(h!, spec.ms, spec.n);
      for (const k of spec.needs) w.need(k);
      return w;
    });
    this.ewmas = plan.ewmas.length === 0 ? NONE : plan.ewmas.map((spec) => new Ewma(spec));
    this.seasonals = plan.seasonals.length === 0 ? NONE : plan.seasonals.map((ms) => new Seasonal(ms));
  }

  /** The rule's leaf functions by canonical text (shared by every series). */
  get leaves(): ReadonlyMap<string, Fn> {
    return this.plan.leaves;
  }

  step(t: number, v: number): number {
    const h = this.h;
    let idx: number;
    if (h !== null) {
      // Trimming only bounds memory: done when the ring is full, before it would grow.
      if (h.full()) this.trim(h);
      idx = h.push(t, v);
    } else idx = this.idx + 1;
    this.idx = idx;
    this.v = v;
    if (idx === 0) this.t0 = t;
    const ws = this.windows;
    const t0 = this.t0;
    for (let i = 0; i < ws.length; i++) ws[i]!.advance(idx, t, v, t0);
    const es = this.ewmas;
    for (let i = 0; i < es.length; i++) es[i]!.update(t, v);
    const ss = this.seasonals;
    for (let i = 0; i < ss.length; i++) ss[i]!.advance(h!, idx, t);
    return this.plan.cond(this);
  }

  /**
   * Forgets what no reader needs. First leniently (a window's own sorted array may keep the few
   * samples it has to replay); if that frees nothing, strictly (it will rebuild instead), so the
   * ring grows only when the windows themselves need more.
   */
  private trim(h: SampleHistory): void {
    h.trim(this.keep(false));
    if (h.full()) h.trim(this.keep(true));
  }

  private keep(strict: boolean): number {
    // Called before the next sample is pushed: a lag of k reads index idx + 1 − k.
    let keep = this.idx + 1 - this.plan.maxLag;
    const ws = this.windows;
    for (let i = 0; i < ws.length; i++) {
      const k = ws[i]!.oldestNeeded(strict);
      if (k < keep) keep = k;
    }
    const ss = this.seasonals;
    for (let i = 0; i < ss.length; i++) if (ss[i]!.ptr < keep) keep = ss[i]!.ptr < 0 ? 0 : ss[i]!.ptr;
    return keep;
  }

  leaf(key: string): number {
    if (key === 'value') return this.v;
    const f = this.plan.leaves.get(key);
    return f === undefined ? NaN : f(this);
  }
}

export function compileProgram(rule: CheckedRule): RuleProgram {
  return new CompiledProgram(rule);
}
