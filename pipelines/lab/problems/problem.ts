/**
 * A lab problem as AIOpsLab defines it: application + fault + task + workload + evaluator.
 * The application is always the lab's hotel-reservation app; the fault is a FaultSpec the lab's
 * injectors understand; the task says what the agent must submit; the evaluator is the scoring
 * of that task (score/score.ts) plus, for mitigation, a probe of the live application.
 */
import type { FaultKind, FaultSpec, LabComponent, WorkloadSpec } from '../types.ts';

export const TASKS = ['detection', 'localization', 'rca', 'mitigation'] as const;
export type Task = (typeof TASKS)[number];

export interface Problem {
  /** Unique in its file; the shipped set uses `<fault kind>-<target>-<task>` (`latency-search-localization`), `quiet-<shape>-<n>-detection` for fault-free ones. */
  id: string;
  task: Task;
  /** null: a fault-free problem (only for detection; the right answer is "no fault"). */
  fault: FaultSpec | null;
  workload: WorkloadSpec;
  /** One line for `lab list` and reports. */
  description: string;
  /** Time the agent gets after the fault is injected. */
  budgetMs: number;
}

/** What an agent submits; which fields matter depends on the task. */
export interface Answer {
  /** detection: is there a fault? (false is the right answer of a fault-free problem) */
  detected?: boolean;
  /** localization: components, most likely first (AIOpsLab: a list of services). */
  components?: LabComponent[] | string[];
  /** rca: the root-cause component and the kind of fault. */
  component?: string;
  faultKind?: FaultKind | string;
  /** mitigation: free text of what was done (the live system is what is scored). */
  note?: string;
}

/** What the task asks, as the agent is told (AIOpsLab gives the agent a task description). */
export function taskPrompt(task: Task): string {
  switch (task) {
    case 'detection':
      return 'Detection: is there an anomaly in the application right now? Submit {"detected": true|false}.';
    case 'localization':
      return 'Localization: which component is at fault? Submit {"components": [most likely first, …]} (services: frontend, search, geo, rate, profile, reservation, user; resources: postgres, redis).';
    case 'rca':
      return 'Root-cause analysis: submit {"component": "<faulty component>", "faultKind": "<latency|errors|cpu-hog|memory-leak|crash|misconfig|slow-db|redis-down|scale-zero|db-down>"}.';
    case 'mitigation':
      return 'Mitigation: bring the application back to normal using exec (restart <service> | rollback-config <service> | scale <service> <workers>), then submit {"note": "what you did"}.';
  }
}
