/**
 * The start stage's front door for other folders (only re-exports; the stage's own files import
 * each other directly): its options (the spec `panoptes start` is built from) and the NAB replay,
 * NAB series cut into `metrics` records under the one series key.
 */
export { DEFAULT_SERIES, START_BASES, START_PROBLEM, startSpec, startUsageProblems } from './spec.ts';
export type { StartOptions } from './spec.ts';
export { replayBatches, seriesLabels } from './replay.ts';
