/**
 * The type checker. Unlike the parser it does not stop at the first problem: it returns every
 * diagnostic (type mismatches, unknown functions with a did-you-mean, arity, argument ranges,
 * windows over the configured cap), each with its position.
 */
import type { CallNode, Node, RuleAst } from './ast.ts';
import { formatDuration } from './ast.ts';
import type { Diagnostic } from './diagnostics.ts';
import { diagnosticAt } from './diagnostics.ts';
import type { ParamKind } from './functions.ts';
import { functions } from './functions.ts';

export type ExprType = 'number' | 'boolean' | 'duration' | 'samples';

export interface CheckOptions {
  /** Longest duration a window, halflife, period or `for` may span. Default 7d. */
  maxWindowMs?: number;
  /** Most samples a window, lag or `for` may span. Default 100000. */
  maxWindowSamples?: number;
}

export const defaultCheckOptions: Required<CheckOptions> = { maxWindowMs: 7 * 86_400_000, maxWindowSamples: 100_000 };

const typeNames: Record<ExprType, string> = {
  number: 'a number',
  boolean: 'a condition',
  duration: 'a duration',
  samples: 'a sample count',
};

/** The value of a constant number (`0.99`, `-2`), or undefined when the node is not one. */
export function constNumber(n: Node): number | undefined {
  if (n.type === 'number') return n.value;
  if (n.type === 'neg') {
    const v = constNumber(n.arg);
    return v === undefined ? undefined : -v;
  }
  return undefined;
}

/** Edit distance counting an adjacent transposition as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

// A Map, not an object literal: a rule's names must never reach Object.prototype (`constructor`).
const aliases: ReadonlyMap<string, string> = new Map(Object.entries({ avg: 'mean', average: 'mean', stddev: 'std', stdev: 'std', sd: 'std', percentile: 'quantile', p: 'quantile', ema: 'ewma', shift: 'lag', offset: 'seasonal', diff: 'delta' }));

export function didYouMean(name: string): string | undefined {
  const alias = aliases.get(name.toLowerCase());
  if (alias !== undefined) return alias;
  let best: string | undefined;
  let bestD = Infinity;
  for (const f of functions.keys()) {
    const dist = editDistance(name.toLowerCase(), f);
    if (dist < bestD) {
      bestD = dist;
      best = f;
    }
  }
  return bestD <= Math.max(1, Math.floor(name.length / 3)) ? best : undefined;
}

class Checker {
  readonly diags: Diagnostic[] = [];
  constructor(private readonly opts: Required<CheckOptions>) {}

  private err(n: { pos: Node['pos'] }, message: string): void {
    this.diags.push(diagnosticAt(n.pos, message));
  }

  private bad(n: { pos: Node['pos'] }, message: string): false {
    this.err(n, message);
    return false;
  }

  private checkDurationCap(n: Node, ms: number, what: string): void {
    if (ms <= 0) this.err(n, `${what} must be positive, found ${formatDuration(ms)}`);
    else if (ms > this.opts.maxWindowMs) this.err(n, `${what} ${formatDuration(ms)} is larger than the limit ${formatDuration(this.opts.maxWindowMs)}`);
    else if (!Number.isInteger(ms)) this.err(n, `${what} must be a whole number of milliseconds`);
  }

  private checkSamplesCap(n: Node, count: number, what: string): void {
    if (!Number.isInteger(count) || count < 1) this.err(n, `${what} must be a whole number of samples ≥ 1, found ${count}`);
    else if (count > this.opts.maxWindowSamples) this.err(n, `${what} of ${count} samples is larger than the limit ${this.opts.maxWindowSamples}`);
  }

  /** Returns the node's type; undefined when an error already made it unknowable. */
  expr(n: Node): ExprType | undefined {
    switch (n.type) {
      case 'number':
      case 'value':
        return 'number';
      case 'duration':
        return 'duration';
      case 'samples':
        return 'samples';
      case 'neg': {
        const t = this.expr(n.arg);
        if (t !== undefined && t !== 'number') this.err(n.arg, `unary '-' needs a number, found ${this.describe(t)}`);
        return 'number';
      }
      case 'not': {
        const t = this.expr(n.arg);
        if (t !== undefined && t !== 'boolean') this.err(n.arg, `'not' needs a condition, found ${this.describe(t)} (did you mean a comparison such as value > 10?)`);
        return 'boolean';
      }
      case 'arith': {
        const l = this.expr(n.left);
        const r = this.expr(n.right);
        let ok = true;
        if (l !== undefined && l !== 'number') ok = this.bad(n.left, `operator '${n.op}' needs numbers on both sides, found ${this.describe(l)} on the left`);
        if (r !== undefined && r !== 'number') ok = this.bad(n.right, `operator '${n.op}' needs numbers on both sides, found ${this.describe(r)} on the right`);
        return ok && l !== undefined && r !== undefined ? 'number' : undefined;
      }
      case 'compare': {
        const l = this.expr(n.left);
        const r = this.expr(n.right);
        let ok = true;
        if (l !== undefined && l !== 'number') ok = this.bad(n.left, `comparison '${n.op}' needs numbers on both sides, found ${this.describe(l)} on the left`);
        if (r !== undefined && r !== 'number') ok = this.bad(n.right, `comparison '${n.op}' needs numbers on both sides, found ${this.describe(r)} on the right`);
        return ok ? 'boolean' : undefined;
      }
      case 'logic': {
        const l = this.expr(n.left);
        const r = this.expr(n.right);
        if (l !== undefined && l !== 'boolean') this.err(n.left, `'${n.op}' needs conditions on both sides, found ${this.describe(l)} on the left (did you mean a comparison?)`);
        if (r !== undefined && r !== 'boolean') this.err(n.right, `'${n.op}' needs conditions on both sides, found ${this.describe(r)} on the right (did you mean a comparison?)`);
        return 'boolean';
      }
      case 'call':
        return this.call(n);
    }
  }

  private describe(t: ExprType): string {
    const extra = t === 'duration' || t === 'samples' ? ' (windows are only function arguments, e.g. mean(1h))' : '';
    return typeNames[t] + extra;
  }

  private call(n: CallNode): ExprType | undefined {
    const spec = functions.get(n.name);
    if (spec === undefined) {
      const hint = didYouMean(n.name);
      this.err(n, `unknown function '${n.name}'${hint === undefined ? '' : ` (did you mean ${hint}?)`}`);
      for (const a of n.args) this.expr(a);
      return 'number';
    }
    if (n.args.length !== spec.params.length) {
      const want = spec.params.length;
      this.err(n, `${n.name} takes ${want} argument${want === 1 ? '' : 's'} (${spec.params.join(', ')}), found ${n.args.length}`);
    }
    n.args.forEach((a, i) => {
      const kind = spec.params[i];
      if (kind === undefined) this.expr(a);
      else this.param(n, a, kind);
    });
    return 'number';
  }

  private param(call: CallNode, a: Node, kind: ParamKind): void {
    const t = this.expr(a);
    if (t === undefined) return;
    const f = call.name;
    switch (kind) {
      case 'window':
        if (a.type === 'duration') this.checkDurationCap(a, a.ms, `window of ${f}`);
        else if (a.type === 'samples') this.checkSamplesCap(a, a.n, `window of ${f}`);
        else this.err(a, `window of ${f} must be a duration (1h) or a sample count (60 samples), found ${this.describe(t)}`);
        return;
      case 'q': {
        const q = constNumber(a);
        if (q === undefined) this.err(a, `q of ${f} must be a constant number in [0, 1], found ${this.describe(t)}`);
        else if (!(q >= 0 && q <= 1)) this.err(a, `q of ${f} must be in [0, 1], found ${q}`);
        return;
      }
      case 'smoothing': {
        if (a.type === 'duration') return this.checkDurationCap(a, a.ms, `halflife of ${f}`);
        if (a.type === 'samples') return this.checkSamplesCap(a, a.n, `halflife of ${f}`);
        const alpha = constNumber(a);
        if (alpha === undefined) this.err(a, `${f} needs a constant alpha in (0, 1], a halflife duration (30m) or a halflife in samples (10 samples), found ${this.describe(t)}`);
        else if (!(alpha > 0 && alpha <= 1)) this.err(a, `alpha of ${f} must be in (0, 1], found ${alpha}`);
        return;
      }
      case 'lag': {
        if (a.type === 'samples') return this.checkSamplesCap(a, a.n, `lag`);
        const k = constNumber(a);
        if (k === undefined) this.err(a, `lag needs a constant whole number of samples ≥ 1, found ${this.describe(t)}`);
        else this.checkSamplesCap(a, k, 'lag');
        return;
      }
      case 'period':
        if (a.type === 'duration') this.checkDurationCap(a, a.ms, `period of ${f}`);
        else this.err(a, `period of ${f} must be a duration (1d), found ${this.describe(t)}`);
        return;
      case 'number':
        if (t !== 'number') this.err(a, `argument of ${f} must be a number, found ${this.describe(t)}`);
        return;
    }
  }
}

/** Every problem with a parsed rule; an empty list means it can be compiled. */
export function checkRule(ast: RuleAst, options: CheckOptions = {}): Diagnostic[] {
  const opts = { ...defaultCheckOptions, ...options };
  const c = new Checker(opts);
  const t = c.expr(ast.body);
  if (t !== undefined && t !== 'boolean') {
    c.diags.push(diagnosticAt(ast.body.pos, `a rule must be a condition (e.g. value > 10), found ${typeNames[t]}`));
  }
  const p = ast.persistence;
  if (p !== undefined) {
    if (p.kind === 'duration' && p.ms > opts.maxWindowMs) c.diags.push(diagnosticAt(p.pos, `for ${formatDuration(p.ms)} is larger than the limit ${formatDuration(opts.maxWindowMs)}`));
    if (p.kind === 'samples' && p.n > opts.maxWindowSamples) c.diags.push(diagnosticAt(p.pos, `for ${p.n} samples is larger than the limit ${opts.maxWindowSamples}`));
  }
  c.diags.sort((a, b) => a.offset - b.offset);
  return c.diags;
}
