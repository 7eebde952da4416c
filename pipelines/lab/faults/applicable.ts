/**
 * Which fault kind applies to which component, and the parameters each kind takes: the one place
 * a problem file's `fault` is checked against the application's shape (pure; no process is touched).
 *   service faults  latency, errors, cpu-hog, memory-leak (in the process), crash, hang (its process),
 *                   scale-zero (its workers), misconfig (its config: only a service that has a
 *                   dependency to point elsewhere);
 *   resource faults slow-db, db-down (postgres), redis-down (redis), made in the lab's proxies.
 * Mitigation problems need an allow-listed action that undoes the fault, so a shared-resource
 * fault (which only the lab may recover) cannot be a mitigation problem.
 */
import type { ConfigIssue } from '../../core/errors.ts';
import { defineSpec, f } from '../../core/spec.ts';
import { depsOf, LAB_RESOURCES, LAB_SERVICES } from '../app/topology.ts';
import type { FaultKind, LabComponent, LabServiceName } from '../types.ts';
import { FAULT_KINDS } from '../types.ts';

export const SERVICE_FAULT_KINDS = ['latency', 'errors', 'crash', 'misconfig', 'cpu-hog', 'memory-leak', 'scale-zero', 'hang'] as const satisfies readonly FaultKind[];
export const RESOURCE_FAULT_KINDS: Readonly<Record<'slow-db' | 'db-down' | 'redis-down', 'postgres' | 'redis'>> = { 'slow-db': 'postgres', 'db-down': 'postgres', 'redis-down': 'redis' };

export const LAB_COMPONENTS: readonly LabComponent[] = [...LAB_SERVICES, ...LAB_RESOURCES];

/** The parameters of each kind (none for the others); defaults are the injectors'. */
export const FAULT_PARAMS = {
  latency: defineSpec('latency params', { latencyMs: f.int({ doc: 'Added to every request (ms).', default: 400, min: 1, max: 10_000 }) }),
  errors: defineSpec('errors params', { errorRate: f.number({ doc: 'Share of requests answered 500.', default: 0.5, min: 0, max: 1, exclusive: true }) }),
  'cpu-hog': defineSpec('cpu-hog params', { cpuShare: f.number({ doc: 'Share of a core burnt in a busy loop.', default: 0.9, min: 0, max: 0.98 }) }),
  'memory-leak': defineSpec('memory-leak params', { leakBytesPerS: f.int({ doc: 'Bytes retained per second.', default: 8 * 1024 * 1024, min: 1024, max: 256 * 1024 * 1024 }) }),
  'slow-db': defineSpec('slow-db params', { delayMs: f.int({ doc: 'Delay per forwarded chunk, each way (ms).', default: 150, min: 1, max: 5_000 }) }),
  misconfig: defineSpec('misconfig params', { dependency: f.enum(LAB_COMPONENTS, { doc: "The dependency whose address is wrong (default: the service's first)." }) }),
} as const;

const isService = (t: string): t is LabServiceName => (LAB_SERVICES as readonly string[]).includes(t);

/** Why `kind` cannot be made on `target` (null when it can). */
export function inapplicable(kind: FaultKind, target: LabComponent): string | null {
  if (kind in RESOURCE_FAULT_KINDS) {
    const want = RESOURCE_FAULT_KINDS[kind as keyof typeof RESOURCE_FAULT_KINDS];
    return target === want ? null : `fault ${kind} cannot apply to ${target}: ${kind} is made in the lab's ${want} proxy, so its target is ${want}`;
  }
  if (!isService(target)) return `fault ${kind} cannot apply to ${target}: ${kind} acts on a service's process (${LAB_SERVICES.join(', ')}); ${target} is a shared resource (its faults: ${Object.keys(RESOURCE_FAULT_KINDS).join(', ')})`;
  if (kind === 'misconfig' && depsOf(target).length === 0) return `fault misconfig cannot apply to ${target}: ${target} has no dependency whose address could be wrong`;
  return null;
}

/**
 * Every problem with `kind` on `target` and these params, as issues under `path` (the fault's
 * path in the file). `task` is checked too: mitigation needs a fault an agent may undo.
 */
export function faultIssues(kind: FaultKind, target: LabComponent, params: unknown, task: string, path: string): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const why = inapplicable(kind, target);
  if (why) out.push({ path: `${path}.target`, message: why });
  const spec = (FAULT_PARAMS as Partial<Record<FaultKind, (typeof FAULT_PARAMS)[keyof typeof FAULT_PARAMS]>>)[kind];
  if (params !== undefined && params !== null) {
    if (!spec) out.push({ path: `${path}.params`, message: `fault ${kind} takes no params` });
    else out.push(...spec.check(params, `${path}.params`).issues);
  }
  if (!why && kind === 'misconfig' && params && typeof params === 'object' && 'dependency' in params && isService(target)) {
    const dep = (params as { dependency: unknown }).dependency;
    const deps = depsOf(target);
    if (typeof dep === 'string' && (LAB_COMPONENTS as readonly string[]).includes(dep) && !deps.includes(dep as LabComponent)) {
      out.push({ path: `${path}.params.dependency`, message: `${target} does not use ${dep}: its dependencies are ${deps.join(', ')}` });
    }
  }
  if (!why && task === 'mitigation' && kind in RESOURCE_FAULT_KINDS) {
    out.push({ path: `${path}.kind`, message: `a mitigation problem needs a fault an agent may undo; ${kind} on ${target} is a shared resource's (only the lab recovers it)` });
  }
  return out;
}

/** Every (kind, target) pair that applies, services first. */
export function applicablePairs(): Array<{ kind: FaultKind; target: LabComponent }> {
  const out: Array<{ kind: FaultKind; target: LabComponent }> = [];
  for (const kind of FAULT_KINDS) for (const target of LAB_COMPONENTS) if (inapplicable(kind, target) === null) out.push({ kind, target });
  return out;
}
