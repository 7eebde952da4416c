/**
 * A small JSON Schema validator for model answers: the subset agent schemas use (type, enum,
 * const, properties/required/additionalProperties, items, min/max bounds, pattern, anyOf/oneOf/
 * allOf, local $ref). It returns every problem with a path, because the list is fed back to the
 * model verbatim by repair loops. Unknown keywords are ignored, as JSON Schema specifies.
 */

import type { JsonSchema } from './types.ts';

type S = Record<string, unknown>;

export function validateSchema(schema: JsonSchema, value: unknown): string[] {
  const problems: string[] = [];
  check(schema, value, '$', schema, problems);
  return problems;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function matchesType(v: unknown, t: string): boolean {
  const actual = typeOf(v);
  return actual === t || (t === 'number' && actual === 'integer');
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function resolveRef(root: S, ref: string): S | undefined {
  if (!ref.startsWith('#/')) return undefined;
  let cur: unknown = root;
  for (const part of ref.slice(2).split('/')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as S)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return typeof cur === 'object' && cur !== null ? (cur as S) : undefined;
}

function check(schema: S | boolean, v: unknown, path: string, root: S, out: string[]): void {
  if (schema === true) return;
  if (schema === false) {
    out.push(`${path}: not allowed`);
    return;
  }
  if (typeof schema.$ref === 'string') {
    const target = resolveRef(root, schema.$ref);
    if (!target) out.push(`${path}: schema $ref '${schema.$ref}' cannot be resolved`);
    else check(target, v, path, root, out);
  }
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!types.some((t) => matchesType(v, t))) {
      out.push(`${path}: expected ${types.join(' or ')}, got ${typeOf(v)}`);
      return;
    }
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => deepEqual(e, v))) {
    out.push(`${path}: expected one of ${schema.enum.map(show).join(', ')}, got ${show(v)}`);
  }
  if ('const' in schema && !deepEqual(schema.const, v)) out.push(`${path}: expected ${show(schema.const)}, got ${show(v)}`);

  if (typeof v === 'number') {
    if (typeof schema.minimum === 'number' && v < schema.minimum) out.push(`${path}: expected >= ${schema.minimum}, got ${v}`);
    if (typeof schema.maximum === 'number' && v > schema.maximum) out.push(`${path}: expected <= ${schema.maximum}, got ${v}`);
    if (typeof schema.exclusiveMinimum === 'number' && v <= schema.exclusiveMinimum) out.push(`${path}: expected > ${schema.exclusiveMinimum}, got ${v}`);
    if (typeof schema.exclusiveMaximum === 'number' && v >= schema.exclusiveMaximum) out.push(`${path}: expected < ${schema.exclusiveMaximum}, got ${v}`);
  }
  if (typeof v === 'string') {
    if (typeof schema.minLength === 'number' && v.length < schema.minLength) out.push(`${path}: expected at least ${schema.minLength} characters, got ${v.length}`);
    if (typeof schema.maxLength === 'number' && v.length > schema.maxLength) out.push(`${path}: expected at most ${schema.maxLength} characters, got ${v.length}`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(v)) out.push(`${path}: expected to match /${schema.pattern}/, got ${show(v)}`);
  }
  if (Array.isArray(v)) {
    if (typeof schema.minItems === 'number' && v.length < schema.minItems) out.push(`${path}: expected at least ${schema.minItems} items, got ${v.length}`);
    if (typeof schema.maxItems === 'number' && v.length > schema.maxItems) out.push(`${path}: expected at most ${schema.maxItems} items, got ${v.length}`);
    if (schema.items !== undefined && (typeof schema.items === 'object' || typeof schema.items === 'boolean')) {
      v.forEach((item, i) => check(schema.items as S | boolean, item, `${path}[${i}]`, root, out));
    }
  }
  if (typeOf(v) === 'object') {
    const obj = v as S;
    const props = (schema.properties ?? {}) as Record<string, S | boolean>;
    if (Array.isArray(schema.required)) {
      for (const k of schema.required as string[]) if (!Object.hasOwn(obj, k)) out.push(`${path}: missing required property '${k}'`);
    }
    for (const [k, val] of Object.entries(obj)) {
      const p = `${path}.${k}`;
      if (Object.hasOwn(props, k)) check(props[k]!, val, p, root, out);
      else if (schema.additionalProperties === false) out.push(`${p}: unexpected property`);
      else if (typeof schema.additionalProperties === 'object' && schema.additionalProperties !== null) check(schema.additionalProperties as S, val, p, root, out);
    }
  }
  if (Array.isArray(schema.allOf)) for (const s of schema.allOf as S[]) check(s, v, path, root, out);
  if (Array.isArray(schema.anyOf)) {
    const branches = (schema.anyOf as S[]).map((s) => sub(s, v, path, root));
    if (!branches.some((b) => b.length === 0)) out.push(`${path}: matches none of anyOf (${branches.map((b) => b[0]).join(' | ')})`);
  }
  if (Array.isArray(schema.oneOf)) {
    const branches = (schema.oneOf as S[]).map((s) => sub(s, v, path, root));
    const n = branches.filter((b) => b.length === 0).length;
    if (n !== 1) out.push(n === 0 ? `${path}: matches none of oneOf (${branches.map((b) => b[0]).join(' | ')})` : `${path}: matches ${n} branches of oneOf, expected exactly 1`);
  }
}

function sub(s: S, v: unknown, path: string, root: S): string[] {
  const out: string[] = [];
  check(s, v, path, root, out);
  return out;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as S);
  const kb = Object.keys(b as S);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as S)[k], (b as S)[k]));
}
