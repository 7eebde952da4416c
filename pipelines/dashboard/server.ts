/**
 * The dashboard's HTTP side, on fastify (pipelines/core/http.ts: one-line JSON errors, optional
 * auth on everything but /metrics and /healthz, /metrics and /healthz):
 *   GET /                          the page (static/, read once at start; nothing from the network)
 *   GET /static/<file>             its script and style sheet
 *   GET /api/summary               counts and the inference figures
 *   GET /api/series                series with their last value and anomaly count
 *   GET /api/series/<fingerprint>  one series' recent samples and its anomalies with explanations
 *   GET /api/anomalies?limit=N     newest anomalies first
 *   GET /api/rules                 deployed rules with their training scores
 *   GET /api/incidents             incidents, newest update first, with their ranked root causes
 *   GET /api/incidents/<id>/graph.svg  the causal graph the incident's RCA used (rca's toSvg)
 *   GET /api/graphs                causal graphs on the causal-graphs topic
 *   GET /api/inference             goodput and SLO attainment over the sliding window
 *   GET /api/events                the live feed (Server-Sent Events, resumable with Last-Event-ID)
 *   GET /metrics, /healthz         Prometheus metrics and health
 * Every other method answers 405: the dashboard is read-only.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Registry } from 'prom-client';
import type { AuthConfig } from '../core/auth.ts';
import { createHttpServer, listenHttp, sendError, type Listening } from '../core/http.ts';
import type { Logger } from '../core/logger.ts';
import type { HealthCheck } from '../core/metrics.ts';
import { toSvg } from '../rca/index.ts';
import type { LiveFeed } from './feed.ts';
import type { DashboardMetrics } from './metrics.ts';
import type { DashboardView } from './view.ts';

const STATIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'static');
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * Same-origin only: the page may load nothing from elsewhere, so a dashboard on an air-gapped
 * network looks the same as anywhere, and injected markup cannot call out.
 */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

interface Asset {
  body: Buffer;
  type: string;
}

function loadAssets(): Map<string, Asset> {
  const m = new Map<string, Asset>();
  for (const f of readdirSync(STATIC_DIR)) {
    const type = TYPES[extname(f)];
    if (type) m.set(f, { body: readFileSync(join(STATIC_DIR, f)), type });
  }
  return m;
}

export interface DashboardServerDeps {
  view: DashboardView;
  feed: LiveFeed;
  metrics: DashboardMetrics;
  registry: Registry;
  log: Logger;
  health: HealthCheck;
  auth?: AuthConfig;
  /** More routes on the same server (e.g. the alerts stream), registered before it listens. */
  extra?: (app: FastifyInstance) => void;
}

export class DashboardServer {
  private readonly app: FastifyInstance;
  private readonly assets = loadAssets();
  private readonly svgCache = new Map<string, string>();
  private listening: Listening | null = null;

  constructor(private readonly deps: DashboardServerDeps) {
    this.app = createHttpServer({ name: 'dashboard', bodyLimit: 1024, auth: deps.auth, log: deps.log, metrics: { registry: deps.registry, health: deps.health } });
    this.routes();
  }

  async start(listen: string): Promise<string> {
    this.listening = await listenHttp(this.app, listen, { log: this.deps.log, name: 'dashboard' });
    return this.url;
  }

  get url(): string {
    if (!this.listening) throw new Error('dashboard not started');
    return this.listening.url;
  }

  async close(): Promise<void> {
    // Live-feed connections never go idle on their own: the feed is closed first, and the
    // server destroys what is left (forceCloseConnections).
    await this.app.close();
  }

  private routes(): void {
    const app = this.app;
    const v = this.deps.view;
    const observe = (route: string, status: number, startedNs: bigint) => this.deps.metrics.http.labels(route, String(status)).observe(Number(process.hrtime.bigint() - startedNs) / 1e9);
    app.addHook('onRequest', async (req, reply) => {
      (req as { startedNs?: bigint }).startedNs = process.hrtime.bigint();
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        reply.header('Allow', 'GET, HEAD');
        return sendError(reply, 405, 'method_not_allowed', `${req.method} is not allowed; the dashboard is read-only`);
      }
    });
    app.addHook('onResponse', async (req, reply) => {
      const url = req.routeOptions.url;
      const route = url === undefined ? 'other' : url === '/' || url === '/index.html' ? 'page' : url.startsWith('/static/') ? 'static' : url.startsWith('/api/') ? url.split('/').slice(0, 3).join('/') : 'ops';
      observe(route, reply.statusCode, (req as { startedNs?: bigint }).startedNs ?? process.hrtime.bigint());
    });
    this.deps.extra?.(app);

    app.get('/', async (_req, reply) => this.asset(reply, 'index.html'));
    app.get('/index.html', async (_req, reply) => this.asset(reply, 'index.html'));
    app.get<{ Params: { '*': string } }>('/static/*', async (req, reply) => this.asset(reply, req.params['*']));

    app.head('/api/events', async (_req, reply) => reply.code(200).header('Content-Type', 'text/event-stream; charset=utf-8').header('Cache-Control', 'no-cache').send());
    app.get('/api/events', { exposeHeadRoute: false }, async (req, reply) => {
      const started = process.hrtime.bigint();
      reply.hijack();
      const served = this.deps.feed.handle(req.raw, reply.raw, new URL(req.url, 'http://dashboard'));
      // The feed counts until its headers: the stream itself lasts as long as the client stays.
      observe('events', served ? 200 : 503, started);
      return reply;
    });

    const json = (reply: FastifyReply, body: unknown) => reply.header('Cache-Control', 'no-store').send(body);
    app.get('/api/summary', async (_req, reply) => json(reply, v.summary(Date.now())));
    app.get('/api/series', async (_req, reply) => json(reply, v.seriesList()));
    app.get<{ Params: { '*': string } }>('/api/series/*', async (req, reply) => {
      const fp = req.params['*'];
      const s = v.seriesDetail(fp);
      return s ? json(reply, s) : sendError(reply, 404, 'not_found', `no series with fingerprint ${fp} in the view`);
    });
    app.get<{ Querystring: { limit?: string } }>('/api/anomalies', async (req, reply) => {
      const raw = req.query.limit;
      const limit = raw === undefined ? 50 : Number(raw);
      if (!Number.isInteger(limit) || limit < 1) return sendError(reply, 400, 'invalid_request', `limit must be a positive integer, got ${JSON.stringify(raw)}`);
      return json(reply, v.recentAnomalies(limit));
    });
    app.get('/api/rules', async (_req, reply) => json(reply, v.ruleList()));
    app.get('/api/incidents', async (_req, reply) => json(reply, v.incidentList()));
    app.get<{ Params: { id: string } }>('/api/incidents/:id/graph.svg', async (req, reply) => {
      const inc = v.incidentList().find((i) => i.id === req.params.id);
      if (!inc) return sendError(reply, 404, 'not_found', `no incident ${req.params.id} in the view`);
      const g = v.graphFor(inc.rca);
      if (!g) return sendError(reply, 404, 'not_found', 'no causal graph on the causal-graphs topic yet');
      return this.svg(reply, g);
    });
    app.get('/api/graphs', async (_req, reply) => json(reply, v.graphList()));
    app.get<{ Params: { '*': string } }>('/api/graphs/*', async (req, reply) => {
      const name = req.params['*'].replace(/\.svg$/, '');
      const g = v.graph(name);
      return g ? this.svg(reply, g) : sendError(reply, 404, 'not_found', `no causal graph named ${name}`);
    });
    app.get('/api/inference', async (_req, reply) => json(reply, v.inference.summary(Date.now())));
  }

  private svg(reply: FastifyReply, g: { name: string; version: string } & Parameters<typeof toSvg>[0]): FastifyReply {
    const key = `${g.name}@${g.version}`;
    let body = this.svgCache.get(key);
    if (!body) {
      body = toSvg(g);
      this.svgCache.set(key, body);
      if (this.svgCache.size > 64) this.svgCache.delete(this.svgCache.keys().next().value as string);
    }
    return reply.type('image/svg+xml; charset=utf-8').header('Cache-Control', 'no-cache').header('Content-Security-Policy', CSP).send(body);
  }

  private asset(reply: FastifyReply, name: string): FastifyReply {
    const a = this.assets.get(name);
    if (!a) return sendError(reply, 404, 'not_found', `no static file ${name}`);
    return reply.type(a.type).header('Cache-Control', 'no-cache').header('Content-Security-Policy', CSP).header('X-Content-Type-Options', 'nosniff').send(a.body);
  }
}
