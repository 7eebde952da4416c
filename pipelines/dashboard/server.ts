/**
 * The dashboard's HTTP side, on node:http alone:
 *   GET /                          the page (static/, read once at start; nothing from the network)
 *   GET /static/<file>             its script and style sheet
 *   GET /api/summary               counts and the inference figures
 *   GET /api/series                series with their last value and anomaly count
 *   GET /api/series/<fingerprint>  one series' recent samples and its anomalies with explanations
 *   GET /api/anomalies?limit=N     newest anomalies first
 *   GET /api/rules                 deployed rules with their training scores
 *   GET /api/incidents             incidents, newest update first, with their ranked root causes
 *   GET /api/incidents/<id>/graph.svg  the causal graph the incident's RCA used (rca/render.ts)
 *   GET /api/graphs                causal graphs on the causal-graphs topic
 *   GET /api/inference             goodput and SLO attainment over the sliding window
 *   GET /api/events                the live feed (Server-Sent Events, resumable with Last-Event-ID)
 *   GET /metrics, /healthz         Prometheus metrics and health
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Registry } from 'prom-client';
import { parseListen } from '../core/config.ts';
import { listenOn } from '../core/listen.ts';
import { describeError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { metricsHandler, type HealthCheck } from '../core/metrics.ts';
import { toSvg } from '../rca/render.ts';
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
  /** Extra routes mounted before the dashboard's own (e.g. an alerts stream); return true when handled. */
  extra?: (req: IncomingMessage, res: ServerResponse, url: URL) => boolean;
}

export class DashboardServer {
  private readonly server: Server;
  private readonly assets = loadAssets();
  private readonly ops: ReturnType<typeof metricsHandler>;
  private readonly svgCache = new Map<string, string>();
  private address: AddressInfo | null = null;

  constructor(private readonly deps: DashboardServerDeps) {
    this.ops = metricsHandler(deps.registry, deps.health);
    this.server = createServer((req, res) => this.route(req, res));
  }

  async start(listen: string): Promise<string> {
    const { host, port } = parseListen(listen, 'listen');
    await listenOn(this.server, host, port);
    this.address = this.server.address() as AddressInfo;
    return this.url;
  }

  get url(): string {
    if (!this.address) throw new Error('dashboard not started');
    const host = this.address.family === 'IPv6' ? `[${this.address.address}]` : this.address.address;
    return `http://${host}:${this.address.port}`;
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Live-feed connections never go idle on their own.
    this.server.closeAllConnections();
    await done;
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const t0 = performance.now();
    const url = new URL(req.url ?? '/', 'http://dashboard');
    let route = 'other';
    const done = (status: number) => this.deps.metrics.http.labels(route, String(status)).observe((performance.now() - t0) / 1000);
    try {
      if (this.deps.extra?.(req, res, url)) {
        route = 'extra';
        return done(res.statusCode);
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('Allow', 'GET, HEAD');
        return done(this.json(res, 405, { error: `${req.method} is not allowed; the dashboard is read-only` }));
      }
      const p = url.pathname;
      if (p === '/' || p === '/index.html') {
        route = 'page';
        return done(this.asset(res, 'index.html'));
      }
      if (p.startsWith('/static/')) {
        route = 'static';
        return done(this.asset(res, p.slice('/static/'.length)));
      }
      if (p === '/api/events') {
        route = 'events';
        if (req.method === 'HEAD') {
          res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache' });
          res.end();
          return done(200);
        }
        this.deps.feed.handle(req, res, url);
        return done(200);
      }
      if (p.startsWith('/api/')) {
        route = p.split('/').slice(0, 3).join('/');
        return done(this.api(res, p.slice('/api/'.length), url));
      }
      route = 'ops';
      this.ops(req, res)
        .then((served) => done(served ? res.statusCode : this.json(res, 404, { error: `not found: ${p}` })))
        .catch((err: unknown) => done(this.fail(res, err)));
    } catch (err) {
      done(this.fail(res, err));
    }
  }

  private api(res: ServerResponse, rest: string, url: URL): number {
    const v = this.deps.view;
    let parts: string[];
    try {
      parts = rest.split('/').map((s) => decodeURIComponent(s));
    } catch {
      return this.json(res, 400, { error: `malformed percent-encoding in /api/${rest}` });
    }
    switch (parts[0]) {
      case 'summary':
        return this.json(res, 200, v.summary(Date.now()));
      case 'series':
        if (parts.length === 1) return this.json(res, 200, v.seriesList());
        {
          const s = v.seriesDetail(parts.slice(1).join('/'));
          return s ? this.json(res, 200, s) : this.json(res, 404, { error: `no series with fingerprint ${parts.slice(1).join('/')} in the view` });
        }
      case 'anomalies': {
        const raw = url.searchParams.get('limit');
        const limit = raw === null ? 50 : Number(raw);
        if (!Number.isInteger(limit) || limit < 1) return this.json(res, 400, { error: `limit must be a positive integer, got ${JSON.stringify(raw)}` });
        return this.json(res, 200, v.recentAnomalies(limit));
      }
      case 'rules':
        return this.json(res, 200, v.ruleList());
      case 'incidents':
        if (parts.length === 1) return this.json(res, 200, v.incidentList());
        if (parts.length === 3 && parts[2] === 'graph.svg') {
          const inc = v.incidentList().find((i) => i.id === parts[1]);
          if (!inc) return this.json(res, 404, { error: `no incident ${parts[1]} in the view` });
          const g = v.graphFor(inc.rca);
          if (!g) return this.json(res, 404, { error: 'no causal graph on the causal-graphs topic yet' });
          return this.svg(res, g);
        }
        return this.json(res, 404, { error: `not found: /api/${rest}` });
      case 'graphs':
        if (parts.length === 1) return this.json(res, 200, v.graphList());
        {
          const name = parts.slice(1).join('/').replace(/\.svg$/, '');
          const g = v.graph(name);
          return g ? this.svg(res, g) : this.json(res, 404, { error: `no causal graph named ${name}` });
        }
      case 'inference':
        return this.json(res, 200, v.inference.summary(Date.now()));
      default:
        return this.json(res, 404, { error: `not found: /api/${rest}` });
    }
  }

  private svg(res: ServerResponse, g: { name: string; version: string } & Parameters<typeof toSvg>[0]): number {
    const key = `${g.name}@${g.version}`;
    let body = this.svgCache.get(key);
    if (!body) {
      body = toSvg(g);
      this.svgCache.set(key, body);
      if (this.svgCache.size > 64) this.svgCache.delete(this.svgCache.keys().next().value as string);
    }
    res.writeHead(200, { 'Content-Type': 'image/svg+xml; charset=utf-8', 'Cache-Control': 'no-cache', 'Content-Security-Policy': CSP });
    res.end(body);
    return 200;
  }

  private asset(res: ServerResponse, name: string): number {
    const a = this.assets.get(name);
    if (!a) return this.json(res, 404, { error: `no static file ${name}` });
    res.writeHead(200, { 'Content-Type': a.type, 'Cache-Control': 'no-cache', 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' });
    res.end(a.body);
    return 200;
  }

  private json(res: ServerResponse, status: number, body: unknown): number {
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify(body));
    return status;
  }

  private fail(res: ServerResponse, err: unknown): number {
    this.deps.log.error('dashboard request failed', { err: describeError(err) });
    if (!res.headersSent) return this.json(res, 500, { error: 'internal error' });
    res.destroy();
    return 500;
  }
}
