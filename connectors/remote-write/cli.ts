/**
 * `panoptes ingest`: runs the remote-write receiver until SIGINT/SIGTERM. Records go to the
 * `metrics` topic of whichever transport the config selects (Kafka with PANOPTES_BROKERS, else
 * embedded), or nowhere with --null-sink (decode only, for measuring). With --workers N, N
 * processes share the listen port (cluster.ts).
 */
import { readFileSync } from 'node:fs';
import type { Registry } from 'prom-client';
import type { CliCommand, CliOption, ParsedArgs } from '../../pipelines/core/cli-types.ts';
import { loadConfig } from '../../pipelines/core/config.ts';
import { ConfigError, UsageError } from '../../pipelines/core/errors.ts';
import { untilAborted } from '../../pipelines/core/lifecycle.ts';
import { createLogger, type Logger } from '../../pipelines/core/logger.ts';
import { createRegistry } from '../../pipelines/core/metrics.ts';
import { createRuntime, type Runtime } from '../../pipelines/core/runtime.ts';
import { topicName } from '../../pipelines/core/topics.ts';
import { readBasicAuthFile, readBearerTokenFile } from '../../pipelines/core/auth.ts';
import { RECEIVER_DEFAULTS, receiverOptions, type ReceiverOptions } from './config.ts';
import { RemoteWriteReceiver, WRITE_PATH } from './server.ts';
import { NullSink, type MetricSink } from './sink.ts';
import { TopicSink } from './topic-sink.ts';

export const INGEST_OPTIONS: CliOption[] = [
  { name: 'listen', type: 'string', placeholder: 'HOST:PORT', default: RECEIVER_DEFAULTS.listen, description: 'Address to serve POST /api/v1/write, GET /healthz and GET /metrics on.' },
  { name: 'max-body-bytes', type: 'number', default: RECEIVER_DEFAULTS.maxBodyBytes, description: 'Largest snappy-compressed body accepted; larger requests get 413.' },
  { name: 'max-decoded-bytes', type: 'number', default: RECEIVER_DEFAULTS.maxDecodedBytes, description: 'Largest uncompressed WriteRequest (checked against the snappy header before inflating); larger get 413.' },
  { name: 'deadline-ms', type: 'number', default: RECEIVER_DEFAULTS.deadlineMs, description: 'How long Kafka may take to acknowledge a request\'s records; past it the reply is 503 and Prometheus retries.' },
  { name: 'max-inflight', type: 'number', default: RECEIVER_DEFAULTS.maxInflight, description: 'Requests in progress at once; beyond it the reply is 429 with Retry-After.' },
  { name: 'max-inflight-bytes', type: 'number', default: RECEIVER_DEFAULTS.maxInflightBytes, description: 'Compressed bytes of the requests in progress; beyond it the reply is 429. At least --max-body-bytes.' },
  { name: 'retry-after', type: 'number', default: RECEIVER_DEFAULTS.retryAfterS, description: 'Seconds in the Retry-After header of 429 and 503 replies.' },
  { name: 'bearer-token-file', type: 'string', placeholder: 'FILE', description: 'Require `Authorization: Bearer <token>`; the file holds the token.' },
  { name: 'basic-auth-file', type: 'string', placeholder: 'FILE', description: 'Require HTTP basic auth; the file holds one line `username:password`.' },
  { name: 'tls-cert', type: 'string', placeholder: 'FILE', description: 'PEM certificate (chain): serve HTTPS. Needs --tls-key.' },
  { name: 'tls-key', type: 'string', placeholder: 'FILE', description: 'PEM private key of --tls-cert.' },
  { name: 'null-sink', type: 'boolean', description: 'Decode and validate, then drop: no Kafka, no registry (for measuring the receiver alone).' },
  { name: 'workers', type: 'number', default: 1, description: 'Receiver processes sharing the listen port (node:cluster), each with its own Kafka producer; limits apply per process, /metrics sums all.' },
];

export const MAX_WORKERS = 32;

/** A running receiver and what it writes to, as one process (or one cluster worker) runs it. */
export interface Ingest {
  url: string;
  sink: string;
  transport: string;
  log: Logger;
  close(): Promise<void>;
}

/**
 * Starts one receiver from CLI options: validates them first (a bad option fails before anything
 * connects), then opens the sink and listens. `exposition`, when given, is what GET /metrics
 * serves instead of this process's registry.
 */
export async function openIngest(args: ParsedArgs, exposition?: (own: Registry) => Registry): Promise<Ingest> {
  const receiverOpts = receiverOptions(receiverOptionsFromArgs(args));
  let runtime: Runtime | null = null;
  let sink: MetricSink;
  let log: Logger;
  let registry: Registry;
  if (args.options['null-sink']) {
    const config = loadConfig();
    log = createLogger(config.logLevel, { stage: 'remote-write' });
    registry = createRegistry({ defaultMetrics: true, labels: { stage: 'remote-write' } });
    sink = new NullSink();
  } else {
    runtime = await createRuntime(loadConfig(), { stage: 'remote-write' });
    log = runtime.log;
    registry = runtime.metrics;
    const topic = topicName('metrics', runtime.config.topicPrefix);
    try {
      // Records the client was told to resend (503 at the deadline) are given up on, not stored
      // later as well: librdkafka would otherwise keep them queued through an outage.
      sink = new TopicSink({ producer: await runtime.transport.producer({ deliveryTimeoutMs: receiverOpts.deadlineMs }), serde: runtime.serde, topic, registry });
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
    transport: runtime?.transport.kind ?? 'none',
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

export function workerCount(args: ParsedArgs): number {
  const n = args.options.workers === undefined ? 1 : (args.options.workers as number);
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS) throw new UsageError(`--workers must be an integer from 1 to ${MAX_WORKERS}, got ${n}`);
  return n;
}

/** CLI values → receiver options; reads the secret and certificate files. */
export function receiverOptionsFromArgs(args: ParsedArgs): Partial<ReceiverOptions> {
  const o = args.options;
  const num = (k: string) => (o[k] === undefined ? undefined : (o[k] as number));
  const str = (k: string) => (o[k] === undefined ? undefined : String(o[k]));
  const out: Partial<ReceiverOptions> = {
    listen: str('listen') ?? RECEIVER_DEFAULTS.listen,
    maxBodyBytes: num('max-body-bytes'),
    maxDecodedBytes: num('max-decoded-bytes'),
    deadlineMs: num('deadline-ms'),
    maxInflight: num('max-inflight'),
    maxInflightBytes: num('max-inflight-bytes'),
    retryAfterS: num('retry-after'),
  };
  const bearer = str('bearer-token-file');
  if (bearer) out.bearerToken = readBearerTokenFile(bearer);
  const basic = str('basic-auth-file');
  if (basic) out.basicAuth = readBasicAuthFile(basic);
  const cert = str('tls-cert');
  const key = str('tls-key');
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  if (cert && key) {
    const read = (path: string, k: string) => {
      try {
        return readFileSync(path);
      } catch (err) {
        throw new ConfigError([{ path: k, message: `cannot read ${path}: ${(err as Error).message}` }]);
      }
    };
    out.tls = { cert: read(cert, 'tlsCert'), key: read(key, 'tlsKey') };
  }
  return out;
}

export const commands: CliCommand[] = [
  {
    name: 'ingest',
    summary: 'Prometheus remote-write 1.0 receiver: one Avro MetricBatch per series on the metrics topic.',
    usage: '[--listen HOST:PORT] [options]',
    options: INGEST_OPTIONS,
    requiresBroker: (args) => args.options['null-sink'] !== true,
    help: `Point Prometheus's remote_write at http://HOST:PORT${WRITE_PATH} (see connectors/remote-write/README.md).
Replies 204 only once Kafka acknowledged every record of the request (acks=all), 503 when Kafka is
down or slower than --deadline-ms, 429 on overload, 4xx with a one-line reason on malformed input.
Runs until SIGINT/SIGTERM, then finishes in-flight requests. Fastest measured: PANOPTES_KAFKA_CLIENT=librdkafka
with --workers 2 (connectors/remote-write/README.md, Throughput).`,
    async run(args, io) {
      const workers = workerCount(args);
      if (workers > 1) {
        // Validated here too, so a bad option is a usage error of this process, not N workers.
        receiverOptions(receiverOptionsFromArgs(args));
        const { runPrimary } = await import('./cluster.ts');
        return runPrimary(workers, args, io);
      }
      const ingest = await openIngest(args);
      try {
        ingest.log.info('remote-write receiver listening', { url: ingest.url, sink: ingest.sink, transport: ingest.transport });
        io.out(io.json ? JSON.stringify({ url: ingest.url, sink: ingest.sink }) : `listening on ${ingest.url} (sink: ${ingest.sink})`);
        await untilAborted(io.signal);
        ingest.log.info('remote-write receiver stopping');
      } finally {
        await ingest.close();
      }
      return 0;
    },
  },
];
