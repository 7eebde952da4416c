/**
 * Problem files: the YAML list of problems `panoptes lab run --problems FILE` runs.
 *
 *   problems:
 *     - id: latency-profile-localization        # unique; free text otherwise
 *       task: localization                      # detection | localization | rca | mitigation
 *       fault: {kind: latency, target: profile, params: {latencyMs: 400}}
 *       workload: {shape: poisson, rps: 12, seed: 7}
 *       budgetMs: 35000                         # optional; 35 s (45 s for mitigation)
 *     - id: quiet-detection
 *       task: detection
 *       fault: none                             # the right answer is "no fault"
 *       workload: {shape: diurnal, rps: 12, seed: 8}
 *
 * The whole file is checked before anything starts and every problem is reported at once, each
 * with its path and line (`problems[3].fault.target (line 14): …`): unknown keys (with a "did you
 * mean"), types and ranges (through core/spec.ts), duplicate ids, a fault kind on a target it
 * cannot apply to (naming both), a fault-free problem that is not a detection problem, a
 * mitigation problem whose fault no agent may undo.
 */
import { readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { ConfigError, InputError, type ConfigIssue } from '../../core/errors.ts';
import { defineSpec, didYouMean, f } from '../../core/spec.ts';
import { faultIssues, LAB_COMPONENTS } from '../faults/applicable.ts';
import { injectorFor } from '../faults/injectors.ts';
import type { FaultKind, FaultSpec, LabComponent, WorkloadSpec } from '../types.ts';
import { FAULT_KINDS } from '../types.ts';
import { TASKS, type Problem, type Task } from './problem.ts';

/** The agent's time after the injection when a problem gives none. */
export const DEFAULT_BUDGET_MS: Record<Task, number> = { detection: 35_000, localization: 35_000, rca: 35_000, mitigation: 45_000 };
/** Largest file accepted (a problem file is a few kilobytes). */
const MAX_FILE_BYTES = 4 * 1024 * 1024;
const MAX_PROBLEMS = 10_000;

export const PROBLEM_SPEC = defineSpec('problem', {
  id: f.string({ doc: 'Unique id of the problem in its file.', required: true, pattern: { re: /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, says: 'an id of letters, digits, ".", "_" and "-" (at most 100)' } }),
  task: f.enum(TASKS, { doc: 'What the agent must submit.', required: true }),
  budgetMs: f.int({ doc: 'Time the agent gets after the injection (ms); default 35 s, 45 s for mitigation.', min: 5_000, max: 600_000 }),
  description: f.string({ doc: 'One line for `lab list` and reports; generated from the fault when absent.' }),
});

export const WORKLOAD_SPEC = defineSpec('workload', {
  shape: f.enum(['poisson', 'diurnal', 'burst'] as const, { doc: 'Arrival process of the open-loop workload.', required: true }),
  rps: f.number({ doc: 'Mean requests per second (diurnal: over a period; burst: the base rate).', default: 12, min: 0, max: 500, exclusive: true }),
  seed: f.int({ doc: 'Seed of the arrivals, the routes and the app data.', required: true, min: 0, max: 2 ** 31 - 1 }),
});

const FAULT_SPEC = defineSpec('fault', {
  kind: f.enum(FAULT_KINDS, { doc: 'The fault kind.', required: true }),
  target: f.enum(LAB_COMPONENTS, { doc: 'The component it is made on.', required: true }),
});

const FILE_KEYS = ['problems'];
const PROBLEM_KEYS = [...Object.keys(PROBLEM_SPEC.fields), 'fault', 'workload'];

/** `problems[3].fault.kind` → ['problems', 3, 'fault', 'kind'] */
function pathParts(path: string): Array<string | number> {
  const out: Array<string | number> = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return out;
}

/** The line of the deepest node on `path` that exists (1-based), or null. */
function lineOf(doc: Document, lc: LineCounter, path: string): number | null {
  const parts = pathParts(path);
  for (let n = parts.length; n > 0; n--) {
    const node = doc.getIn(parts.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node && node.range) return lc.linePos(node.range[0]).line;
    // A key whose value is missing: find the pair's key in its map.
    const parent = n > 1 ? doc.getIn(parts.slice(0, n - 1), true) : doc.contents;
    if (isMap(parent)) {
      const pair = parent.items.find((p) => (p.key as { value?: unknown } | null)?.value === parts[n - 1]);
      const k = pair?.key as { range?: [number, number, number] } | undefined;
      if (k?.range) return lc.linePos(k.range[0]).line;
    }
  }
  return null;
}

/** The one-line description of a problem that gives none. */
export function describeProblem(task: Task, fault: FaultSpec | null, workload: WorkloadSpec): string {
  const what = fault ? injectorFor(fault.kind).describe(fault).text : `no fault (${workload.shape} workload only)`;
  return `${task}: ${what}`;
}

/**
 * Parses and checks a problem file's text. Throws one ConfigError listing every problem (each
 * issue's path carries its line); `source` names the file in YAML syntax errors.
 */
export function parseProblems(text: string, source = 'problems'): Problem[] {
  if (Buffer.byteLength(text) > MAX_FILE_BYTES) throw new InputError(`${source}: larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB; a problem file is a list of problems`);
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => ({ path: `${source}:${e.linePos?.[0]?.line ?? '?'}`, message: `YAML: ${e.message.split('\n')[0]}` })));
  }
  const issues: ConfigIssue[] = [];
  const add = (path: string, message: string) => {
    const line = lineOf(doc, lc, path);
    issues.push({ path: line === null ? path : `${path} (line ${line})`, message });
  };
  const root = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (root === null || typeof root !== 'object' || Array.isArray(root)) throw new ConfigError([{ path: source, message: 'expected a mapping with a `problems:` list' }]);
  for (const k of Object.keys(root)) if (!FILE_KEYS.includes(k)) add(k, `unknown key${didYouMean(k, FILE_KEYS)} (a problem file has only \`problems:\`)`);
  const list = (root as { problems?: unknown }).problems;
  if (!Array.isArray(list) || !isSeq(doc.get('problems', true))) {
    add('problems', `expected a list of problems, got ${list === undefined ? 'nothing' : JSON.stringify(list).slice(0, 60)}`);
    throw new ConfigError(issues);
  }
  if (list.length === 0) add('problems', 'the list is empty');
  if (list.length > MAX_PROBLEMS) add('problems', `${list.length} problems; at most ${MAX_PROBLEMS}`);
  const out: Problem[] = [];
  const seen = new Map<string, number>();
  list.forEach((raw, i) => {
    const at = `problems[${i}]`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      add(at, `expected a mapping (id, task, fault, workload), got ${JSON.stringify(raw)}`);
      return;
    }
    const r = raw as Record<string, unknown>;
    const before = issues.length;
    const head: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) {
      if (k === 'fault' || k === 'workload') continue;
      if (!PROBLEM_KEYS.includes(k)) add(`${at}.${k}`, `unknown key${didYouMean(k, PROBLEM_KEYS)} (known keys: ${PROBLEM_KEYS.join(', ')})`);
      else head[k] = v;
    }
    const p = PROBLEM_SPEC.check(head, at);
    for (const x of p.issues) add(x.path, x.message);
    const task = (TASKS as readonly unknown[]).includes(r.task) ? (r.task as Task) : null;
    if (typeof r.id === 'string') {
      const prev = seen.get(r.id);
      if (prev !== undefined) add(`${at}.id`, `duplicate id "${r.id}" (also problems[${prev}])`);
      else seen.set(r.id, i);
    }
    // The fault: `none` or {kind, target, params}.
    let fault: FaultSpec | null | undefined;
    if (r.fault === undefined) add(`${at}.fault`, 'is required (a fault mapping, or `none` for a fault-free problem)');
    else if (r.fault === 'none' || r.fault === null) {
      fault = null;
      if (task && task !== 'detection') add(`${at}.fault`, `a fault-free problem must be a detection problem (its answer is "no fault"); task ${task} needs a fault`);
    } else if (typeof r.fault !== 'object' || Array.isArray(r.fault)) add(`${at}.fault`, `expected a mapping {kind, target, params} or none, got ${JSON.stringify(r.fault)}`);
    else {
      const { params, ...kt } = r.fault as Record<string, unknown>;
      const fc = FAULT_SPEC.check(kt, `${at}.fault`);
      for (const x of fc.issues) add(x.path, x.message.replace(/^unknown key(.*)\(known keys: (.*)\)$/, 'unknown key$1(known keys: $2, params)'));
      // Kind and target known (even if another key is wrong): check that they fit together.
      if ((FAULT_KINDS as readonly unknown[]).includes(kt.kind) && (LAB_COMPONENTS as readonly unknown[]).includes(kt.target)) {
        const fi = faultIssues(kt.kind as FaultKind, kt.target as LabComponent, params, task ?? '', `${at}.fault`);
        for (const x of fi) add(x.path, x.message);
        if (fi.length === 0 && fc.value) fault = { kind: kt.kind as FaultKind, target: kt.target as LabComponent, ...(params && typeof params === 'object' ? { params: params as FaultSpec['params'] } : {}) };
      }
    }
    let workload: WorkloadSpec | undefined;
    if (r.workload === undefined) add(`${at}.workload`, 'is required ({shape: poisson|diurnal|burst, rps, seed})');
    else {
      const w = WORKLOAD_SPEC.check(r.workload, `${at}.workload`);
      for (const x of w.issues) add(x.path, x.message);
      if (w.value) workload = { shape: w.value.shape, rps: w.value.rps, seed: w.value.seed as number, durationMs: 0 };
    }
    if (issues.length > before || !p.value || !task || fault === undefined || !workload) return;
    const v = p.value as { id: string; description?: string; budgetMs?: number };
    out.push({ id: v.id, task, fault, workload, description: v.description ?? describeProblem(task, fault, workload), budgetMs: v.budgetMs ?? DEFAULT_BUDGET_MS[task] });
  });
  if (issues.length > 0) throw new ConfigError(issues);
  return out;
}

/** Reads and checks a problem file (exit 2 with every issue when it is wrong). */
export function loadProblemFile(path: string): Problem[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError([{ path, message: code === 'ENOENT' ? 'no such problem file' : code === 'EISDIR' ? 'is a directory, not a problem file' : `cannot read: ${(e as Error).message}` }]);
  }
  try {
    return parseProblems(text, path);
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(e.issues.map((x) => ({ path: x.path.startsWith(path) ? x.path : `${path}: ${x.path}`, message: x.message })));
    throw e;
  }
}

/** The YAML text of a problem list (what the generator writes; `parseProblems` reads it back). */
export function problemsToYaml(problems: readonly Problem[], header: string[] = []): string {
  const flow = (o: unknown) => JSON.stringify(o).replace(/"([A-Za-z][A-Za-z0-9]*)":/g, '$1: ').replace(/,/g, ', ').replace(/"/g, '');
  const lines = [...header.map((h) => `# ${h}`.trimEnd()), 'problems:'];
  for (const p of problems) {
    lines.push(`  - id: ${p.id}`, `    task: ${p.task}`);
    lines.push(`    fault: ${p.fault ? flow(p.fault) : 'none'}`);
    lines.push(`    workload: ${flow({ shape: p.workload.shape, rps: p.workload.rps, seed: p.workload.seed })}`);
    if (p.budgetMs !== DEFAULT_BUDGET_MS[p.task]) lines.push(`    budgetMs: ${p.budgetMs}`);
  }
  return lines.join('\n') + '\n';
}
