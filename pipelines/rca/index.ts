/** The rca stage's front door: what other folders may import. */
export { loadCatalogDir } from './io.ts';
export { synthesizeGraph } from './synth/synthesize.ts';
export { OfflineJudge } from './synth/offline-judge.ts';
export { startRcaConsumer } from './consumer.ts';
