/**
 * The dashboard stage assembled: view + live feed + topic reader + HTTP server on one runtime.
 * `panoptes dashboard` (cli.ts) and the tests start it through `startDashboard`; this file is the
 * stage's front door.
 */
import type { FastifyInstance } from 'fastify';
import { readBasicAuthFile, readBearerTokenFile, type AuthConfig } from '../core/auth.ts';
import type { Runtime } from '../core/runtime.ts';
import { startReader } from './consumer.ts';
import { LiveFeed } from './feed.ts';
import { DashboardMetrics } from './metrics.ts';
import { DashboardServer } from './server.ts';
import { dashboardOptions, type DashboardOptions } from './spec.ts';
import { DashboardView } from './view.ts';

export { dashboardOptions, dashboardSpec, type DashboardOptions, type ViewLimits } from './spec.ts';
export { DashboardView } from './view.ts';
export { InferenceStats } from './inference-stats.ts';

export interface RunningDashboard {
  url: string;
  view: DashboardView;
  /** Resolves with the error when reading the topics stops on its own. */
  failed: Promise<unknown>;
  stop(): Promise<void>;
}

/** The auth the options' files configure; ConfigError (exit 2) on a bad file. */
export function dashboardAuth(o: Pick<DashboardOptions, 'bearerTokenFile' | 'basicAuthFile'>): AuthConfig {
  const auth: AuthConfig = {};
  if (o.bearerTokenFile) auth.bearerToken = readBearerTokenFile(o.bearerTokenFile);
  if (o.basicAuthFile) auth.basicAuth = readBasicAuthFile(o.basicAuthFile);
  return auth;
}

export async function startDashboard(rt: Runtime, input: Partial<DashboardOptions> = {}, extra?: (app: FastifyInstance) => void): Promise<RunningDashboard> {
  const opts = dashboardOptions(input);
  const auth = dashboardAuth(opts);
  const dm = new DashboardMetrics(rt.metrics);
  const view = new DashboardView(opts);
  const feed = new LiveFeed(opts, {
    onSent: (t) => dm.sseEvents.labels(t).inc(),
    onClients: (n) => dm.sseClients.set(n),
    onDropped: () => dm.sseDropped.inc(),
    onRefused: () => dm.sseRefused.inc(),
  });
  // Listen first: a taken port fails before any consumer joins a group.
  let reader: Awaited<ReturnType<typeof startReader>> | null = null;
  const server = new DashboardServer({
    view,
    feed,
    metrics: dm,
    registry: rt.metrics,
    log: rt.log.child({ stage: 'dashboard' }),
    auth,
    health: () => ({ ok: reader?.healthy() ?? false, detail: { transport: rt.config.transport, series: view.seriesCount(), sseClients: feed.size } }),
    ...(extra ? { extra } : {}),
  });
  let url: string;
  try {
    url = await server.start(opts.listen);
    reader = await startReader(rt, view, feed, dm, { start: opts.start });
  } catch (err) {
    feed.close();
    await server.close();
    throw err;
  }
  const r = reader;
  return {
    url,
    view,
    failed: r.failed,
    async stop() {
      feed.close();
      await server.close();
      await r.stop();
    },
  };
}
