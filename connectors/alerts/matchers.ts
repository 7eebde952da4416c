/**
 * Prometheus label matchers: `=`, `!=`, `=~`, `!~`, in series-selector form (`metric{a="b"}`,
 * `{a=~"x|y"}`) as in the `match[]` parameter of Prometheus's own API. Regexes are fully
 * anchored and `.` matches newlines, as Prometheus compiles them (`^(?s:re)$`), so `=~"check"`
 * does not match `checkout`. A missing label matches as the empty string, also as in Prometheus.
 *
 * A list of selectors is a union (any selector matching is a match); the matchers inside one
 * selector are an intersection. An empty list matches everything.
 */
import { InputError } from '../../pipelines/core/errors.ts';

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  name: string;
  op: MatchOp;
  value: string;
}

export interface CompiledMatcher extends Matcher {
  test(labels: Record<string, string>): boolean;
}

export type Selector = CompiledMatcher[];

const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*/;
const METRIC_NAME = /^[A-Za-z_:][A-Za-z0-9_:]*/;

export function compileMatcher(m: Matcher): CompiledMatcher {
  if (m.op === '=~' || m.op === '!~') {
    let re: RegExp;
    // Prometheus compiles RE2; JavaScript's syntax is close, but has no inline flags. The common
    // one, a leading (?i), becomes the i flag.
    const ci = m.value.startsWith('(?i)');
    const body = ci ? m.value.slice(4) : m.value;
    try {
      re = new RegExp(`^(?:${body})$`, ci ? 'si' : 's');
    } catch (err) {
      throw new InputError(`invalid regular expression in ${m.name}${m.op}"${m.value}": ${(err as Error).message}`, { cause: err });
    }
    const want = m.op === '=~';
    return { ...m, test: (labels) => re.test(labels[m.name] ?? '') === want };
  }
  const want = m.op === '=';
  return { ...m, test: (labels) => ((labels[m.name] ?? '') === m.value) === want };
}

/** Reads a quoted string (", ' or `) starting at text[i]; returns the value and the index after it. */
function readQuoted(text: string, i: number): { value: string; end: number } {
  const q = text[i];
  if (q === '`') {
    const j = text.indexOf('`', i + 1);
    if (j < 0) throw new InputError(`unterminated raw string at position ${i} in ${JSON.stringify(text)}`);
    return { value: text.slice(i + 1, j), end: j + 1 };
  }
  let out = '';
  let j = i + 1;
  for (; j < text.length; j++) {
    const c = text[j];
    if (c === q) return { value: out, end: j + 1 };
    if (c === '\\') {
      const n = text[++j];
      if (n === undefined) break;
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", a: '\x07', b: '\b', f: '\f', v: '\v' };
      if (n in simple) out += simple[n];
      else if (n === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(j + 1, j + 3))) {
        out += String.fromCharCode(parseInt(text.slice(j + 1, j + 3), 16));
        j += 2;
      } else if (n === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(j + 1, j + 5))) {
        out += String.fromCharCode(parseInt(text.slice(j + 1, j + 5), 16));
        j += 4;
      } else throw new InputError(`unknown escape \\${n} at position ${j - 1} in ${JSON.stringify(text)}`);
    } else out += c;
  }
  throw new InputError(`unterminated string at position ${i} in ${JSON.stringify(text)}`);
}

/**
 * Parses one selector: `metric{...}`, `{...}`, `metric`, or a bare matcher list without braces
 * (`severity="critical", service=~"pay.*"`, as Alertmanager's matchers are often written).
 * Values may be unquoted when they hold no spaces, commas, braces or quotes (Alertmanager's form).
 */
export function parseSelector(input: string): Matcher[] {
  const text = input.trim();
  if (text.length === 0) throw new InputError('empty selector');
  const out: Matcher[] = [];
  let i = 0;
  let body: string;
  const brace = text.indexOf('{');
  if (brace >= 0) {
    const name = text.slice(0, brace).trim();
    if (name.length > 0) {
      const m = METRIC_NAME.exec(name);
      if (!m || m[0] !== name) throw new InputError(`invalid metric name ${JSON.stringify(name)} in selector ${JSON.stringify(text)}`);
      out.push({ name: '__name__', op: '=', value: name });
    }
    if (!text.endsWith('}')) throw new InputError(`selector ${JSON.stringify(text)} does not end with "}"`);
    body = text.slice(brace + 1, -1);
  } else {
    const m = METRIC_NAME.exec(text);
    if (m && m[0] === text) return [{ name: '__name__', op: '=', value: text }];
    body = text;
  }
  const skipWs = () => {
    while (i < body.length && /\s/.test(body[i])) i++;
  };
  for (;;) {
    skipWs();
    if (i >= body.length) break;
    const nm = LABEL_NAME.exec(body.slice(i));
    if (!nm) throw new InputError(`expected a label name at ${JSON.stringify(body.slice(i, i + 20))} in selector ${JSON.stringify(text)}`);
    const name = nm[0];
    i += name.length;
    skipWs();
    const opm = /^(=~|!~|!=|=)/.exec(body.slice(i));
    if (!opm) throw new InputError(`expected one of =, !=, =~, !~ after label ${name} in selector ${JSON.stringify(text)}`);
    const op = opm[0] as MatchOp;
    i += op.length;
    skipWs();
    let value: string;
    if (body[i] === '"' || body[i] === "'" || body[i] === '`') {
      const q = readQuoted(body, i);
      value = q.value;
      i = q.end;
    } else {
      const um = /^[^\s,"'`{}]*/.exec(body.slice(i))!;
      value = um[0];
      i += value.length;
    }
    out.push({ name, op, value });
    skipWs();
    if (i >= body.length) break;
    if (body[i] !== ',') throw new InputError(`expected "," between matchers at ${JSON.stringify(body.slice(i, i + 20))} in selector ${JSON.stringify(text)}`);
    i++;
  }
  return out;
}

/** Parses and compiles a list of selectors (a union). Throws InputError naming the bad one. */
export function compileSelectors(inputs: readonly string[]): Selector[] {
  return inputs.map((s) => parseSelector(s).map(compileMatcher));
}

export function matchesSelector(selector: Selector, labels: Record<string, string>): boolean {
  for (const m of selector) if (!m.test(labels)) return false;
  return true;
}

/** True when some selector matches; an empty list matches everything. */
export function matchesAny(selectors: readonly Selector[], labels: Record<string, string>): boolean {
  if (selectors.length === 0) return true;
  return selectors.some((s) => matchesSelector(s, labels));
}

/** Canonical text of a selector, e.g. for logs and listings. */
export function formatSelector(matchers: readonly Matcher[]): string {
  return `{${matchers.map((m) => `${m.name}${m.op}${JSON.stringify(m.value)}`).join(', ')}}`;
}
