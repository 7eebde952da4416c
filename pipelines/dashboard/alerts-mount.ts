/**
 * Mounts the alerts connector's SSE stream (`GET /v1/alerts/stream?match[]=...`, resumable by
 * Kafka-offset cursors; connectors/alerts/sse.ts) on the dashboard's port, so a user who wants the
 * page and an alert stream runs one process. The dashboard's own feed (/api/events) stays: it
 * also carries metric samples and rules, which alerts do not.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AlertLog } from '../../connectors/alerts/log.ts';
import { alertsMetrics } from '../../connectors/alerts/metrics.ts';
import { createStreamHandler, STREAM_PATH } from '../../connectors/alerts/sse.ts';
import { describeError } from '../core/errors.ts';
import type { Runtime } from '../core/runtime.ts';

export interface AlertsMount {
  path: string;
  route(req: IncomingMessage, res: ServerResponse, url: URL): boolean;
  stop(): Promise<void>;
}

export async function mountAlertsStream(rt: Runtime, o: { bufferPerPartition?: number; heartbeatMs?: number } = {}): Promise<AlertsMount> {
  const log = rt.log.child({ stage: 'dashboard', part: 'alerts-stream' });
  const metrics = alertsMetrics(rt.metrics);
  const alertLog = new AlertLog({ transport: rt.transport, serde: rt.serde, prefix: rt.config.topicPrefix, bufferPerPartition: o.bufferPerPartition ?? 1000, log, metrics });
  await alertLog.start();
  const h = createStreamHandler({ log: alertLog, heartbeatMs: o.heartbeatMs ?? 15_000, metrics });
  return {
    path: STREAM_PATH,
    route(req, res, url) {
      if (url.pathname !== STREAM_PATH) return false;
      h.handle(req, res).catch((err: unknown) => {
        log.error('alerts stream failed', { err: describeError(err) });
        if (!res.headersSent) res.writeHead(500).end();
        else res.end();
      });
      return true;
    },
    async stop() {
      h.streams.closeAll();
      await alertLog.stop();
    },
  };
}
