/**
 * Prometheus metrics for the transport layer and the `/metrics` + `/healthz` HTTP helper. Stages
 * register their own metrics on the Registry they are given; a process serves one Registry.
 */
import { createServer, type Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { parseListen } from './config.ts';

export function createRegistry(opts: { defaultMetrics?: boolean; labels?: Record<string, string> } = {}): Registry {
  const r = new Registry();
  if (opts.labels) r.setDefaultLabels(opts.labels);
  if (opts.defaultMetrics) collectDefaultMetrics({ register: r, prefix: 'panoptes_' });
  return r;
}

/** Gets a metric already registered under that name, or creates it: stages may share a Registry. */
function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export interface TransportMetrics {
  produced: Counter<'topic'>;
  producedBytes: Counter<'topic'>;
  produceLatency: Histogram<'topic'>;
  consumed: Counter<'topic' | 'group'>;
  consumedBytes: Counter<'topic' | 'group'>;
  lag: Gauge<'topic' | 'partition' | 'group'>;
  batchLatency: Histogram<'topic' | 'group'>;
  errors: Counter<'op'>;
  deadLetters: Counter<'topic' | 'reason'>;
}

export function transportMetrics(registry: Registry): TransportMetrics {
  return {
    produced: once(registry, 'panoptes_transport_produced_records_total', () => new Counter({ name: 'panoptes_transport_produced_records_total', help: 'Records acknowledged by the transport.', labelNames: ['topic'], registers: [registry] })),
    producedBytes: once(registry, 'panoptes_transport_produced_bytes_total', () => new Counter({ name: 'panoptes_transport_produced_bytes_total', help: 'Value bytes acknowledged by the transport.', labelNames: ['topic'], registers: [registry] })),
    produceLatency: once(registry, 'panoptes_transport_produce_latency_seconds', () => new Histogram({ name: 'panoptes_transport_produce_latency_seconds', help: 'Time from send to acknowledgement of a produce call.', labelNames: ['topic'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry] })),
    consumed: once(registry, 'panoptes_transport_consumed_records_total', () => new Counter({ name: 'panoptes_transport_consumed_records_total', help: 'Records handed to consumer handlers.', labelNames: ['topic', 'group'], registers: [registry] })),
    consumedBytes: once(registry, 'panoptes_transport_consumed_bytes_total', () => new Counter({ name: 'panoptes_transport_consumed_bytes_total', help: 'Value bytes handed to consumer handlers.', labelNames: ['topic', 'group'], registers: [registry] })),
    lag: once(registry, 'panoptes_transport_consumer_lag_records', () => new Gauge({ name: 'panoptes_transport_consumer_lag_records', help: 'High watermark minus the next offset to process, per partition, at the last batch.', labelNames: ['topic', 'partition', 'group'], registers: [registry] })),
    batchLatency: once(registry, 'panoptes_transport_batch_handler_seconds', () => new Histogram({ name: 'panoptes_transport_batch_handler_seconds', help: 'Time a consumer handler spent on one batch.', labelNames: ['topic', 'group'], buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [registry] })),
    errors: once(registry, 'panoptes_transport_errors_total', () => new Counter({ name: 'panoptes_transport_errors_total', help: 'Transport operation failures.', labelNames: ['op'], registers: [registry] })),
    deadLetters: once(registry, 'panoptes_dead_letters_total', () => new Counter({ name: 'panoptes_dead_letters_total', help: 'Records sent to the dead-letter topic (or skipped), by source topic and reason.', labelNames: ['topic', 'reason'], registers: [registry] })),
  };
}

export type HealthCheck = () => { ok: boolean; detail?: Record<string, unknown> };

export interface MetricsServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** Serves `/metrics` (Prometheus text format), `/healthz` (200 when every check is ok, else 503) and `/readyz` (200 when ok and ready). */
export function metricsHandler(registry: Registry, health: HealthCheck = () => ({ ok: true })) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      const body = await registry.metrics();
      res.writeHead(200, { 'Content-Type': registry.contentType });
      res.end(body);
      return true;
    }
    if (req.method === 'GET' && path === '/healthz') {
      const h = health();
      res.writeHead(h.ok ? 200 : 503, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ status: h.ok ? 'ok' : 'unhealthy', ...(h.detail ?? {}) }));
      return true;
    }
    // Readiness (a Kubernetes readinessProbe, a load balancer): 200 only when healthy and ready,
    // i.e. not while a consumer stage rebuilds its state (the check's `detail.ready`, set by
    // runStage); 503 otherwise. /healthz stays liveness: a rebuilding stage is alive.
    if (req.method === 'GET' && path === '/readyz') {
      const h = health();
      const ready = h.ok && h.detail?.ready !== false;
      res.writeHead(ready ? 200 : 503, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ status: ready ? 'ready' : h.ok ? 'not ready' : 'unhealthy', ...(h.detail ?? {}) }));
      return true;
    }
    return false;
  };
}

export async function serveMetrics(listen: string, registry: Registry, health?: HealthCheck): Promise<MetricsServer> {
  const { host, port } = parseListen(listen, 'metricsListen');
  const handle = metricsHandler(registry, health);
  const server = createServer((req, res) => {
    handle(req, res)
      .then((done) => {
        if (!done) {
          res.writeHead(404, { 'Content-Type': 'text/plain' });
          res.end('not found: try /metrics, /healthz or /readyz\n');
        }
      })
      .catch((err: unknown) => {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`metrics failed: ${String(err)}\n`);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  const actualPort = typeof addr === 'object' && addr ? addr.port : port;
  return {
    server,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
