/**
 * Rule files. Either YAML `rules: [{id, kind, severity, description, expr}]` (or one such mapping
 * at top level), or a file holding just an expression: one FN rule named after the file. Every
 * problem is reported with its line and column in the file, expression errors included.
 */
import { basename, extname } from 'node:path';
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Node as YamlNode } from 'yaml';
import type { CheckOptions } from './checker.ts';
import type { Diagnostic } from './diagnostics.ts';
import type { CheckedRule, RuleKind, RuleSpec, Severity } from './rule.ts';
import { prepareRule, ruleIdPattern, ruleKinds, severities } from './rule.ts';

export interface RuleFileResult {
  rules: CheckedRule[];
  /** Positioned in the file (line/col of the file, not of the expression). */
  diagnostics: Diagnostic[];
}

function lineColAt(src: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < src.length; i++) {
    if (src[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: offset - lineStart + 1 };
}

function at(src: string, offset: number, message: string, ruleId?: string): Diagnostic {
  const { line, col } = lineColAt(src, offset);
  return ruleId === undefined ? { line, col, offset, message } : { line, col, offset, message, ruleId };
}

/**
 * Maps a position inside an expression back into the file: each expression line is looked up in
 * the scalar's source text (plain, quoted and literal block scalars keep lines verbatim). Where
 * YAML rewrote the text (escapes, folding) the scalar's start is used.
 */
function exprMapper(src: string, node: YamlNode, expr: string): (d: Diagnostic) => number {
  const [start, end] = node.range ?? [0, 0];
  const lines = expr.split('\n');
  const starts: (number | undefined)[] = [];
  let cursor = start;
  for (const l of lines) {
    if (l.length === 0) {
      starts.push(undefined);
      continue;
    }
    const found = src.indexOf(l, cursor);
    if (found < 0 || found >= end) {
      starts.push(undefined);
      continue;
    }
    starts.push(found);
    cursor = found + l.length;
  }
  return (d) => {
    const s = starts[d.line - 1];
    return s === undefined ? start : s + d.col - 1;
  };
}

/** A rule file larger than this is refused before it is parsed. */
export const MAX_RULE_FILE_CHARS = 1 << 20;

export function parseRuleFile(src: string, file = 'rules', options: CheckOptions = {}): RuleFileResult {
  const diagnostics: Diagnostic[] = [];
  const rules: CheckedRule[] = [];
  if (src.length > MAX_RULE_FILE_CHARS) {
    diagnostics.push(at(src, MAX_RULE_FILE_CHARS, `rule file is ${src.length} characters, more than the limit of ${MAX_RULE_FILE_CHARS}; split it`));
    return { rules, diagnostics };
  }
  const doc = parseDocument(src, { keepSourceTokens: false });
  const top = doc.contents;

  if (doc.errors.length > 0 || !isMap(top)) {
    // Not a YAML mapping: the whole file is one expression.
    if (isMap(top) || isSeq(top)) {
      for (const e of doc.errors) diagnostics.push({ line: e.linePos?.[0].line ?? 1, col: e.linePos?.[0].col ?? 1, offset: e.pos[0], message: e.message.split('\n')[0]! });
      return { rules, diagnostics };
    }
    const id = basename(file, extname(file)) || 'rule';
    const spec: RuleSpec = { id, kind: 'FN', severity: 'warning', description: '', expr: src };
    const r = prepareRule(spec, options);
    if (r.rule) rules.push(r.rule);
    for (const d of r.diagnostics) diagnostics.push({ ...d, ruleId: id });
    return { rules, diagnostics };
  }

  let items: YamlNode[];
  let prefix: (i: number) => string;
  const rulesNode = top.get('rules', true) as YamlNode | undefined;
  if (rulesNode !== undefined) {
    for (const pair of top.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : '?';
      if (k !== 'rules') diagnostics.push(at(src, (pair.key as YamlNode | null)?.range?.[0] ?? 0, `unknown key '${k}' (expected 'rules')`));
    }
    if (!isSeq(rulesNode)) {
      diagnostics.push(at(src, rulesNode.range?.[0] ?? 0, `'rules' must be a list of rules`));
      return { rules, diagnostics };
    }
    items = rulesNode.items as YamlNode[];
    prefix = (i) => `rules[${i}]`;
  } else if (top.has('expr')) {
    items = [top];
    prefix = () => 'rule';
  } else {
    diagnostics.push(at(src, top.range?.[0] ?? 0, `expected a 'rules' list (or a single rule with 'expr')`));
    return { rules, diagnostics };
  }

  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const where = prefix(i);
    const itemStart = item.range?.[0] ?? 0;
    if (!isMap(item)) {
      diagnostics.push(at(src, itemStart, `${where}: expected a mapping with id, kind, severity, description, expr`));
      return;
    }
    const known = new Set(['id', 'kind', 'severity', 'description', 'expr']);
    for (const pair of item.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : '?';
      if (!known.has(k)) diagnostics.push(at(src, (pair.key as YamlNode | null)?.range?.[0] ?? itemStart, `${where}: unknown key '${k}' (expected id, kind, severity, description, expr)`));
    }
    const str = (key: string): { value?: string; node?: YamlNode } => {
      const n = item.get(key, true) as YamlNode | undefined;
      if (n === undefined) return {};
      if (!isScalar(n) || (typeof n.value !== 'string' && typeof n.value !== 'number')) {
        diagnostics.push(at(src, n.range?.[0] ?? itemStart, `${where}.${key}: expected a string`));
        return { node: n };
      }
      return { value: String(n.value), node: n };
    };
    const id = str('id');
    const kind = str('kind');
    const severity = str('severity');
    const description = str('description');
    const expr = str('expr');
    let ok = true;
    if (id.value === undefined) {
      if (id.node === undefined) diagnostics.push(at(src, itemStart, `${where}: missing 'id'`));
      ok = false;
    } else if (!ruleIdPattern.test(id.value)) {
      diagnostics.push(at(src, id.node!.range![0], `${where}.id: '${id.value}' is not a valid id (letters, digits, _ . : - /)`));
      ok = false;
    } else if (seen.has(id.value)) {
      diagnostics.push(at(src, id.node!.range![0], `${where}.id: duplicate id '${id.value}' (also rules[${seen.get(id.value)}])`));
      ok = false;
    } else seen.set(id.value, i);
    const kindValue = (kind.value ?? 'FN').toUpperCase();
    if (!(ruleKinds as readonly string[]).includes(kindValue)) {
      diagnostics.push(at(src, kind.node?.range?.[0] ?? itemStart, `${where}.kind: expected FN or FP, found '${kind.value}'`));
      ok = false;
    }
    const sevValue = severity.value ?? 'warning';
    if (!(severities as readonly string[]).includes(sevValue)) {
      diagnostics.push(at(src, severity.node?.range?.[0] ?? itemStart, `${where}.severity: expected one of info, warning, critical, found '${sevValue}'`));
      ok = false;
    }
    if (expr.value === undefined) {
      if (expr.node === undefined) diagnostics.push(at(src, itemStart, `${where}: missing 'expr'`));
      return;
    }
    const spec: RuleSpec = {
      id: id.value ?? `#${i}`,
      kind: kindValue as RuleKind,
      severity: sevValue as Severity,
      description: description.value ?? '',
      expr: expr.value,
    };
    const r = prepareRule(spec, options);
    const map = exprMapper(src, expr.node!, expr.value);
    for (const d of r.diagnostics) {
      diagnostics.push(at(src, map(d), `${where} (${spec.id}): ${d.message}`, spec.id));
    }
    if (ok && r.rule) rules.push(r.rule);
  });
  diagnostics.sort((a, b) => a.offset - b.offset);
  return { rules, diagnostics };
}
