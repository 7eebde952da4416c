/**
 * The rca stage's front door: causal-graph synthesis (Atlas), root-cause ranking, the PetShop-layout
 * evaluation, the lab corpus generator, and the online consumer. Other folders import only this
 * file (the causal graph itself is pipelines/graph).
 */
export { rankCauses, handleIncident, rankMethods, defaultRankMethod, type RankMethod, type RankRequest, type RankOutcome, type Telemetry, type HandleOptions } from './rca.ts';
export { defaultRankOptions, validateRankOptions, type RankOptions } from './rank/scores.ts';
export { RcaAnalyzer, type AnalysisOutcome } from './analyzer.ts';
export { startRcaConsumer, startRcaFromSpec, type RcaConsumerOptions, type RunningRcaConsumer } from './consumer.ts';
export { rcaRunSpec, type RcaRunOptions } from './spec.ts';
export { publishGraph, type Published, type PublishDeps } from './publish.ts';
export { synthesizeGraph, type SynthesisInput, type SynthesisReport } from './synth/synthesize.ts';
export { OfflineJudge } from './synth/offline-judge.ts';
export { loadCatalogDir, readFallbackGraph, readFrame, readGraph } from './io.ts';
export { toDot, toSvg } from './render.ts';
export { sliceFrame, frameFromCsv, framesFromPetshopCsv, type Frame } from './frame.ts';
