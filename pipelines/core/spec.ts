/**
 * A stage's options, declared once (after Redpanda Connect's config specs and OTel's
 * `config.go`/`metadata.yaml`): each field has a type, default, limits and doc. From the one
 * declaration come
 * - the CLI options of the stage's commands (`spec.cliOptions()`) and their typed values
 *   (`spec.fromArgs(args)`),
 * - validation of a config object (`spec.check(obj, path)`), used by `panoptes run --config` where
 *   each stage's options sit under its name: every problem is reported with its path, unknown keys
 *   included (with a "did you mean"),
 * - the option table of the stage's README (`spec.markdown()`) and a JSON Schema (`spec.jsonSchema()`).
 *
 * Validation runs on ajv over the generated JSON Schema; messages are rewritten into "expected …,
 * got …" lines that name the config path or the CLI flag.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { CliOption, ParsedArgs } from './cli-types.ts';
import { ConfigError, UsageError, type ConfigIssue } from './errors.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

interface FieldCommon<T> {
  /** One sentence or two: what it does, its unit, when to change it. */
  doc: string;
  default?: T;
  required?: boolean;
  /**
   * CLI flag without dashes; defaults to the key in kebab-case (`maxSeries` → `max-series`).
   * `false`: config-file only.
   */
  flag?: string | false;
  /** Shown in help instead of the type, e.g. `FILE`, `ADDR`. */
  placeholder?: string;
  /** Rarely changed: listed after the others. */
  advanced?: boolean;
}

export interface StringField extends FieldCommon<string> {
  kind: 'string';
  /** A full-match pattern and the words for it in messages ("host:port"). */
  pattern?: { re: RegExp; says: string };
  /** Must not be empty when given. */
  nonEmpty?: boolean;
}
export interface IntField extends FieldCommon<number> {
  kind: 'int';
  min?: number;
  max?: number;
}
export interface NumberField extends FieldCommon<number> {
  kind: 'number';
  min?: number;
  max?: number;
  /** min/max are exclusive bounds. */
  exclusive?: boolean;
}
export interface BoolField extends FieldCommon<boolean> {
  kind: 'boolean';
}
export interface EnumField<V extends string = string> extends FieldCommon<V> {
  kind: 'enum';
  values: readonly V[];
}
export interface ListField extends FieldCommon<string[]> {
  kind: 'list';
  /** Each item must match. */
  pattern?: { re: RegExp; says: string };
  minItems?: number;
  maxItems?: number;
}

export type Field = StringField | IntField | NumberField | BoolField | EnumField | ListField;

/** A field's value type, by kind (not by its default's literal type: `default: false` is a boolean). */
type ValueOf<F> = F extends { kind: 'enum'; values: readonly (infer V)[] }
  ? V
  : F extends { kind: 'string' }
    ? string
    : F extends { kind: 'int' | 'number' }
      ? number
      : F extends { kind: 'boolean' }
        ? boolean
        : F extends { kind: 'list' }
          ? string[]
          : never;
type HasDefault<F> = F extends { default: unknown } ? true : F extends { required: true } ? true : false;

/** The typed options a spec produces: fields with a default or `required` are always present. */
export type Options<S extends Record<string, Field>> = {
  [K in keyof S as HasDefault<S[K]> extends true ? K : never]: ValueOf<S[K]>;
} & {
  [K in keyof S as HasDefault<S[K]> extends true ? never : K]?: ValueOf<S[K]>;
};

/** Field builders: `f.int({ doc, default: 5, min: 1 })`. */
export const f = {
  string: <O extends Omit<StringField, 'kind'>>(o: O) => ({ kind: 'string', ...o }) as O & { kind: 'string' },
  int: <O extends Omit<IntField, 'kind'>>(o: O) => ({ kind: 'int', ...o }) as O & { kind: 'int' },
  number: <O extends Omit<NumberField, 'kind'>>(o: O) => ({ kind: 'number', ...o }) as O & { kind: 'number' },
  boolean: <O extends Omit<BoolField, 'kind'>>(o: O) => ({ kind: 'boolean', ...o }) as O & { kind: 'boolean' },
  enum: <const V extends string, const O extends Omit<EnumField<V>, 'kind' | 'values'>>(values: readonly V[], o: O) => ({ kind: 'enum', values, ...o }) as O & { kind: 'enum'; values: readonly V[] },
  list: <O extends Omit<ListField, 'kind'>>(o: O) => ({ kind: 'list', ...o }) as O & { kind: 'list' },
};

/** Common patterns. */
export const HOSTPORT = { re: /^[A-Za-z0-9.\-_[\]:]*:\d{1,5}$/, says: 'host:port (e.g. 127.0.0.1:9201)' };

export interface SpecOptions<T> {
  /** One line: what the stage is. */
  summary?: string;
  /** Cross-field rules (platformatic's `rebalanceTimeout ≥ sessionTimeout`): return issues with paths relative to the spec. */
  rules?: (v: T) => ConfigIssue[];
}

export interface CheckResult<T> {
  value: T | undefined;
  issues: ConfigIssue[];
}

export interface Spec<S extends Record<string, Field>> {
  readonly name: string;
  readonly fields: S;
  readonly summary: string;
  /** The options with every default filled in (fields without one are absent). */
  defaults(): Options<S>;
  /** CLI options for a command, in declaration order (advanced ones last). */
  cliOptions(opts?: { omit?: (keyof S)[] }): CliOption[];
  /** The CLI flag of a key, e.g. `--max-series`. */
  flagOf(key: keyof S): string;
  /** Typed options from parsed CLI arguments; every problem in one UsageError naming the flags. */
  fromArgs(args: ParsedArgs, overrides?: Partial<Options<S>>): Options<S>;
  /** Validates a config object (from YAML/JSON); issues carry `path` (e.g. `detect.maxSeries`). */
  check(obj: unknown, path?: string): CheckResult<Options<S>>;
  /** Like check, but throws one ConfigError listing every issue. */
  parse(obj: unknown, path?: string): Options<S>;
  /** The README option table. */
  markdown(): string;
  jsonSchema(): Record<string, Json>;
}

const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function fieldSchema(fl: Field): Record<string, Json> {
  switch (fl.kind) {
    case 'string':
      return { type: 'string', ...(fl.pattern ? { pattern: fl.pattern.re.source } : {}), ...(fl.nonEmpty ? { minLength: 1 } : {}) };
    case 'int':
      return { type: 'integer', ...(fl.min !== undefined ? { minimum: fl.min } : {}), ...(fl.max !== undefined ? { maximum: fl.max } : {}) };
    case 'number':
      return {
        type: 'number',
        ...(fl.min !== undefined ? { [fl.exclusive ? 'exclusiveMinimum' : 'minimum']: fl.min } : {}),
        ...(fl.max !== undefined ? { [fl.exclusive ? 'exclusiveMaximum' : 'maximum']: fl.max } : {}),
      };
    case 'boolean':
      return { type: 'boolean' };
    case 'enum':
      return { type: 'string', enum: [...fl.values] };
    case 'list':
      return {
        type: 'array',
        items: { type: 'string', ...(fl.pattern ? { pattern: fl.pattern.re.source } : {}) },
        ...(fl.minItems !== undefined ? { minItems: fl.minItems } : {}),
        ...(fl.maxItems !== undefined ? { maxItems: fl.maxItems } : {}),
      };
  }
}

function typeWords(fl: Field): string {
  switch (fl.kind) {
    case 'string':
      return fl.pattern ? fl.pattern.says : fl.nonEmpty ? 'a non-empty string' : 'a string';
    case 'int':
      return fl.min !== undefined && fl.max !== undefined ? `an integer from ${fl.min} to ${fl.max}` : fl.min !== undefined ? `an integer ≥ ${fl.min}` : fl.max !== undefined ? `an integer ≤ ${fl.max}` : 'an integer';
    case 'number': {
      const lo = fl.min !== undefined ? `${fl.exclusive ? '>' : '≥'} ${fl.min}` : '';
      const hi = fl.max !== undefined ? `${fl.exclusive ? '<' : '≤'} ${fl.max}` : '';
      return `a finite number${lo || hi ? ` ${[lo, hi].filter(Boolean).join(' and ')}` : ''}`;
    }
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${fl.values.join(', ')}`;
    case 'list':
      return `a list of ${fl.pattern ? fl.pattern.says : 'strings'}${fl.minItems ? ` (at least ${fl.minItems})` : ''}`;
  }
}

function show(v: unknown): string {
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

export function didYouMean(word: string, known: readonly string[]): string {
  const best = known.map((k) => ({ k, d: distance(word.toLowerCase(), k.toLowerCase()) })).sort((x, y) => x.d - y.d)[0];
  return best && best.d <= Math.max(2, Math.floor(word.length / 3)) ? ` (did you mean ${best.k}?)` : '';
}

const ajv = new Ajv({ allErrors: true, strict: true });

export function defineSpec<const S extends Record<string, Field>>(name: string, fields: S, opts: SpecOptions<Options<S>> = {}): Spec<S> {
  const keys = Object.keys(fields) as (keyof S & string)[];
  const schema: Record<string, Json> = {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(keys.map((k) => [k, fieldSchema(fields[k]!)])),
    required: keys.filter((k) => fields[k]!.required),
  };
  let validate: ValidateFunction | undefined;
  const flagOf = (k: string) => {
    const fl = fields[k]!.flag;
    return fl === false ? '' : `--${fl ?? kebab(k)}`;
  };

  function issuesOf(errors: ErrorObject[], obj: Record<string, unknown>, where: (k: string) => string, base: string): ConfigIssue[] {
    const out: ConfigIssue[] = [];
    const seen = new Set<string>();
    for (const e of errors) {
      const key = e.instancePath.split('/')[1] ?? '';
      if (e.keyword === 'additionalProperties') {
        const extra = String((e.params as { additionalProperty: string }).additionalProperty);
        out.push({ path: base ? `${base}.${extra}` : extra, message: `unknown key${didYouMean(extra, keys)} (known keys: ${keys.join(', ')})` });
        continue;
      }
      if (e.keyword === 'required') {
        const missing = String((e.params as { missingProperty: string }).missingProperty);
        out.push({ path: where(missing), message: 'is required' });
        continue;
      }
      // One message per field, even when several keywords fail.
      if (!key || seen.has(key)) continue;
      seen.add(key);
      out.push({ path: where(key), message: `expected ${typeWords(fields[key]!)}, got ${show(obj[key])}` });
    }
    return out;
  }

  function checkValues(obj: Record<string, unknown>, where: (k: string) => string, base: string): CheckResult<Options<S>> {
    validate ??= ajv.compile(schema);
    const withDefaults: Record<string, unknown> = {};
    for (const k of keys) if (fields[k]!.default !== undefined) withDefaults[k] = structuredClone(fields[k]!.default);
    for (const [k, v] of Object.entries(obj)) if (v !== undefined) withDefaults[k] = v;
    const issues = validate(withDefaults) ? [] : issuesOf(validate.errors ?? [], withDefaults, where, base);
    if (issues.length === 0 && opts.rules) for (const i of opts.rules(withDefaults as Options<S>)) issues.push({ path: where(i.path), message: i.message });
    return { value: issues.length === 0 ? (withDefaults as Options<S>) : undefined, issues };
  }

  const ordered = () => [...keys.filter((k) => !fields[k]!.advanced), ...keys.filter((k) => fields[k]!.advanced)];

  return {
    name,
    fields,
    summary: opts.summary ?? '',
    defaults() {
      const out: Record<string, unknown> = {};
      for (const k of keys) if (fields[k]!.default !== undefined) out[k] = structuredClone(fields[k]!.default);
      return out as Options<S>;
    },
    flagOf,
    cliOptions(o = {}) {
      const omit = new Set<string>((o.omit ?? []) as string[]);
      return ordered()
        .filter((k) => fields[k]!.flag !== false && !omit.has(k))
        .map((k): CliOption => {
          const fl = fields[k]!;
          const type = fl.kind === 'boolean' ? 'boolean' : fl.kind === 'list' ? 'string[]' : fl.kind === 'int' || fl.kind === 'number' ? 'number' : 'string';
          const extra = fl.kind === 'enum' ? ` One of: ${fl.values.join(', ')}.` : '';
          return {
            name: flagOf(k).slice(2),
            type,
            description: fl.doc + extra,
            ...(fl.default !== undefined ? { default: fl.default } : {}),
            ...(fl.required ? { required: true } : {}),
            ...(fl.placeholder ? { placeholder: fl.placeholder } : {}),
          };
        });
    },
    fromArgs(args, overrides = {}) {
      const raw: Record<string, unknown> = {};
      for (const k of keys) {
        if (fields[k]!.flag === false) continue;
        const v = args.options[flagOf(k).slice(2)];
        // The CLI fills declared defaults in; only values that differ matter here, and
        // parseCommandArgs already turned numbers and lists into their types.
        if (v !== undefined) raw[k] = v;
      }
      Object.assign(raw, overrides);
      const r = checkValues(raw, (k) => (fields[k] && fields[k]!.flag !== false ? flagOf(k) : k), '');
      if (r.issues.length > 0) throw new UsageError(r.issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
      return r.value!;
    },
    check(obj, path = '') {
      const where = (k: string) => (path ? `${path}.${k}` : k);
      if (obj === undefined || obj === null) return checkValues({}, where, path);
      if (typeof obj !== 'object' || Array.isArray(obj)) return { value: undefined, issues: [{ path: path || name, message: `expected a mapping of ${name} options, got ${show(obj)}` }] };
      return checkValues(obj as Record<string, unknown>, where, path);
    },
    parse(obj, path = '') {
      const r = this.check(obj, path);
      if (r.issues.length > 0) throw new ConfigError(r.issues);
      return r.value!;
    },
    markdown() {
      const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
      const rows = ordered().map((k) => {
        const fl = fields[k]!;
        const def = fl.required ? '(required)' : fl.default === undefined ? '' : Array.isArray(fl.default) ? fl.default.join(', ') : String(fl.default);
        const negatable = fl.kind === 'boolean' && fl.default === true;
        const flag = fl.flag === false ? '' : `\`${negatable ? flagOf(k).replace(/^--/, '--[no-]') : flagOf(k)}\``;
        return `| \`${k}\` | ${flag} | ${cell(typeWords(fl))} | ${cell(def === '' ? '' : `\`${def}\``)} | ${cell(fl.doc)} |`;
      });
      return ['| key | flag | type | default | meaning |', '|---|---|---|---|---|', ...rows].join('\n');
    },
    jsonSchema() {
      return structuredClone(schema);
    },
  };
}
