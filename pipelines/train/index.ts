/**
 * The train stage's front door for other folders (only re-exports; the stage's own files import
 * each other directly): the labelled corpus readers `panoptes start --nab` replays.
 */
export { loadCorpus, defaultNabPaths, datasetsRoot } from './data/corpus.ts';
export type { LabelledSeries } from './data/series.ts';
