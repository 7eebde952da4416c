/**
 * Recursive-descent parser. Precedence, lowest first: `or`, `and`, `not`, comparison (not
 * chainable), `+ -`, `* /`, unary `-`. Function arguments are parsed at the arithmetic level, since
 * no function takes a condition: `mean(1h and …` stops at `and` with a message naming `mean`.
 */
import type { ArithOp, CompareOp, Node, Persistence, RuleAst } from './ast.ts';
import { RuleSyntaxError } from './diagnostics.ts';
import { functions } from './functions.ts';
import type { Token } from './lexer.ts';
import { describeToken, tokenize } from './lexer.ts';

const compareOps = new Set(['>', '>=', '<', '<=', '==', '!=']);

/**
 * Limits that keep every later pass (checker, printer, compiler, explain: all recursive) far from
 * the stack's end and a hostile rule from costing more than a sensible one: an expression of at most
 * `MAX_RULE_CHARS` characters whose tree is at most `MAX_RULE_DEPTH` levels deep (parentheses,
 * `not`, unary minus, calls and chains such as `a + b + c` all count).
 */
export const MAX_RULE_CHARS = 10_000;
export const MAX_RULE_DEPTH = 100;
const keywords = new Set(['and', 'or', 'not', 'for', 'value', 'samples', 'sample']);

class Parser {
  private i = 0;
  /** Open recursive descents (parentheses, calls, `not`, unary signs). */
  private level = 0;
  /** Depth of each node built, for chains that grow in loops rather than by recursion. */
  private readonly depths = new WeakMap<Node, number>();
  constructor(private readonly toks: Token[]) {}

  private tooDeep(t: Token): never {
    throw new RuleSyntaxError(t.pos, `expression nested too deeply at ${describeToken(t)} (more than ${MAX_RULE_DEPTH} levels); split it into simpler rules`);
  }
  /** Enters one level of recursion at token `t`; `leave()` undoes it. */
  private enter(t: Token): void {
    if (++this.level > MAX_RULE_DEPTH) this.tooDeep(t);
  }
  private leave(): void {
    this.level--;
  }
  /** Records a node built from children, refusing it when the tree gets too deep. */
  private built<N extends Node>(n: N, at: Token, ...children: Node[]): N {
    let d = 0;
    for (const c of children) d = Math.max(d, this.depths.get(c) ?? 1);
    if (d + 1 > MAX_RULE_DEPTH) this.tooDeep(at);
    this.depths.set(n, d + 1);
    return n;
  }

  private peek(): Token {
    return this.toks[this.i]!;
  }
  private next(): Token {
    return this.toks[this.i++]!;
  }
  private isOp(text: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.text === text;
  }
  private isWord(text: string): boolean {
    const t = this.peek();
    return t.kind === 'ident' && t.text === text;
  }
  private fail(t: Token, expected: string): never {
    throw new RuleSyntaxError(t.pos, `expected ${expected}, found ${describeToken(t)}`);
  }

  rule(): RuleAst {
    if (this.peek().kind === 'eof') this.fail(this.peek(), 'an expression');
    const body = this.or();
    let persistence: Persistence | undefined;
    if (this.isWord('for')) {
      this.next();
      persistence = this.persistence();
    }
    const t = this.peek();
    if (t.kind !== 'eof') {
      if (t.kind === 'op' && compareOps.has(t.text)) {
        throw new RuleSyntaxError(t.pos, `comparisons cannot be chained (found ${describeToken(t)}); join them with 'and'`);
      }
      if (t.kind === 'op' && t.text === ')') throw new RuleSyntaxError(t.pos, `unmatched ')'`);
      this.fail(t, persistence ? 'end of rule after the for clause' : "an operator, 'and', 'or', 'for' or end of rule");
    }
    return persistence ? { body, persistence } : { body };
  }

  private persistence(): Persistence {
    const t = this.next();
    if (t.kind === 'duration') {
      if (t.value <= 0) throw new RuleSyntaxError(t.pos, `for duration must be positive, found '${t.text}'`);
      return { kind: 'duration', ms: t.value, pos: t.pos };
    }
    if (t.kind === 'number') {
      if (this.isWord('samples') || this.isWord('sample')) this.next();
      if (!Number.isInteger(t.value) || t.value < 1) {
        throw new RuleSyntaxError(t.pos, `for needs a whole number of samples ≥ 1 or a duration, found '${t.text}'`);
      }
      return { kind: 'samples', n: t.value, pos: t.pos };
    }
    this.i--;
    this.fail(t, "a sample count (for 3) or a duration (for 5m) after 'for'");
  }

  private or(): Node {
    let left = this.and();
    while (this.isWord('or')) {
      const t = this.next();
      const right = this.and();
      left = this.built({ type: 'logic', op: 'or', left, right, pos: left.pos, end: right.end }, t, left, right);
    }
    return left;
  }

  private and(): Node {
    let left = this.not();
    while (this.isWord('and')) {
      const t = this.next();
      const right = this.not();
      left = this.built({ type: 'logic', op: 'and', left, right, pos: left.pos, end: right.end }, t, left, right);
    }
    return left;
  }

  private not(): Node {
    if (this.isWord('not')) {
      const t = this.next();
      this.enter(t);
      const arg = this.not();
      this.leave();
      return this.built({ type: 'not', arg, pos: t.pos, end: arg.end }, t, arg);
    }
    return this.compare();
  }

  private compare(): Node {
    const left = this.additive();
    const t = this.peek();
    if (t.kind === 'op' && compareOps.has(t.text)) {
      this.next();
      const right = this.additive();
      return this.built({ type: 'compare', op: t.text as CompareOp, left, right, pos: left.pos, end: right.end }, t, left, right);
    }
    return left;
  }

  private additive(): Node {
    let left = this.multiplicative();
    while (this.isOp('+') || this.isOp('-')) {
      const t = this.next();
      const right = this.multiplicative();
      left = this.built({ type: 'arith', op: t.text as ArithOp, left, right, pos: left.pos, end: right.end }, t, left, right);
    }
    return left;
  }

  private multiplicative(): Node {
    let left = this.unary();
    while (this.isOp('*') || this.isOp('/')) {
      const t = this.next();
      const right = this.unary();
      left = this.built({ type: 'arith', op: t.text as ArithOp, left, right, pos: left.pos, end: right.end }, t, left, right);
    }
    return left;
  }

  private unary(): Node {
    if (this.isOp('-')) {
      const t = this.next();
      this.enter(t);
      const arg = this.unary();
      this.leave();
      return this.built({ type: 'neg', arg, pos: t.pos, end: arg.end }, t, arg);
    }
    if (this.isOp('+')) {
      this.enter(this.next());
      const arg = this.unary();
      this.leave();
      return arg;
    }
    return this.primary();
  }

  private primary(): Node {
    const t = this.next();
    switch (t.kind) {
      case 'number':
        if (this.isWord('samples') || this.isWord('sample')) {
          const w = this.next();
          return { type: 'samples', n: t.value, pos: t.pos, end: w.end };
        }
        return { type: 'number', value: t.value, pos: t.pos, end: t.end };
      case 'duration':
        return { type: 'duration', ms: t.value, pos: t.pos, end: t.end };
      case 'ident': {
        if (t.text === 'value') {
          if (this.isOp('(')) throw new RuleSyntaxError(this.peek().pos, `'value' is the current sample, not a function: write 'value', or lag(1) for the previous one`);
          return { type: 'value', pos: t.pos, end: t.end };
        }
        if (this.isOp('(')) return this.call(t);
        if (keywords.has(t.text)) {
          this.i--;
          this.fail(t, 'a number, value, a function call or (');
        }
        throw new RuleSyntaxError(
          t.pos,
          functions.has(t.text) ? `expected '(' after function name ${t.text}` : `unknown name '${t.text}' (the current sample is 'value'; functions are called with parentheses)`,
        );
      }
      case 'op':
        if (t.text === '(') {
          this.enter(t);
          const inner = this.or();
          if (!this.isOp(')')) this.fail(this.peek(), "')' to close '('");
          const close = this.next();
          this.leave();
          // Parentheses are not kept in the tree; widen the inner node's span to include them.
          const widened = { ...inner, pos: t.pos, end: close.end };
          this.depths.set(widened, this.depths.get(inner) ?? 1);
          return widened;
        }
        this.i--;
        return this.fail(t, 'a number, value, a function call or (');
      case 'eof':
        this.i--;
        return this.fail(t, 'a number, value, a function call or (');
    }
  }

  private call(name: Token): Node {
    this.next(); // (
    this.enter(name);
    const args: Node[] = [];
    const spec = functions.get(name.text);
    if (!this.isOp(')')) {
      for (;;) {
        args.push(this.additive());
        if (this.isOp(',')) {
          this.next();
          continue;
        }
        if (this.isOp(')')) break;
        const more = spec === undefined || args.length < spec.params.length;
        this.fail(this.peek(), `${more ? "',' or ')'" : "')'"} after arguments of ${name.text}`);
      }
    }
    const close = this.next();
    this.leave();
    return this.built({ type: 'call', name: name.text, args, pos: name.pos, end: close.end }, name, ...args);
  }
}

/** Parses one rule expression; throws RuleSyntaxError (a RuleError) at the first syntax error. */
export function parseRule(src: string): RuleAst {
  if (src.length > MAX_RULE_CHARS) {
    const before = src.slice(0, MAX_RULE_CHARS);
    const line = before.split('\n').length;
    const col = MAX_RULE_CHARS - before.lastIndexOf('\n');
    throw new RuleSyntaxError({ line, col, offset: MAX_RULE_CHARS }, `rule expression is ${src.length} characters, more than the limit of ${MAX_RULE_CHARS}; split it into simpler rules`);
  }
  return new Parser(tokenize(src)).rule();
}
