/**
 * The lab's front door for other folders (only re-exports; the lab's own files import each other
 * directly): the app, the fault injectors and their safety net, the workload, the topology and the
 * shared types. Used by the RCA corpus generator (pipelines/rca/corpus).
 */
export { startApp, LAB_SERVICES, LAB_RESOURCES, CALLS, STORES } from './app/index.ts';
export { injectorFor, FAULT_KINDS, cleanupLeftovers, installSignalHandlers, activeFaults, labStateFile } from './faults/index.ts';
export { runWorkload } from './workload/index.ts';
export type * from './types.ts';
// For `panoptes start` (pipelines/start): one lab problem run as the quick start, and its report.
export { problemById } from './problems/index.ts';
export { runLabCommand, DEFAULT_BASE_PORT } from './cli.ts';
export type { ProblemReport } from './report/report.ts';
