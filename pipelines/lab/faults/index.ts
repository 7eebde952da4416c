/**
 * Faults: the injectors, the lab state file, and the safety net (cleanupLeftovers at the start of a
 * run, installSignalHandlers for SIGINT/SIGTERM) that makes every fault recover even when the
 * orchestrator is interrupted or killed.
 */
export { injectorFor } from './injectors.ts';
export { labStateFile, readState } from './state.ts';
export { cleanupLeftovers, installSignalHandlers, activeFaults } from './cleanup.ts';
export { FAULT_KINDS } from '../types.ts';
