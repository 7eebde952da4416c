/**
 * The alerts server: the subscription API, SSE streams, webhook workers and the Alertmanager
 * pusher around one alert log.
 *
 *   POST   /v1/subscriptions               create (JSON body; 201 with the webhook secret, once)
 *   GET    /v1/subscriptions               list (secrets redacted)
 *   GET    /v1/subscriptions/{id}          one subscription
 *   DELETE /v1/subscriptions/{id}          delete (204)
 *   GET    /v1/subscriptions/{id}/stream   SSE of that subscription's alerts
 *   GET    /v1/alerts/stream?match[]=…     SSE with ad-hoc selectors (sse.ts)
 *   GET    /metrics, GET /healthz
 *
 * Start order matters: subscriptions and their delivery cursors are loaded, the webhook workers
 * and the Alertmanager pusher attach to the log, and only then does the log start reading, so
 * each of them sees every event from the topics' start and skips what its cursor says is done.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { parseListen } from '../../pipelines/core/config.ts';
import { listenOn } from '../../pipelines/core/listen.ts';
import { describeError } from '../../pipelines/core/errors.ts';
import { silentLogger, type Logger } from '../../pipelines/core/logger.ts';
import { metricsHandler } from '../../pipelines/core/metrics.ts';
import type { Serde } from '../../pipelines/core/serde.ts';
import type { Producer, Transport } from '../../pipelines/core/transport/types.ts';
import { AlertmanagerPusher } from './alertmanager.ts';
import { alertsOptions, type AlertsOptions } from './config.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { AlertLog } from './log.ts';
import { alertsMetrics, forgetSubscription, type AlertsMetrics } from './metrics.ts';
import { badRequest, createStreamHandler, sendJson, type SseStreams } from './sse.ts';
import { SubscriptionStore } from './store.ts';
import { publicView, subscriptionFilter, subscriptionFromRequest, SubscriptionInvalid, type Subscription } from './subscription.ts';
import { WebhookWorker } from './webhook.ts';

export interface AlertsDeps {
  transport: Transport;
  serde: Serde;
  prefix: string;
  registry: Registry;
  log?: Logger;
  fetch?: typeof fetch;
}

const SUB_PATH = /^\/v1\/subscriptions\/([A-Za-z0-9_-]{1,100})(\/stream)?$/;

export class AlertsServer {
  readonly options: AlertsOptions;
  readonly metrics: AlertsMetrics;
  readonly log: AlertLog;
  readonly store: SubscriptionStore;
  readonly pusher: AlertmanagerPusher | null;
  private readonly logger: Logger;
  private readonly workers = new Map<string, WebhookWorker>();
  private readonly stream: { handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>; streams: SseStreams };
  private readonly serveOps: ReturnType<typeof metricsHandler>;
  private readonly server: Server;
  private producer: Producer | null = null;
  private address: AddressInfo | null = null;

  constructor(options: Partial<AlertsOptions>, private readonly deps: AlertsDeps) {
    this.options = alertsOptions(options);
    this.logger = deps.log ?? silentLogger;
    this.metrics = alertsMetrics(deps.registry);
    this.log = new AlertLog({ transport: deps.transport, serde: deps.serde, prefix: deps.prefix, bufferPerPartition: this.options.bufferPerPartition, log: this.logger, metrics: this.metrics });
    this.store = new SubscriptionStore(deps.transport, deps.prefix, this.logger);
    this.pusher = this.options.alertmanager.length > 0
      ? new AlertmanagerPusher({ urls: this.options.alertmanager, tickMs: this.options.tickMs, timeoutMs: this.options.alertmanagerTimeoutMs, resendMs: this.options.resendMs, anomalyHoldMs: this.options.anomalyHoldMs, externalUrl: this.options.externalUrl }, { metrics: this.metrics, log: this.logger, fetch: deps.fetch })
      : null;
    this.stream = createStreamHandler({ log: this.log, heartbeatMs: this.options.heartbeatMs, metrics: this.metrics });
    this.serveOps = metricsHandler(deps.registry, () => ({ ok: this.log.healthy, detail: { subscriptions: this.store.list().length, sseClients: this.stream.streams.count, alertmanager: this.pusher ? (this.pusher.healthy ? 'ok' : 'failing') : 'off' } }));
    this.server = createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => {
        this.logger.error('alerts request failed', { err: describeError(err), url: req.url });
        if (!res.headersSent) sendJson(res, 500, { error: 'internal', message: describeError(err) });
        else res.end();
      });
    });
  }

  /** Loads subscriptions, starts workers, the pusher and the log, then listens; resolves with the base URL. */
  async start(): Promise<string> {
    await this.store.load();
    this.producer = await this.deps.transport.producer();
    const { host, port } = parseListen(this.options.listen, 'listen');
    await listenOn(this.server, host, port);
    this.address = this.server.address() as AddressInfo;
    for (const s of this.store.list()) if (s.webhook) this.startWorker(s, decodeCursor(this.store.getProgress(s.id) ?? '1:'));
    if (this.pusher && !this.options.externalUrl) this.pusher.state.setExternalUrl(this.url);
    this.pusher?.attach(this.log);
    await this.log.start();
    return this.url;
  }

  get url(): string {
    if (!this.address) throw new Error('alerts server not started');
    return `http://${this.address.family === 'IPv6' ? `[${this.address.address}]` : this.address.address}:${this.address.port}`;
  }

  async close(): Promise<void> {
    this.stream.streams.closeAll();
    if (this.server.listening) {
      const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.server.closeAllConnections();
      await done;
    }
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
    this.workers.clear();
    await this.pusher?.stop();
    await this.log.stop();
    await this.producer?.close();
    await this.store.close();
  }

  private startWorker(s: Subscription, from: Map<string, string>): void {
    const w = new WebhookWorker(s, from, { store: this.store, producer: this.producer!, prefix: this.deps.prefix, metrics: this.metrics, log: this.logger, fetch: this.deps.fetch });
    this.workers.set(s.id, w);
    w.start(this.log);
  }

  private count(route: string, code: number): void {
    this.metrics.httpRequests.inc({ route, code: String(code) });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (await this.serveOps(req, res)) return;
    if (await this.stream.handle(req, res)) {
      this.count('stream', res.statusCode);
      return;
    }
    if (path === '/v1/subscriptions') {
      if (req.method === 'GET') {
        sendJson(res, 200, { subscriptions: this.store.list().map(publicView) });
        this.count('list', 200);
        return;
      }
      if (req.method === 'POST') return this.create(req, res);
      sendJson(res, 405, { error: 'method_not_allowed', message: 'use GET or POST on /v1/subscriptions' }, { Allow: 'GET, POST' });
      this.count('subscriptions', 405);
      return;
    }
    const m = SUB_PATH.exec(path);
    if (m) {
      const sub = this.store.get(m[1]);
      if (!sub) {
        sendJson(res, 404, { error: 'not_found', message: `no subscription ${m[1]}` });
        this.count('subscription', 404);
        return;
      }
      if (m[2]) {
        if (req.method !== 'GET') {
          sendJson(res, 405, { error: 'method_not_allowed', message: 'use GET on a subscription stream' }, { Allow: 'GET' });
          return;
        }
        try {
          await this.stream.streams.serve(req, res, subscriptionFilter(sub));
        } catch (err) {
          badRequest(res, err);
        }
        this.count('subscription_stream', res.statusCode);
        return;
      }
      if (req.method === 'GET') {
        sendJson(res, 200, publicView(sub));
        this.count('subscription', 200);
        return;
      }
      if (req.method === 'DELETE') {
        await this.workers.get(sub.id)?.stop();
        this.workers.delete(sub.id);
        await this.store.delete(sub.id);
        forgetSubscription(this.metrics, sub.id);
        res.writeHead(204).end();
        this.count('delete', 204);
        this.logger.info('subscription deleted', { id: sub.id });
        return;
      }
      sendJson(res, 405, { error: 'method_not_allowed', message: 'use GET or DELETE on a subscription' }, { Allow: 'GET, DELETE' });
      return;
    }
    sendJson(res, 404, { error: 'not_found', message: `no route for ${req.method} ${path}` });
    this.count('unknown', 404);
  }

  private async create(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > this.options.maxBodyBytes) {
        sendJson(res, 413, { error: 'body_too_large', message: `request body exceeds ${this.options.maxBodyBytes} bytes` }, { Connection: 'close' });
        this.count('create', 413);
        req.destroy();
        return;
      }
      chunks.push(c as Buffer);
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (err) {
      sendJson(res, 400, { error: 'invalid_json', message: `request body is not JSON: ${(err as Error).message}`, issues: [] });
      this.count('create', 400);
      return;
    }
    let sub: Subscription;
    try {
      sub = subscriptionFromRequest(body, Date.now());
    } catch (err) {
      if (!(err instanceof SubscriptionInvalid)) throw err;
      badRequest(res, err);
      this.count('create', 400);
      return;
    }
    // A new webhook subscription starts at the partitions' current ends: alerts from now on.
    const from = await this.log.endCursor();
    await this.store.put(sub, sub.webhook ? encodeCursor(from) : undefined);
    if (sub.webhook) this.startWorker(sub, from);
    this.logger.info('subscription created', { id: sub.id, match: sub.match, webhook: sub.webhook?.url ?? null });
    sendJson(res, 201, sub, { Location: `/v1/subscriptions/${sub.id}` });
    this.count('create', 201);
  }
}
