/**
 * The rule language's syntax tree. Positions are 1-based line/column plus the 0-based offset into
 * the expression text, so diagnostics can be mapped back into the YAML file the rule came from.
 */

export interface Pos {
  line: number;
  col: number;
  offset: number;
}

interface NodeBase {
  pos: Pos;
  /** Offset just past the node's last character. */
  end: number;
}

export interface NumberNode extends NodeBase {
  type: 'number';
  value: number;
}
/** `5m`, `1h30m`: only ever a window, halflife or period argument, never arithmetic. */
export interface DurationNode extends NodeBase {
  type: 'duration';
  ms: number;
}
/** `60 samples`: a window measured in samples rather than time. */
export interface SamplesNode extends NodeBase {
  type: 'samples';
  n: number;
}
export interface ValueNode extends NodeBase {
  type: 'value';
}
export interface CallNode extends NodeBase {
  type: 'call';
  name: string;
  args: Node[];
}
export interface NegNode extends NodeBase {
  type: 'neg';
  arg: Node;
}
export interface NotNode extends NodeBase {
  type: 'not';
  arg: Node;
}
export type ArithOp = '+' | '-' | '*' | '/';
export interface ArithNode extends NodeBase {
  type: 'arith';
  op: ArithOp;
  left: Node;
  right: Node;
}
export type CompareOp = '>' | '>=' | '<' | '<=' | '==' | '!=';
export interface CompareNode extends NodeBase {
  type: 'compare';
  op: CompareOp;
  left: Node;
  right: Node;
}
export type LogicOp = 'and' | 'or';
export interface LogicNode extends NodeBase {
  type: 'logic';
  op: LogicOp;
  left: Node;
  right: Node;
}

export type Node =
  | NumberNode
  | DurationNode
  | SamplesNode
  | ValueNode
  | CallNode
  | NegNode
  | NotNode
  | ArithNode
  | CompareNode
  | LogicNode;

/** `for N` (consecutive samples) or `for 5m` (continuously true for at least that long). */
export type Persistence =
  | { kind: 'samples'; n: number; pos: Pos }
  | { kind: 'duration'; ms: number; pos: Pos };

export interface RuleAst {
  body: Node;
  persistence?: Persistence;
}

export const durationUnits: ReadonlyArray<readonly [string, number]> = [
  ['w', 7 * 86_400_000],
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
];

/** Canonical spelling: largest units first (`90m` → `1h30m`, weeks as days), so equal windows share a key. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, size] of durationUnits) {
    if (unit === 'w') continue;
    if (rest >= size) {
      const k = Math.floor(rest / size);
      out += `${k}${unit}`;
      rest -= k * size;
    }
  }
  return out;
}
