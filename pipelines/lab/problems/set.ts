/**
 * The problem set: 25 problems over 9 fault kinds and the 4 tasks. Each fault scenario is used by
 * several tasks (as AIOpsLab does), with its own seed so the workload differs between problems.
 * Mitigation problems exist only where an allow-listed exec can undo the fault; a slow or cut
 * shared database is not something the agent may touch.
 */
import { InputError } from '../../core/errors.ts';
import type { FaultSpec, WorkloadSpec } from '../types.ts';
import type { Problem, Task } from './problem.ts';

interface Scenario {
  fault: FaultSpec;
  tasks: Task[];
  text: string;
  shape?: WorkloadSpec['shape'];
}

const SCENARIOS: Scenario[] = [
  { fault: { kind: 'latency', target: 'search', params: { latencyMs: 400 } }, tasks: ['detection', 'localization', 'rca', 'mitigation'], text: 'search answers 400 ms slower' },
  { fault: { kind: 'errors', target: 'rate', params: { errorRate: 0.5 } }, tasks: ['detection', 'localization', 'rca', 'mitigation'], text: 'half of rate\'s responses are 500s' },
  { fault: { kind: 'crash', target: 'geo' }, tasks: ['detection', 'localization', 'rca', 'mitigation'], text: 'geo is killed with SIGKILL' },
  { fault: { kind: 'misconfig', target: 'search' }, tasks: ['detection', 'localization', 'rca', 'mitigation'], text: 'search is configured with a wrong dependency address' },
  { fault: { kind: 'cpu-hog', target: 'profile' }, tasks: ['detection', 'localization'], text: 'a busy loop takes 90% of profile\'s CPU', shape: 'diurnal' },
  { fault: { kind: 'memory-leak', target: 'reservation' }, tasks: ['detection', 'mitigation'], text: 'reservation retains 8 MiB per second' },
  { fault: { kind: 'slow-db', target: 'postgres', params: { delayMs: 300 } }, tasks: ['localization', 'rca'], text: 'PostgreSQL answers 300 ms slower (through the lab proxy)', shape: 'burst' },
  { fault: { kind: 'redis-down', target: 'redis' }, tasks: ['detection', 'localization'], text: 'Redis is unreachable (the lab proxy cuts every connection)' },
  { fault: { kind: 'scale-zero', target: 'rate' }, tasks: ['mitigation'], text: 'rate is scaled to zero workers' },
];

export const WARMUP_WORKLOAD_RPS = 12;

function build(): Problem[] {
  const out: Problem[] = [];
  let seed = 1;
  for (const s of SCENARIOS) {
    for (const task of s.tasks) {
      out.push({
        id: `${s.fault.kind}-${s.fault.target}-${task}`,
        task,
        fault: s.fault,
        workload: { shape: s.shape ?? 'poisson', rps: WARMUP_WORKLOAD_RPS, durationMs: 0, seed: seed++ },
        description: `${task}: ${s.text}`,
        budgetMs: task === 'mitigation' ? 45_000 : 35_000,
      });
    }
  }
  return out;
}

export const PROBLEMS: readonly Problem[] = build();

export function problemById(id: string): Problem {
  const p = PROBLEMS.find((x) => x.id === id);
  if (!p) throw new InputError(`no lab problem "${id}"; \`panoptes lab list\` shows the ${PROBLEMS.length} problems`);
  return p;
}
