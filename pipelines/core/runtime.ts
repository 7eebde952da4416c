/**
 * What every long-running command needs, built once from validated config: logger, metrics
 * registry, connected transport with the topics created, and a serde with the schemas registered.
 * Start-up failures (Kafka or registry down, bad config) surface as one clear error, never a hang.
 */
import type { Registry } from 'prom-client';
import type { Config } from './config.ts';
import { createLogger, type Logger } from './logger.ts';
import { createRegistry, serveMetrics, type HealthCheck, type MetricsServer } from './metrics.ts';
import { createSerde, type Serde } from './serde.ts';
import { replicationFor, topicSpecs, type Replication } from './topics.ts';
import { EmbeddedTransport, type EmbeddedBroker } from './transport/embedded.ts';
import { KafkaTransport } from './transport/kafka.ts';
import { RdKafkaTransport } from './transport/rdkafka.ts';
import type { Transport } from './transport/types.ts';

export interface Runtime {
  config: Config;
  log: Logger;
  metrics: Registry;
  transport: Transport;
  serde: Serde;
  /** Starts `/metrics` + `/healthz` on config.metricsListen if set. */
  serveMetrics(health?: HealthCheck): Promise<MetricsServer | null>;
  close(): Promise<void>;
}

export function createTransport(config: Config, log: Logger, broker?: EmbeddedBroker): Transport {
  if (config.transport === 'embedded') return new EmbeddedTransport(broker);
  // rdkafka.ts loads its native module in connect(), so importing it here costs nothing.
  if (config.kafkaClient === 'librdkafka') {
    return new RdKafkaTransport({ brokers: config.brokers, clientId: config.clientId, connectTimeoutMs: config.connectTimeoutMs, requestTimeoutMs: config.requestTimeoutMs, logger: log });
  }
  return new KafkaTransport({
    brokers: config.brokers,
    clientId: config.clientId,
    connectTimeoutMs: config.connectTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
    maxInFlight: config.producerMaxInFlight,
    logger: log,
  });
}

/**
 * Creates the pipeline's missing topics, with the replication the config asks for on this cluster
 * (`replicationFor`: 3 replicas and min.insync.replicas 2 on three brokers or more, 1 on one).
 * Returns that replication, or null when every topic already existed (they are left as they are).
 */
export async function ensurePipelineTopics(transport: Transport, config: Config): Promise<Replication | null> {
  const existing = new Set(await transport.listTopics());
  if (topicSpecs(config.topicPrefix).every((s) => existing.has(s.name))) return null;
  const replication = replicationFor(config, await transport.liveBrokers());
  await transport.ensureTopics(topicSpecs(config.topicPrefix, replication));
  return replication;
}

export async function createRuntime(config: Config, opts: { stage: string; broker?: EmbeddedBroker; log?: Logger; metrics?: Registry } = { stage: 'panoptes' }): Promise<Runtime> {
  const log = opts.log ?? createLogger(config.logLevel, { stage: opts.stage });
  const metrics = opts.metrics ?? createRegistry({ defaultMetrics: true, labels: { stage: opts.stage } });
  const transport = createTransport(config, log, opts.broker);
  await transport.connect();
  let serde: Serde;
  try {
    await ensurePipelineTopics(transport, config);
    serde = await createSerde({ url: config.registryUrl, prefix: config.topicPrefix, timeoutMs: config.connectTimeoutMs });
  } catch (err) {
    await transport.close().catch(() => undefined);
    throw err;
  }
  let server: MetricsServer | null = null;
  return {
    config,
    log,
    metrics,
    transport,
    serde,
    async serveMetrics(health) {
      if (!config.metricsListen) return null;
      server = await serveMetrics(config.metricsListen, metrics, health);
      log.info('metrics listening', { url: `${server.url}/metrics` });
      return server;
    },
    async close() {
      await server?.close();
      await transport.close();
    },
  };
}
