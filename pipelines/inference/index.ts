/**
 * The inference stage's front door: the only module other folders import. Clockwork-style model
 * serving (README.md): the pool and its scheduler, the KServe v2 HTTP server with admission at the
 * door, the Kafka interface, the model builder and the records of the inference topics.
 * `startServing` is what `panoptes serve` runs (and `stages.serve` of `panoptes run`).
 */
import { resolve } from 'node:path';
import type { Registry } from 'prom-client';
import type { Runtime } from '../core/runtime.ts';
import { groupName, topicName } from '../core/topics.ts';
import { startInferenceStage, type RunningInferenceStage } from './consumer.ts';
import { isLoopbackHost, readBearerTokenFile } from './http/auth.ts';
import { ParsePool } from './http/parse-pool.ts';
import { createInferenceServer } from './http/server.ts';
import { readRegistry } from './models/registry.ts';
import { poolOptionsOf } from './options.ts';
import { InferencePool } from './pool.ts';
import type { ServeOptions } from './spec.ts';

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
export { serveSpec, type ServeOptions } from './spec.ts';

export interface RunningServing {
  url: string;
  pool: InferencePool;
  /** The Kafka interface's topics and group, when it runs. */
  kafka: { requests: string; results: string; group: string } | null;
  /** Resolves with the error when the Kafka interface stops on its own. */
  failed: Promise<unknown>;
  /** Kafka interface first (it answers what is in flight, which needs the pool), then HTTP and the pool. */
  close(): Promise<void>;
}

/**
 * The model server of `panoptes serve`: the pool over `o.models`, the KServe v2 HTTP server on
 * `o.listen`, and with `runtime` (and `kafka: auto`) the Kafka interface on its transport. The
 * caller owns `registry` and `runtime` (and closes the runtime after `close()`).
 */
export async function startServing(o: ServeOptions, deps: { registry: Registry; runtime?: Runtime | null; warn?: (line: string) => void }): Promise<RunningServing> {
  const m = /^(.+):(\d+)$/.exec(o.listen)!;
  const addr = { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
  // Fields without a default come back loosely typed from the spec; they were checked there.
  const tokenFile = o.bearerTokenFile as string | undefined;
  const bearerToken = tokenFile !== undefined ? readBearerTokenFile(tokenFile) : undefined;
  const models = readRegistry(resolve(o.models as string));
  const pool = await InferencePool.start(models, deps.registry, poolOptionsOf(o));
  let parsePool: ParsePool | undefined;
  let server: ReturnType<typeof createInferenceServer> | undefined;
  let stage: RunningInferenceStage | null = null;
  const close = async () => {
    await stage?.stop();
    await server?.close();
    await parsePool?.close();
    await pool.close();
  };
  try {
    parsePool = o.parseWorkers > 0 ? await ParsePool.start(o.parseWorkers, Math.round(o.parseOffloadKb * 1024)) : undefined;
    server = createInferenceServer(pool, deps.registry, { bodyLimit: Math.round(o.maxBodyMb * 1024 * 1024), ...(bearerToken !== undefined ? { bearerToken } : {}), ...(parsePool ? { parsePool } : {}) });
    if (!bearerToken && !isLoopbackHost(addr.host))
      deps.warn?.(`warning: serving on ${addr.host}, beyond loopback, without authentication: anyone who reaches it can run models and read model metadata (use --bearer-token-file FILE)`);
    const bound = await server.listen(addr.host, addr.port);
    const url = `http://${bound.address.includes(':') ? `[${bound.address}]` : bound.address}:${bound.port}`;
    const rt = o.kafka === 'auto' ? deps.runtime : null;
    if (rt) stage = await startInferenceStage(rt, pool, { groupId: o.group, maxInFlight: o.maxInFlight });
    const kafka = stage && rt ? { requests: topicName('inferenceRequests', rt.config.topicPrefix), results: topicName('inferenceResults', rt.config.topicPrefix), group: groupName(o.group, rt.config.topicPrefix) } : null;
    return { url, pool, kafka, failed: stage ? stage.failed : new Promise<never>(() => undefined), close };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}
