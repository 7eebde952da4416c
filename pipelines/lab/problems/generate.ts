/**
 * The shipped problem set (`problems/problems.yaml`), generated so that it covers every
 * applicable (fault kind, component) pair once, plus fault-free detection problems under each
 * workload shape. Deterministic: the same code writes the same file (a test compares them).
 *
 *   - every service fault kind (latency, errors, crash, misconfig, cpu-hog, memory-leak,
 *     scale-zero) on every service it applies to (misconfig needs a dependency, so not geo), and
 *     slow-db / db-down on postgres, redis-down on redis;
 *   - the task of a (kind, target) pair rotates through detection, localization, rca, mitigation
 *     by (kind index + service index + 1) mod 4, so each kind meets every task and each task every
 *     kind; resource faults (no allow-listed mitigation) get detection, localization, rca;
 *   - the workload shape rotates poisson, diurnal, burst; fault-free detection problems: three per
 *     shape; seeds are 1, 2, 3, … in file order.
 * Regenerate after changing this file: `node --import tsx pipelines/lab/problems/write-set.ts`.
 */
import { LAB_SERVICES } from '../app/topology.ts';
import type { FaultKind, FaultSpec, WorkloadSpec } from '../types.ts';
import { DEFAULT_BUDGET_MS, describeProblem } from './file.ts';
import { TASKS, type Problem, type Task } from './problem.ts';

export const WARMUP_WORKLOAD_RPS = 12;
const SHAPES: ReadonlyArray<WorkloadSpec['shape']> = ['poisson', 'diurnal', 'burst'];
/** The service fault kinds of the shipped set (hang is a kind too, but a frozen process looks like a crash to every signal: left to custom files). */
const SERVICE_KINDS: readonly FaultKind[] = ['latency', 'errors', 'crash', 'misconfig', 'cpu-hog', 'memory-leak', 'scale-zero'];
const DEFAULT_PARAMS: Partial<Record<FaultKind, FaultSpec['params']>> = { latency: { latencyMs: 400 }, errors: { errorRate: 0.5 }, 'slow-db': { delayMs: 300 } };
const RESOURCE_SCENARIOS: Array<{ fault: FaultSpec; task: Task }> = [
  { fault: { kind: 'slow-db', target: 'postgres' }, task: 'rca' },
  { fault: { kind: 'db-down', target: 'postgres' }, task: 'localization' },
  { fault: { kind: 'redis-down', target: 'redis' }, task: 'detection' },
];
export const QUIET_PER_SHAPE = 3;

export function generateProblemSet(): Problem[] {
  const out: Problem[] = [];
  let seed = 1;
  let shapeI = 0;
  const add = (task: Task, fault: FaultSpec | null, id: string) => {
    const shape = SHAPES[shapeI++ % SHAPES.length]!;
    const workload = { shape, rps: WARMUP_WORKLOAD_RPS, durationMs: 0, seed: seed++ };
    out.push({ id, task, fault, workload, description: describeProblem(task, fault, workload), budgetMs: DEFAULT_BUDGET_MS[task] });
  };
  SERVICE_KINDS.forEach((kind, ki) => {
    LAB_SERVICES.forEach((target, ti) => {
      if (kind === 'misconfig' && target === 'geo') return; // geo calls nothing: no address to get wrong
      const task = TASKS[(ki + ti + 1) % TASKS.length]!;
      const params = DEFAULT_PARAMS[kind];
      add(task, { kind, target, ...(params ? { params } : {}) }, `${kind}-${target}-${task}`);
    });
  });
  for (const s of RESOURCE_SCENARIOS) {
    const params = DEFAULT_PARAMS[s.fault.kind];
    add(s.task, { ...s.fault, ...(params ? { params } : {}) }, `${s.fault.kind}-${s.fault.target}-${s.task}`);
  }
  for (let n = 1; n <= QUIET_PER_SHAPE; n++) {
    for (const shape of SHAPES) {
      const workload = { shape, rps: WARMUP_WORKLOAD_RPS, durationMs: 0, seed: seed++ };
      out.push({ id: `quiet-${shape}-${n}-detection`, task: 'detection', fault: null, workload, description: describeProblem('detection', null, workload), budgetMs: DEFAULT_BUDGET_MS.detection });
    }
  }
  return out;
}
