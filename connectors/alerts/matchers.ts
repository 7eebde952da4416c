/**
 * Prometheus label matchers: `=`, `!=`, `=~`, `!~`, in series-selector form (`metric{a="b"}`,
 * `{a=~"x|y"}`) as in the `match[]` parameter of Prometheus's own API. Regexes are fully
 * anchored and `.` matches newlines, as Prometheus compiles them (`^(?s:re)$`), so `=~"check"`
 * does not match `checkout`. A missing label matches as the empty string, also as in Prometheus.
 *
 * Regexes run on RE2 semantics (re2js, the RE2/J port): matching takes time linear in the input,
 * whatever the pattern, so `(.*.*.*)*z` cannot freeze the server as a backtracking engine would.
 * RE2 refuses what cannot run in linear time (backreferences, lookaround): such a matcher is an
 * InputError naming it. The pattern is compiled alone and matched whole (`matches`), which is
 * Prometheus's anchoring without pasting the user's text between anchors (`a)|(b` stays an
 * error instead of becoming an unanchored `b`).
 *
 * Compiling is the one step whose cost grows with the pattern (`\pL{1000}` repeated is a big
 * program): a cheap estimate of the program size is checked before compiling and the real size
 * after, per regex (MAX_REGEX_SIZE) and per request (MAX_TOTAL_REGEX_SIZE, `RegexBudget`).
 *
 * A list of selectors is a union (any selector matching is a match); the matchers inside one
 * selector are an intersection. An empty list matches everything.
 */
import { RE2JS } from 're2js';
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

/** Largest program (RE2 instructions, estimated before compiling and counted after) of one regex. */
export const MAX_REGEX_SIZE = 10_000;
/** Largest sum of programs over the regexes of one request (a subscription, a stream query). */
export const MAX_TOTAL_REGEX_SIZE = 20_000;

/** What is left of a request's regex allowance; shared by every matcher compiled for it. */
export interface RegexBudget {
  left: number;
}

export const newBudget = (): RegexBudget => ({ left: MAX_TOTAL_REGEX_SIZE });

const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*/;
const METRIC_NAME = /^[A-Za-z_:][A-Za-z0-9_:]*/;

/**
 * An upper estimate of the RE2 program a pattern compiles to, in one pass without compiling:
 * atoms count 1 (a `\Q…\E` literal its length), `{n,m}` multiplies what it repeats by its
 * largest count, groups nest. Counted repeats are what make programs big, so this bounds them
 * before any work is done.
 */
export function estimateRegexSize(p: string): number {
  const stack: { sum: number; last: number }[] = [{ sum: 0, last: 0 }];
  const top = () => stack[stack.length - 1]!;
  const add = (n: number) => {
    top().sum += n;
    top().last = n;
  };
  let i = 0;
  while (i < p.length) {
    const c = p[i]!;
    if (c === '\\') {
      const n = p[i + 1];
      if ((n === 'p' || n === 'P' || n === 'x') && p[i + 2] === '{') {
        const j = p.indexOf('}', i);
        i = j < 0 ? p.length : j + 1;
        add(1);
      } else if (n === 'Q') {
        const j = p.indexOf('\\E', i + 2);
        add(Math.max(1, (j < 0 ? p.length : j) - (i + 2)));
        i = j < 0 ? p.length : j + 2;
      } else {
        i += 2;
        add(1);
      }
    } else if (c === '[') {
      let j = i + 1;
      if (p[j] === '^') j++;
      if (p[j] === ']') j++;
      while (j < p.length && p[j] !== ']') {
        if (p[j] === '\\') j += 2;
        else if (p[j] === '[' && p[j + 1] === ':') {
          const k = p.indexOf(':]', j + 2);
          j = k < 0 ? j + 1 : k + 2;
        } else j++;
      }
      i = j + 1;
      add(1);
    } else if (c === '(') {
      stack.push({ sum: 0, last: 0 });
      i++;
    } else if (c === ')') {
      const g = stack.length > 1 ? stack.pop()! : { sum: 0, last: 0 };
      add(g.sum + 1);
      i++;
    } else if (c === '{') {
      const m = /^\{(\d{1,7})(,(\d{0,7}))?\}/.exec(p.slice(i, i + 20));
      if (m) {
        // RE2 refuses counts over 1000 itself, with a clearer message than "too large".
        const k = Math.min(1001, Math.max(Number(m[1]), m[3] ? Number(m[3]) : 0, 1));
        const t = top();
        t.sum += t.last * (k - 1);
        t.last *= k;
        i += m[0].length;
      } else {
        add(1);
        i++;
      }
    } else if (c === '*' || c === '+' || c === '?' || c === '|') {
      top().sum += 1;
      if (c === '|') top().last = 0;
      i++;
    } else {
      add(1);
      i++;
    }
  }
  return stack.reduce((s, f) => s + f.sum, 0) + 2;
}

/** One line a user can act on for a pattern RE2 refuses. */
function re2Reason(err: unknown): string {
  const msg = (err as Error).message.replace(/^error parsing regexp: /, '');
  const hint = /invalid escape sequence: `\\[1-9]`|\(\?[=!<]|invalid named capture: `\(\?<[=!]/.test(msg) ? ' (RE2 syntax, as in Prometheus: no backreferences or lookaround)' : '';
  return `${msg}${hint}`;
}

/**
 * Compiles a regex with Prometheus's semantics (whole-value match, `.` matches newline); throws
 * InputError with a one-line reason when RE2 refuses it or it is too big.
 */
export function compileRegex(pattern: string, what: string, budget: RegexBudget = newBudget()): RE2JS {
  const est = estimateRegexSize(pattern);
  if (est > MAX_REGEX_SIZE) throw new InputError(`regular expression in ${what} is too large (about ${est} instructions once its repeats are expanded; at most ${MAX_REGEX_SIZE})`);
  if (est > budget.left) throw new InputError(`regular expression in ${what} is over the request's allowance (about ${est} instructions, ${Math.max(0, budget.left)} left of ${MAX_TOTAL_REGEX_SIZE} for all regexes of one request)`);
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern, RE2JS.DOTALL);
  } catch (err) {
    throw new InputError(`invalid regular expression in ${what}: ${re2Reason(err)}`, { cause: err });
  }
  const size = re.programSize();
  if (size > MAX_REGEX_SIZE) throw new InputError(`regular expression in ${what} is too large (${size} instructions; at most ${MAX_REGEX_SIZE})`);
  budget.left -= Math.max(size, est);
  return re;
}

const META = /[\\.+*?()|[\]{}^$]/;

/**
 * String tests for the regexes that are only literals (as Prometheus's FastRegexMatcher does):
 * `a|b|c` is set membership, `lit.*` a prefix, `.*lit` a suffix, `.*lit.*` a substring (with
 * `.` matching newlines these are exact). Null when the pattern needs the engine.
 */
function literalTest(v: string): ((s: string) => boolean) | null {
  if (!META.test(v)) return (s) => s === v;
  if (v.includes('|') && v.split('|').every((alt) => !META.test(alt))) {
    const set = new Set(v.split('|'));
    return (s) => set.has(s);
  }
  const lead = v.startsWith('.*');
  const trail = v.endsWith('.*') && !v.endsWith('\\.*');
  const mid = v.slice(lead ? 2 : 0, trail ? v.length - 2 : v.length);
  if ((lead || trail) && !META.test(mid)) {
    if (lead && trail) return (s) => s.includes(mid);
    if (lead) return (s) => s.endsWith(mid);
    return (s) => s.startsWith(mid);
  }
  return null;
}

export function compileMatcher(m: Matcher, budget: RegexBudget = newBudget()): CompiledMatcher {
  if (m.op === '=~' || m.op === '!~') {
    // Compiled even when a string test will run: RE2 decides what is valid, and the size counts.
    const re = compileRegex(m.value, `${m.name}${m.op}${JSON.stringify(m.value)}`, budget);
    const want = m.op === '=~';
    const fast = literalTest(m.value);
    if (fast) return { ...m, test: (labels) => fast(labels[m.name] ?? '') === want };
    return { ...m, test: (labels) => re.matches(labels[m.name] ?? '') === want };
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
export function compileSelectors(inputs: readonly string[], budget: RegexBudget = newBudget()): Selector[] {
  return inputs.map((s) => parseSelector(s).map((m) => compileMatcher(m, budget)));
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
