/** CLI commands of the inference stage: build the models, serve them, benchmark the pool. */
import { resolve } from 'node:path';
import { UsageError, describeError } from '../core/errors.ts';
import { loadConfig } from '../core/config.ts';
import { untilAborted } from '../core/lifecycle.ts';
import type { Runtime } from '../core/runtime.ts';
import { groupName, topicName } from '../core/topics.ts';
import type { RunningInferenceStage } from './consumer.ts';
import type { CliCommand, CliIo, ParsedArgs } from '../core/cli-types.ts';
import type { Policy } from './scheduler.ts';

function parseListen(v: string): { host: string; port: number } {
  const m = /^(.+):(\d+)$/.exec(v);
  if (!m || Number(m[2]) > 65535) throw new UsageError(`--listen expects HOST:PORT (e.g. 127.0.0.1:8000), got ${JSON.stringify(v)}`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

function positiveNumber(args: ParsedArgs, name: string): number | undefined {
  const v = args.options[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !(v > 0)) throw new UsageError(`--${name} expects a positive number, got ${JSON.stringify(v)}`);
  return v;
}

const modelsBuild: CliCommand = {
  name: 'models build',
  summary: 'Write the project-built ONNX models (MLPs, zscore-w64) and their registry file',
  usage: '--out DIR [--slo-ms MS] [--json]',
  options: [
    { name: 'out', type: 'string', description: 'Folder to write *.onnx and models.json into', required: true, placeholder: 'DIR' },
    { name: 'slo-ms', type: 'number', description: 'Default SLO recorded for each model', default: 100, placeholder: 'MS' },
  ],
  async run(args: ParsedArgs, io: CliIo): Promise<number> {
    const out = args.options['out'];
    if (typeof out !== 'string' || out === '') throw new UsageError('--out DIR is required');
    // Modules load on use so `panoptes --help` stays quick.
    const { writeModels } = await import('./models/build.ts');
    const reg = writeModels(resolve(out), undefined, positiveNumber(args, 'slo-ms') ?? 100);
    for (const m of reg.models) {
      if (io.json) io.out(JSON.stringify({ name: m.name, version: m.version, file: m.file, sizeBytes: m.sizeBytes, signature: m.signature }));
      else io.out(`${m.name}\t${m.sizeBytes} B\t${m.file}`);
    }
    io.err(`wrote ${reg.models.length} models and models.json to ${resolve(out)}`);
    return 0;
  },
};

const serve: CliCommand = {
  name: 'serve',
  summary: 'Serve a folder of ONNX models over the KServe v2 HTTP protocol with Clockwork scheduling',
  usage: '--models DIR [--listen 127.0.0.1:8000] [--workers N] [--memory-budget-mb MB] [--slo-ms MS] [--policy clockwork|fifo] [--kafka auto|off] [--group NAME] [--max-in-flight N] [--deadline-buffer-ms MS] [--max-body-mb MB] [--parse-workers N] [--parse-offload-kb KB] [--bearer-token-file FILE]',
  options: [
    { name: 'models', type: 'string', description: 'Folder holding models.json (from `models build`)', required: true, placeholder: 'DIR' },
    { name: 'listen', type: 'string', description: 'Address to bind', default: '127.0.0.1:8000', placeholder: 'HOST:PORT' },
    { name: 'workers', type: 'number', description: 'Worker threads (one core each)', default: 1, placeholder: 'N' },
    { name: 'memory-budget-mb', type: 'number', description: 'Per-worker memory budget for loaded models', default: 256, placeholder: 'MB' },
    { name: 'max-batch', type: 'number', description: 'Largest batch (rows)', default: 16, placeholder: 'N' },
    { name: 'slo-ms', type: 'number', description: 'SLO for requests without a deadline (default: each model\'s sloMs)', placeholder: 'MS' },
    { name: 'policy', type: 'string', description: 'clockwork (admission control, least-slack batching) or fifo', default: 'clockwork' },
    { name: 'kafka', type: 'string', description: 'auto: also consume inference.requests and produce inference.results when a broker is configured (transport=kafka, PANOPTES_BROKERS); off: HTTP only', default: 'auto', placeholder: 'MODE' },
    { name: 'group', type: 'string', description: 'Consumer group of the Kafka interface (prefixed like topics)', default: 'panoptes-inference', placeholder: 'NAME' },
    { name: 'max-in-flight', type: 'number', description: 'Request records taken from Kafka and not yet answered; fetching pauses above it', default: 2000, placeholder: 'N' },
    { name: 'deadline-buffer-ms', type: 'number', description: 'Subtracted from every deadline for result delivery (writing the response, producing the record)', default: 1, placeholder: 'MS' },
    { name: 'max-body-mb', type: 'number', description: 'Largest HTTP request body (413 above it)', default: 8, placeholder: 'MB' },
    { name: 'parse-workers', type: 'number', description: 'Worker threads that parse large JSON bodies off the scheduler\'s thread (0: parse on it)', default: 1, placeholder: 'N' },
    { name: 'parse-offload-kb', type: 'number', description: 'JSON bodies of at least this size go to a parse worker; smaller ones and binary tensors parse inline', default: 16, placeholder: 'KB' },
    { name: 'bearer-token-file', type: 'string', description: 'Require `Authorization: Bearer <token>` on every route but /metrics and /v2/health/*; the file holds the token', placeholder: 'FILE' },
  ],
  help: 'HTTP: KServe v2 JSON (POST /v2/models/NAME/infer, GET /v2/models/NAME, GET /v2/health/ready, GET /metrics).\nKafka (with a broker configured and --kafka auto): one result per request on inference.results, keyed by the request id; at-least-once (offsets committed once results are acknowledged); undecodable requests go to the dead-letter topic.\nExample: PANOPTES_BROKERS=127.0.0.1:9092 panoptes serve --models models/ --listen 127.0.0.1:8000',
  async run(args: ParsedArgs, io: CliIo): Promise<number> {
    const dir = args.options['models'];
    if (typeof dir !== 'string' || dir === '') throw new UsageError('--models DIR is required');
    const addr = parseListen(String(args.options['listen'] ?? '127.0.0.1:8000'));
    const kafkaMode = String(args.options['kafka'] ?? 'auto');
    if (kafkaMode !== 'auto' && kafkaMode !== 'off') throw new UsageError(`--kafka expects auto or off, got ${JSON.stringify(kafkaMode)}`);
    const maxInFlight = positiveNumber(args, 'max-in-flight') ?? 2000;
    // Config is validated before any worker starts, so a bad PANOPTES_* value fails at once.
    const config = kafkaMode === 'auto' ? loadConfig() : null;
    const useKafka = config?.transport === 'kafka';
    const tokenFile = args.options['bearer-token-file'];
    if (tokenFile !== undefined && (typeof tokenFile !== 'string' || tokenFile === '')) throw new UsageError('--bearer-token-file expects a FILE');
    const parseWorkers = args.options['parse-workers'] ?? 1;
    if (typeof parseWorkers !== 'number' || !Number.isInteger(parseWorkers) || parseWorkers < 0) throw new UsageError(`--parse-workers expects an integer ≥ 0, got ${JSON.stringify(parseWorkers)}`);
    const offloadKb = args.options['parse-offload-kb'] ?? 16;
    if (typeof offloadKb !== 'number' || !(offloadKb >= 0)) throw new UsageError(`--parse-offload-kb expects a number ≥ 0, got ${JSON.stringify(offloadKb)}`);
    const [{ readRegistry }, { InferencePool }, { createInferenceServer }, { readBearerTokenFile, isLoopbackHost }, { ParsePool }, { Registry, collectDefaultMetrics }] = await Promise.all([
      import('./models/registry.ts'),
      import('./pool.ts'),
      import('./http/server.ts'),
      import('./http/auth.ts'),
      import('./http/parse-pool.ts'),
      import('prom-client'),
    ]);
    const bearerToken = typeof tokenFile === 'string' ? readBearerTokenFile(tokenFile) : undefined;
    const maxBodyMb = positiveNumber(args, 'max-body-mb') ?? 8;
    const buffer = args.options['deadline-buffer-ms'];
    if (buffer !== undefined && (typeof buffer !== 'number' || !(buffer >= 0))) throw new UsageError(`--deadline-buffer-ms expects a number ≥ 0, got ${JSON.stringify(buffer)}`);
    const models = readRegistry(resolve(dir));
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const slo = positiveNumber(args, 'slo-ms');
    const pool = await InferencePool.start(models, registry, {
      workers: positiveNumber(args, 'workers') ?? 1,
      memoryBudgetBytes: Math.round((positiveNumber(args, 'memory-budget-mb') ?? 256) * 1024 * 1024),
      maxBatch: positiveNumber(args, 'max-batch') ?? 16,
      policy: String(args.options['policy'] ?? 'clockwork') as Policy,
      ...(slo !== undefined ? { sloMs: slo } : {}),
      ...(typeof buffer === 'number' ? { deadlineBufferMs: buffer } : {}),
    });
    const parsePool = parseWorkers > 0 ? await ParsePool.start(parseWorkers, Math.round(offloadKb * 1024)) : undefined;
    const server = createInferenceServer(pool, registry, { bodyLimit: Math.round(maxBodyMb * 1024 * 1024), ...(bearerToken !== undefined ? { bearerToken } : {}), ...(parsePool ? { parsePool } : {}) });
    if (!bearerToken && !isLoopbackHost(addr.host))
      io.err(`warning: serving on ${addr.host}, beyond loopback, without authentication: anyone who reaches it can run models and read model metadata (use --bearer-token-file FILE)`);
    let runtime: Runtime | null = null;
    let stage: RunningInferenceStage | null = null;
    let code = 0;
    try {
      const bound = await server.listen(addr.host, addr.port);
      const url = `http://${bound.address}:${bound.port}`;
      if (useKafka && config) {
        // Loaded here only: the HTTP-only server never pays for the Kafka client and registry.
        const { createRuntime } = await import('../core/runtime.ts');
        const { startInferenceStage } = await import('./consumer.ts');
        runtime = await createRuntime(config, { stage: 'inference', metrics: registry });
        stage = await startInferenceStage(runtime, pool, { groupId: String(args.options['group'] ?? 'panoptes-inference'), maxInFlight });
      }
      const kafka = stage && runtime ? { requests: topicName('inferenceRequests', runtime.config.topicPrefix), results: topicName('inferenceResults', runtime.config.topicPrefix), group: groupName(String(args.options['group'] ?? 'panoptes-inference'), runtime.config.topicPrefix) } : null;
      if (io.json) io.out(JSON.stringify({ listening: url, models: pool.modelNames(), workers: pool.options.workers, kafka }));
      else io.out(`serving ${models.length} models on ${url} (${pool.options.workers} worker(s), policy ${pool.options.policy})${kafka ? `; Kafka ${kafka.requests} -> ${kafka.results} (group ${kafka.group})` : ''}`);
      const failure = await Promise.race([untilAborted(io.signal).then(() => null), stage ? stage.failed : new Promise<never>(() => undefined)]);
      if (failure) {
        io.err(`the Kafka interface stopped on an error: ${describeError(failure)}`);
        code = 1;
      }
      io.err('stopping');
    } finally {
      // Kafka first: it answers what is in flight (which needs the pool) and commits.
      await stage?.stop();
      await runtime?.close();
      await server.close();
      await parsePool?.close();
      await pool.close();
    }
    return code;
  },
};

const benchInference: CliCommand = {
  name: 'bench inference',
  summary: 'Benchmark Clockwork against a FIFO baseline: goodput and SLO attainment vs offered load',
  usage: '[--out docs] [--json]',
  options: [{ name: 'out', type: 'string', description: 'Folder for the table and the goodput plot', default: 'docs', placeholder: 'DIR' }],
  async run(args: ParsedArgs, io: CliIo): Promise<number> {
    const { runInferenceBenchmark, formatTable } = await import('./bench/benchmark.ts');
    const result = await runInferenceBenchmark({ outDir: resolve(String(args.options['out'] ?? 'docs')), log: io.err, signal: io.signal });
    if (io.json) for (const p of result.points) io.out(JSON.stringify(p));
    else for (const line of formatTable(result)) io.out(line);
    return 0;
  },
};

export const commands: CliCommand[] = [modelsBuild, serve, benchInference];
