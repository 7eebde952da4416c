/**
 * Validates model answers against the agents' JSON Schemas with ajv, and words every problem as
 * one line with a path (`$.rules[0].kind: expected one of "FN", "FP", got "XX"`), in the order of
 * the value's own fields, because repair loops feed the list back to the model verbatim.
 * Unknown keywords are ignored, as JSON Schema specifies; compiled schemas are cached per object.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { JsonSchema } from './types.ts';

const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false, unicodeRegExp: true });
const compiled = new WeakMap<object, ValidateFunction | { unresolved: string }>();

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function compile(schema: JsonSchema): ValidateFunction | { unresolved: string } {
  const hit = compiled.get(schema as object);
  if (hit) return hit;
  let out: ValidateFunction | { unresolved: string };
  try {
    out = ajv.compile(schema as object);
  } catch (err) {
    const ref = (err as { missingRef?: string }).missingRef;
    if (ref === undefined) throw err;
    out = { unresolved: (schema as { $ref?: string }).$ref ?? ref };
  }
  compiled.set(schema as object, out);
  return out;
}

/** `/rules/0/expr` → `$.rules[0].expr`. */
function jsonPath(pointer: string): string {
  let out = '$';
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(seg) ? `[${seg}]` : `.${seg}`;
  }
  return out;
}

function valueAt(root: unknown, pointer: string): unknown {
  let cur = root;
  for (const raw of pointer.split('/').slice(1)) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[raw.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return cur;
}

/** Each path of the value in depth-first order of its own fields: the order problems are listed in. */
function dataOrder(v: unknown): Map<string, number> {
  const order = new Map<string, number>();
  const walk = (x: unknown, path: string) => {
    order.set(path, order.size);
    if (Array.isArray(x)) x.forEach((item, i) => walk(item, `${path}[${i}]`));
    else if (typeof x === 'object' && x !== null) for (const [k, item] of Object.entries(x)) walk(item, `${path}.${k}`);
  };
  walk(v, '$');
  return order;
}

interface Problem {
  path: string;
  text: string;
}

/** One error in the words the repair prompts use. */
function describe(e: ErrorObject, value: unknown, all: ErrorObject[]): Problem | null {
  const path = jsonPath(e.instancePath);
  const v = valueAt(value, e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'type': {
      const types = Array.isArray(p.type) ? (p.type as string[]) : String(p.type).split(',');
      return { path, text: `expected ${types.join(' or ')}, got ${typeOf(v)}` };
    }
    case 'enum':
      return { path, text: `expected one of ${(p.allowedValues as unknown[]).map(show).join(', ')}, got ${show(v)}` };
    case 'const':
      return { path, text: `expected ${show(p.allowedValue)}, got ${show(v)}` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { path, text: `expected ${String(p.comparison)} ${String(p.limit)}, got ${String(v)}` };
    case 'minLength':
      return { path, text: `expected at least ${String(p.limit)} characters, got ${typeof v === 'string' ? [...v].length : show(v)}` };
    case 'maxLength':
      return { path, text: `expected at most ${String(p.limit)} characters, got ${typeof v === 'string' ? [...v].length : show(v)}` };
    case 'pattern':
      return { path, text: `expected to match /${String(p.pattern)}/, got ${show(v)}` };
    case 'minItems':
      return { path, text: `expected at least ${String(p.limit)} items, got ${Array.isArray(v) ? v.length : show(v)}` };
    case 'maxItems':
      return { path, text: `expected at most ${String(p.limit)} items, got ${Array.isArray(v) ? v.length : show(v)}` };
    case 'required':
      return { path, text: `missing required property '${String(p.missingProperty)}'` };
    case 'additionalProperties':
      return { path: `${path}.${String(p.additionalProperty)}`, text: 'unexpected property' };
    case 'false schema':
      return { path, text: 'not allowed' };
    case 'anyOf':
    case 'oneOf': {
      const passing = p.passingSchemas as number[] | null | undefined;
      if (e.keyword === 'oneOf' && Array.isArray(passing)) return { path, text: `matches ${passing.length} branches of oneOf, expected exactly 1` };
      // The first problem of each branch, as a hint of what each alternative wanted.
      const branches = new Map<number, string>();
      for (const b of all) {
        const m = b.schemaPath.startsWith(`${e.schemaPath}/`) ? /^\/(\d+)\//.exec(b.schemaPath.slice(e.schemaPath.length)) : null;
        if (!m || branches.has(Number(m[1]))) continue;
        const d = describe(b, value, []);
        if (d) branches.set(Number(m[1]), `${d.path}: ${d.text}`);
      }
      return { path, text: `matches none of ${e.keyword} (${[...branches.entries()].sort((a, b) => a[0] - b[0]).map(([, t]) => t).join(' | ')})` };
    }
    default:
      return { path, text: e.message ?? `fails ${e.keyword}` };
  }
}

/** Every problem of `value` against `schema`, one line each with its path; empty when it is valid. */
export function validateSchema(schema: JsonSchema, value: unknown): string[] {
  const validate = compile(schema);
  if (!('call' in validate)) return [`$: schema $ref '${validate.unresolved}' cannot be resolved`];
  if (validate(value)) return [];
  const errors = validate.errors ?? [];
  // Errors inside anyOf/oneOf branches are summed up by the anyOf/oneOf line itself.
  const combinators = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const inBranch = (e: ErrorObject) => combinators.some((c) => e !== c && e.schemaPath.startsWith(`${c.schemaPath}/`));
  // A value of the wrong type gets that one line: what else its node wants does not apply.
  const wrongType = new Set(errors.filter((e) => e.keyword === 'type' && !inBranch(e)).map((e) => e.instancePath));
  const order = dataOrder(value);
  const problems: (Problem & { rank: number; seq: number })[] = [];
  errors.forEach((e, seq) => {
    if (inBranch(e)) return;
    if (e.keyword !== 'type' && wrongType.has(e.instancePath)) return;
    const d = describe(e, value, errors);
    if (!d) return;
    problems.push({ ...d, rank: order.get(d.path) ?? order.get(jsonPath(e.instancePath)) ?? Number.MAX_SAFE_INTEGER, seq });
  });
  problems.sort((a, b) => a.rank - b.rank || a.seq - b.seq);
  const seen = new Set<string>();
  return problems.map((p) => `${p.path}: ${p.text}`).filter((line) => (seen.has(line) ? false : (seen.add(line), true)));
}
