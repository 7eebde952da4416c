/**
 * The alerts connector's front door: what other folders (the dashboard, the CLI, tests of other
 * stages) may import. Everything else in this folder is internal.
 */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from '../../pipelines/core/logger.ts';
import type { Serde } from '../../pipelines/core/serde.ts';
import type { Transport } from '../../pipelines/core/transport/types.ts';
import { AlertLog } from './log.ts';
import { alertsMetrics } from './metrics.ts';
import { AlertStreams, registerStreamRoute, STREAM_PATH } from './sse.ts';

export { AlertsServer, readAlertsSecrets, type AlertsDeps } from './server.ts';
export { alertsSpec, type AlertsOptions } from './spec.ts';
export { verifySignature, signature, SIGNATURE_HEADER } from './sign.ts';
export { compileSelectors, matchesAny, parseSelector } from './matchers.ts';
export { refusedAddressClass } from './egress.ts';
export { STREAM_PATH } from './sse.ts';
export type { AlertEvent, AlertKind } from './events.ts';

export interface AlertsStreamMount {
  /** `/v1/alerts/stream`. */
  path: string;
  /** Adds the route to a fastify server (before it listens). */
  register(app: FastifyInstance): void;
  stop(): Promise<void>;
}

export interface AlertsStreamDeps {
  transport: Transport;
  serde: Serde;
  prefix: string;
  registry: Registry;
  log: Logger;
}

/**
 * The alerts SSE stream (`GET /v1/alerts/stream?match[]=…`, resumable by Kafka-offset cursors) for
 * another server to serve on its own port: starts an alert log over the topics and returns the
 * route to register. The dashboard's `--alerts-stream` uses it.
 */
export async function startAlertsStream(deps: AlertsStreamDeps, o: { bufferPerPartition?: number; heartbeatMs?: number; maxStreams?: number } = {}): Promise<AlertsStreamMount> {
  const metrics = alertsMetrics(deps.registry);
  const log = new AlertLog({ transport: deps.transport, serde: deps.serde, prefix: deps.prefix, bufferPerPartition: o.bufferPerPartition ?? 1000, log: deps.log, metrics });
  await log.start();
  const streams = new AlertStreams({ log, heartbeatMs: o.heartbeatMs ?? 15_000, maxStreams: o.maxStreams ?? 256, metrics });
  return {
    path: STREAM_PATH,
    register: (app) => registerStreamRoute(app, streams),
    async stop() {
      streams.closeAll();
      await log.stop();
    },
  };
}
