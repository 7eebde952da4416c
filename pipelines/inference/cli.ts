/** CLI commands of the inference stage: build the models, serve them, benchmark the pool. */
import { resolve } from 'node:path';
import { UsageError, describeError } from '../core/errors.ts';
import { loadConfig } from '../core/config.ts';
import { untilAborted } from '../core/lifecycle.ts';
import type { Runtime } from '../core/runtime.ts';
import type { CliCommand, CliIo, ParsedArgs } from '../core/cli-types.ts';
import { serveSpec } from './spec.ts';

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
  usage: '--models DIR [--listen HOST:PORT] [--slo-ms MS] [--bearer-token-file FILE] [options]',
  // The spec checks `required` too; marking it here puts "(required)" in help and the README.
  options: serveSpec.cliOptions().map((o) => (o.name === 'models' ? { ...o, required: true } : o)),
  help: 'HTTP: KServe v2, JSON tensors or the binary tensor data extension (POST /v2/models/NAME/infer, GET /v2/models/NAME, POST /v2/repository/index, GET /v2/health/ready, GET /metrics). A request the server cannot serve within its deadline is refused at once with 429 and the reason, before its body is read when the door can tell; a cold model\'s first request is refused while it loads.\nKafka (with a broker configured and --kafka auto): one result per request on inference.results, keyed by the request id; a result past its deadline is a rejection record, never a late answer; at-least-once; undecodable requests go to the dead-letter topic.\nExample: PANOPTES_BROKERS=127.0.0.1:9092 panoptes serve --models models/ --listen 127.0.0.1:8000',
  async run(args: ParsedArgs, io: CliIo): Promise<number> {
    const o = serveSpec.fromArgs(args);
    parseListen(o.listen);
    // Config is validated before any worker starts, so a bad PANOPTES_* value fails at once.
    const config = o.kafka === 'auto' ? loadConfig() : null;
    const useKafka = config?.transport === 'kafka';
    const [{ startServing }, { Registry, collectDefaultMetrics }] = await Promise.all([import('./index.ts'), import('prom-client')]);
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    // Loaded here only: the HTTP-only server never pays for the Kafka client and registry.
    const runtime: Runtime | null = useKafka && config ? await (await import('../core/runtime.ts')).createRuntime(config, { stage: 'inference', metrics: registry }) : null;
    let code = 0;
    try {
      const s = await startServing(o, { registry, runtime, warn: io.err });
      try {
        const models = s.pool.modelNames();
        if (io.json) io.out(JSON.stringify({ listening: s.url, models, workers: s.pool.options.workers, kafka: s.kafka }));
        else io.out(`serving ${models.length} models on ${s.url} (${s.pool.options.workers} worker(s), policy ${s.pool.options.policy})${s.kafka ? `; Kafka ${s.kafka.requests} -> ${s.kafka.results} (group ${s.kafka.group})` : ''}`);
        const failure = await Promise.race([untilAborted(io.signal).then(() => null), s.failed]);
        if (failure) {
          io.err(`the Kafka interface stopped on an error: ${describeError(failure)}`);
          code = 1;
        }
        io.err('stopping');
      } finally {
        await s.close();
      }
    } finally {
      await runtime?.close();
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
