/**
 * Generates one JavaScript function per rule for its condition: arithmetic, comparisons, `and`/
 * `or`/`not`, fault checks and short-circuits inlined into straight-line code, calling out only
 * for window aggregates (the leaf closures of compiler.ts).
 *
 * Why: a tree of small closures made from the same few function literals shares call-site
 * feedback across every node and every rule in the process, so V8 sees each `l()`/`r()` call as
 * megamorphic and inlines nothing. One generated function per rule has its own call sites.
 *
 * Safety: the rule's text never reaches `new Function`. The source is built from fixed templates,
 * generated local names and array indices; constants, AST nodes (for fault positions) and fault
 * messages are passed in arrays, never spelled into the source. The function is generated once
 * per checked rule and shared by every series running it: the series' state is its argument.
 */
import type { ArithOp, CallNode, CompareOp, Node, RuleAst } from './ast.ts';
import { nodeKey } from './printer.ts';
import { fault } from './program.ts';

/**
 * What the generated function is called with: one series' program state. It reads the current
 * value from it and hands it to the leaf aggregates, which are shared by every series too.
 */
export interface CondEnv {
  /** The current sample's value. */
  v: number;
}

/** A leaf aggregate: its value for the series whose state is passed. */
export type Leaf<E extends CondEnv = CondEnv> = (env: E) => number;

type Factory = <E extends CondEnv>(leaves: readonly Leaf<E>[], consts: readonly number[], nodes: readonly Node[], messages: readonly string[], fail: typeof fault) => (env: E) => number;

export interface GeneratedCondition {
  /** Leaf keys (canonical text of call nodes other than abs), in the order the function expects them. */
  leafKeys: readonly string[];
  make: Factory;
  consts: readonly number[];
  nodes: readonly Node[];
  messages: readonly string[];
}

const cache = new WeakMap<RuleAst, GeneratedCondition>();

// The only operator spellings that reach the source. The parser produces nothing else; the check
// keeps that true for an AST built some other way (defence in depth for `new Function`).
const ARITH_OPS: ReadonlySet<string> = new Set<ArithOp>(['+', '-', '*', '/']);
const COMPARE_OPS: ReadonlySet<string> = new Set<CompareOp>(['>', '>=', '<', '<=', '==', '!=']);

/** The generated condition of a rule (built on first use, then shared). */
export function generateCondition(ast: RuleAst): GeneratedCondition {
  let g = cache.get(ast);
  if (g === undefined) {
    g = build(ast.body);
    cache.set(ast, g);
  }
  return g;
}

function build(body: Node): GeneratedCondition {
  const leafKeys: string[] = [];
  const leafIndex = new Map<string, number>();
  const consts: number[] = [];
  const nodes: Node[] = [];
  const messages: string[] = [];
  let tmp = 0;
  const fresh = () => `t${tmp++}`;
  const nodeRef = (n: Node) => `N[${nodes.push(n) - 1}]`;
  const msgRef = (m: string) => `M[${messages.push(m) - 1}]`;

  const leaf = (n: CallNode): string => {
    const key = nodeKey(n);
    let i = leafIndex.get(key);
    if (i === undefined) {
      i = leafKeys.push(key) - 1;
      leafIndex.set(key, i);
    }
    return `L${i}(E)`;
  };

  /** Emits statements computing a number into `out`; returns the name holding it. */
  const num = (n: Node, out: string[]): string => {
    const r = fresh();
    switch (n.type) {
      case 'number':
        out.push(`const ${r} = C[${consts.push(n.value) - 1}];`);
        return r;
      case 'value':
        out.push(`const ${r} = E.v;`);
        return r;
      case 'neg': {
        const a = num(n.arg, out);
        out.push(`const ${r} = -${a};`);
        return r;
      }
      case 'call': {
        if (n.name === 'abs') {
          const a = num(n.args[0]!, out);
          out.push(`const ${r} = Math.abs(${a});`);
          return r;
        }
        out.push(`const ${r} = ${leaf(n)};`);
        return r;
      }
      case 'arith': {
        const a = num(n.left, out);
        const b = num(n.right, out);
        // A finite result or NaN from a NaN operand (unknown) passes; anything else is a fault.
        if (!ARITH_OPS.has(n.op)) throw new Error(`internal: unknown arithmetic operator ${JSON.stringify(n.op)}`);
        const what = n.op === '/' ? "division '/'" : `'${n.op}'`;
        out.push(`const ${r} = ${a} ${n.op} ${b};`);
        out.push(`if (${r} - ${r} !== 0 && ${a} === ${a} && ${b} === ${b}) F(${nodeRef(n)}, ${msgRef(what)}, ${a}, ${b});`);
        return r;
      }
      default:
        throw new Error(`internal: ${n.type} is not numeric`);
    }
  };

  /** Emits statements computing a truth value (0 false, 1 true, 2 unknown); returns its name. */
  const bool = (n: Node, out: string[]): string => {
    const r = fresh();
    switch (n.type) {
      case 'compare': {
        const a = num(n.left, out);
        const b = num(n.right, out);
        if (!COMPARE_OPS.has(n.op)) throw new Error(`internal: unknown comparison operator ${JSON.stringify(n.op)}`);
        const op = n.op === '==' ? '===' : n.op === '!=' ? '!==' : n.op;
        out.push(`let ${r};`);
        out.push(`if (${a} - ${a} !== 0 || ${b} - ${b} !== 0) {`);
        out.push(`  if (${a} !== ${a} || ${b} !== ${b}) ${r} = 2;`);
        out.push(`  else F(${nodeRef(n)}, ${msgRef(`comparison '${n.op}'`)}, ${a}, ${b});`);
        out.push(`} else ${r} = ${a} ${op} ${b} ? 1 : 0;`);
        return r;
      }
      case 'logic': {
        // Short-circuit (Kleene logic): the right side runs only when the left does not decide.
        const a = bool(n.left, out);
        const decides = n.op === 'and' ? 0 : 1;
        out.push(`let ${r} = ${decides};`);
        out.push(`if (${a} !== ${decides}) {`);
        const inner: string[] = [];
        const b = bool(n.right, inner);
        for (const line of inner) out.push(`  ${line}`);
        out.push(`  if (${b} !== ${decides}) ${r} = ${a} === 2 || ${b} === 2 ? 2 : ${1 - decides};`);
        out.push('}');
        return r;
      }
      case 'not': {
        const a = bool(n.arg, out);
        out.push(`const ${r} = ${a} === 2 ? 2 : 1 - ${a};`);
        return r;
      }
      default:
        throw new Error(`internal: ${n.type} is not a condition`);
    }
  };

  const lines: string[] = [];
  const result = bool(body, lines);
  const source = [
    "'use strict';",
    ...leafKeys.map((_, i) => `const L${i} = L[${i}];`),
    'return function condition(E) {',
    ...lines.map((l) => `  ${l}`),
    `  return ${result};`,
    '};',
  ].join('\n');
  // Only generated text from the templates above: no rule text, no identifiers from the rule.
  const make = new Function('L', 'C', 'N', 'M', 'F', source) as Factory;
  return { leafKeys, make, consts, nodes, messages };
}
