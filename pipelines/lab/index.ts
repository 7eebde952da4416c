/**
 * The lab's front door: the only path other folders import (issue 18). What is here:
 * - running problems: `runLabCommand` (what `lab run` and `npm start` use), the problem files
 *   (`loadProblemFile`, `parseProblems`, `shippedProblems`, `problemById`, the split), the options
 *   (`LAB_RUN_SPEC`) and the report type;
 * - the application and its faults for other generators (the RCA corpus): `startApp`, the
 *   topology, `injectorFor`, `inapplicable` (which fault fits which component), the safety net
 *   (`cleanupLeftovers`, `installSignalHandlers`, `activeFaults`), `runWorkload`, and the types.
 */
export { labConfig, runLabCommand, selectProblems, DEFAULT_BASE_PORT, DEFAULT_OUT, type LabRunArgs } from './cli.ts';
export { LAB_LIST_SPEC, LAB_RUN_SPEC, type LabListOptions, type LabRunOptions } from './spec.ts';
export {
  DEFAULT_BUDGET_MS,
  generateProblemSet,
  loadProblemFile,
  parseProblems,
  problemById,
  problemsToYaml,
  selectSplit,
  shippedProblems,
  splitOf,
  SHIPPED_PROBLEMS_FILE,
  SPLITS,
  TASKS,
  taskPrompt,
  type Answer,
  type Problem,
  type Split,
  type Task,
} from './problems/index.ts';
export type { ProblemReport, RunReport } from './report/report.ts';
export { startApp, CALLS, LAB_RESOURCES, LAB_SERVICES, STORES } from './app/index.ts';
export { activeFaults, cleanupLeftovers, injectorFor, installSignalHandlers, labStateFile, readState, FAULT_KINDS } from './faults/index.ts';
export { applicablePairs, inapplicable, LAB_COMPONENTS } from './faults/applicable.ts';
export { runWorkload } from './workload/index.ts';
export { startPrometheus } from './prometheus/index.ts';
export type * from './types.ts';
