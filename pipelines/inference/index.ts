/**
 * The inference stage's front door: the only module other folders import. Clockwork-style model
 * serving (README.md): the pool and its scheduler, the KServe v2 HTTP server with admission at the
 * door, the Kafka interface, the model builder and the records of the inference topics.
 */
export { commands } from './cli.ts';
export { InferencePool, spawnWorker } from './pool.ts';
export type { InferRequest, InferResult, LatencyBreakdown, PoolModel } from './types.ts';
export { defaultPoolOptions, validatePoolOptions } from './options.ts';
export type { PoolOptions } from './options.ts';
export { createInferenceServer, DEFAULT_BODY_LIMIT } from './http/server.ts';
export type { InferenceServer, InferenceServerOptions } from './http/server.ts';
export { decodeResponse, encodeBinaryRequest, BINARY_TYPE, HEADER_LENGTH } from './http/binary.ts';
export { startInferenceStage, DEFAULT_INFERENCE_GROUP } from './consumer.ts';
export type { InferenceStageOptions, RequestHandler, RunningInferenceStage } from './consumer.ts';
export { expireResult, requestFromRecord, resultToRecord } from './records.ts';
export type { InferenceRequestRecord, InferenceResultRecord, TensorRecord } from './records.ts';
export { buildAllModels, writeModels } from './models/build.ts';
export { readRegistry } from './models/registry.ts';
export type { ModelEntry } from './models/registry.ts';
export { runInferenceBenchmark } from './bench/benchmark.ts';
