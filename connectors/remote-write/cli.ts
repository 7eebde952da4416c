/**
 * `panoptes ingest`: runs the remote-write receiver until SIGINT/SIGTERM. Records go to the
 * `metrics` topic of whichever transport the config selects (Kafka with PANOPTES_BROKERS, else
 * embedded), or nowhere with --null-sink (decode only, for measuring). Options come from spec.ts.
 *
 * The defaults are the fastest correct configuration measured (connectors/remote-write/README.md,
 * Throughput): the Kafka client and the number of receiver processes are chosen at start from what
 * is installed and the cores available (auto.ts), and the choice is logged with its reason. An
 * explicit `PANOPTES_KAFKA_CLIENT` (or `kafkaClient` in the config file) and `--workers` win.
 */
import type { Registry } from 'prom-client';
import type { CliCommand, CliIo, ParsedArgs, ReadmeSections } from '../../pipelines/core/cli-types.ts';
import { loadConfig, type Config } from '../../pipelines/core/config.ts';
import { untilAborted } from '../../pipelines/core/lifecycle.ts';
import { createLogger, type Logger } from '../../pipelines/core/logger.ts';
import { createRegistry } from '../../pipelines/core/metrics.ts';
import { createRuntime, type Runtime } from '../../pipelines/core/runtime.ts';
import { topicName } from '../../pipelines/core/topics.ts';
import { chooseKafkaClient, chooseWorkers, type Choice } from './auto.ts';
import { ingestSpec, receiverOptionsOf, type IngestOptions, type ReceiverOptions } from './spec.ts';
import { RemoteWriteReceiver, WRITE_PATH } from './server.ts';
import { NullSink, type MetricSink } from './sink.ts';
import { TopicSink } from './topic-sink.ts';

/** A running receiver and what it writes to, as one process (or one cluster worker) runs it. */
export interface Ingest {
  url: string;
  sink: string;
  transport: string;
  log: Logger;
  close(): Promise<void>;
}

/** The spec's values of the command line (a bad value is a UsageError naming its flag). */
export function ingestOptionsFromArgs(args: ParsedArgs): IngestOptions {
  return ingestSpec.fromArgs(args);
}

/** CLI values → one receiver's options; reads the secret and certificate files. */
export function receiverOptionsFromArgs(args: ParsedArgs): ReceiverOptions {
  return receiverOptionsOf(ingestOptionsFromArgs(args));
}

/**
 * Starts one receiver from CLI options: validates them first (a bad option fails before anything
 * connects), then opens the sink and listens. `config` is the common configuration with the Kafka
 * client already chosen. `exposition`, when given, is what GET /metrics serves instead of this
 * process's registry.
 */
export async function openIngest(args: ParsedArgs, config: Config = loadConfig(), exposition?: (own: Registry) => Registry): Promise<Ingest> {
  const receiverOpts = receiverOptionsFromArgs(args);
  let runtime: Runtime | null = null;
  let sink: MetricSink;
  let log: Logger;
  let registry: Registry;
  if (args.options['null-sink']) {
    log = createLogger(config.logLevel, { stage: 'remote-write' });
    registry = createRegistry({ defaultMetrics: true, labels: { stage: 'remote-write' } });
    sink = new NullSink();
  } else {
    runtime = await createRuntime(config, { stage: 'remote-write' });
    log = runtime.log;
    registry = runtime.metrics;
    const topic = topicName('metrics', runtime.config.topicPrefix);
    try {
      // Records the client was told to resend (503 at the deadline) are given up on, not stored
      // later as well: librdkafka would otherwise keep them queued through an outage. Group
      // commit: the records of concurrent requests are acknowledged together, without a delivery
      // report per record (README.md, Throughput).
      sink = new TopicSink({ producer: await runtime.transport.producer({ deliveryTimeoutMs: receiverOpts.deadlineMs, groupCommit: true }), serde: runtime.serde, topic, registry });
    } catch (err) {
      await runtime.close();
      throw err;
    }
  }
  const receiver = new RemoteWriteReceiver(receiverOpts, { sink, registry, logger: log, exposition: exposition?.(registry) });
  let url: string;
  try {
    url = `${await receiver.start()}${WRITE_PATH}`;
  } catch (err) {
    await sink.close().catch(() => undefined);
    await runtime?.close();
    throw err;
  }
  return {
    url,
    sink: sink.name,
    transport: runtime ? `${runtime.transport.kind}${runtime.transport.kind === 'kafka' ? `/${runtime.config.kafkaClient}` : ''}` : 'none',
    log,
    async close() {
      try {
        await receiver.close();
        await sink.close();
      } finally {
        await runtime?.close();
      }
    },
  };
}

/** The Kafka client and worker count this start will use, each with the reason. */
export interface Plan {
  config: Config;
  client: Choice<Config['kafkaClient']> | null;
  workers: Choice<number>;
}

export async function planIngest(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): Promise<Plan> {
  const opts = ingestOptionsFromArgs(args);
  let config = loadConfig({ env });
  const kafka = !opts.nullSink && config.transport === 'kafka';
  const client = kafka ? await chooseKafkaClient(config, env) : null;
  if (client && client.value !== config.kafkaClient) config = loadConfig({ env, overrides: { kafkaClient: client.value } });
  const workers = chooseWorkers(opts.workers as number | undefined, { kafka, client: client?.value ?? null });
  return { config, client, workers };
}

function describePlan(p: Plan): string {
  const parts = [];
  if (p.client) parts.push(`Kafka client ${p.client.value} (${p.client.why})`);
  parts.push(`${p.workers.value} receiver process${p.workers.value === 1 ? '' : 'es'} (${p.workers.why})`);
  return parts.join(', ');
}

async function run(args: ParsedArgs, io: CliIo): Promise<number> {
  // Validated first, with the files read, so a bad option is one usage error of this process.
  receiverOptionsFromArgs(args);
  const plan = await planIngest(args);
  const log = createLogger(plan.config.logLevel, { stage: 'remote-write' });
  log.info(`remote-write: ${describePlan(plan)}`, { kafkaClient: plan.client?.value, workers: plan.workers.value });
  if (plan.workers.value > 1) {
    const { runPrimary } = await import('./cluster.ts');
    return runPrimary(plan.workers.value, args, io, plan.client ? { PANOPTES_KAFKA_CLIENT: plan.client.value } : {});
  }
  const ingest = await openIngest(args, plan.config);
  try {
    ingest.log.info('remote-write receiver listening', { url: ingest.url, sink: ingest.sink, transport: ingest.transport });
    io.out(io.json ? JSON.stringify({ url: ingest.url, sink: ingest.sink, transport: ingest.transport, workers: 1 }) : `listening on ${ingest.url} (sink: ${ingest.sink}, ${ingest.transport})`);
    await untilAborted(io.signal);
    ingest.log.info('remote-write receiver stopping');
  } finally {
    await ingest.close();
  }
  return 0;
}

export const commands: CliCommand[] = [
  {
    name: 'ingest',
    summary: ingestSpec.summary,
    usage: '[--listen HOST:PORT] [options]',
    options: ingestSpec.cliOptions(),
    requiresBroker: (args) => args.options['null-sink'] !== true,
    help: `Point Prometheus's remote_write at http://HOST:PORT${WRITE_PATH} (see connectors/remote-write/README.md).
Replies 204 only once Kafka acknowledged every record of the request (acks=all, idempotent), 503
when Kafka is down or slower than --deadline-ms, 429 on overload, 4xx with a one-line reason on
malformed input or input beyond the limits. Runs until SIGINT/SIGTERM, then finishes in-flight
requests. The Kafka client (librdkafka when its native module loads, else kafkajs) and the number
of processes are chosen at start and logged; PANOPTES_KAFKA_CLIENT and --workers override them.`,
    run,
  },
];

/** The README's option tables, generated from the spec by `npm run docs` (pipelines/core/docs.ts). */
export const readmeSections: ReadmeSections = { 'ingest-options': () => ingestSpec.markdown() };
