/**
 * The alerts server: the subscription API, SSE streams, webhook workers and the Alertmanager
 * pusher around one alert log, on fastify (pipelines/core/http.ts: body limit and schema, one-line
 * JSON errors, optional auth on everything but /metrics and /healthz).
 *
 *   POST   /v1/subscriptions               create (JSON body; 201 with the webhook secret, once)
 *   GET    /v1/subscriptions               list (secrets never shown)
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
import type { FastifyError, FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { readBasicAuthFile, readBearerTokenFile, type AuthConfig } from '../../pipelines/core/auth.ts';
import { describeError } from '../../pipelines/core/errors.ts';
import { createHttpServer, listenHttp, sendError, type Listening } from '../../pipelines/core/http.ts';
import { silentLogger, type Logger } from '../../pipelines/core/logger.ts';
import type { Serde } from '../../pipelines/core/serde.ts';
import type { Producer, Transport } from '../../pipelines/core/transport/types.ts';
import { AlertmanagerPusher } from './alertmanager.ts';
import { decodeCursor, encodeCursor, type Cursor } from './cursor.ts';
import { checkWebhookUrl, type EgressPolicy } from './egress.ts';
import { AlertLog } from './log.ts';
import { alertsMetrics, forgetSubscription, type AlertsMetrics } from './metrics.ts';
import { WebhookKeyring } from './secrets.ts';
import { alertsSpec, type AlertsOptions } from './spec.ts';
import { AlertStreams, badRequest, registerStreamRoute, STREAM_PATH } from './sse.ts';
import { SubscriptionStore } from './store.ts';
import { publicView, SUBSCRIPTION_BODY, subscriptionFilter, subscriptionFromRequest, SubscriptionInvalid, type Subscription } from './subscription.ts';
import { WebhookWorker, type PostFn } from './webhook.ts';

export interface AlertsDeps {
  transport: Transport;
  serde: Serde;
  prefix: string;
  registry: Registry;
  log?: Logger;
  /** Alertmanager POSTs (tests). */
  fetch?: typeof fetch;
  /** Webhook POSTs (tests); default: egress.ts's checked POST. */
  post?: PostFn;
  /** Name resolution of the egress policy (tests); default: the system resolver. */
  resolve?: EgressPolicy['resolve'];
}

/** What the options' files hold: read at construction, so a bad file fails before anything connects. */
export interface AlertsSecrets {
  auth: AuthConfig;
  keyring: WebhookKeyring | null;
  warnings: string[];
}

/** Reads the auth and master-secret files the options name; ConfigError (exit 2) on a bad one. */
export function readAlertsSecrets(o: Pick<AlertsOptions, 'bearerTokenFile' | 'basicAuthFile' | 'webhookSecretFile'>): AlertsSecrets {
  const auth: AuthConfig = {};
  if (o.bearerTokenFile) auth.bearerToken = readBearerTokenFile(o.bearerTokenFile);
  if (o.basicAuthFile) auth.basicAuth = readBasicAuthFile(o.basicAuthFile);
  const warnings: string[] = [];
  let keyring: WebhookKeyring | null = null;
  if (o.webhookSecretFile) {
    const k = WebhookKeyring.fromFile(o.webhookSecretFile);
    keyring = k.keyring;
    if (k.warning) warnings.push(k.warning);
  }
  return { auth, keyring, warnings };
}

const OTHER_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'] as const;

export class AlertsServer {
  readonly options: AlertsOptions;
  readonly metrics: AlertsMetrics;
  readonly log: AlertLog;
  readonly store: SubscriptionStore;
  readonly pusher: AlertmanagerPusher | null;
  readonly streams: AlertStreams;
  private readonly logger: Logger;
  private readonly secrets: AlertsSecrets;
  private readonly policy: EgressPolicy;
  private readonly workers = new Map<string, WebhookWorker>();
  /** Subscriptions loaded from the topic that cannot run (a selector RE2 refuses, a secret that does not open), with why. */
  private readonly broken = new Map<string, string>();
  private readonly app: FastifyInstance;
  private producer: Producer | null = null;
  private listening: Listening | null = null;
  private creating = 0;

  constructor(options: Partial<AlertsOptions>, private readonly deps: AlertsDeps) {
    this.options = alertsSpec.parse(options) as AlertsOptions;
    this.secrets = readAlertsSecrets(this.options);
    this.logger = deps.log ?? silentLogger;
    this.policy = { allowPrivate: this.options.webhookAllowPrivate, ...(deps.resolve ? { resolve: deps.resolve } : {}) };
    this.metrics = alertsMetrics(deps.registry);
    this.log = new AlertLog({ transport: deps.transport, serde: deps.serde, prefix: deps.prefix, bufferPerPartition: this.options.bufferPerPartition, log: this.logger, metrics: this.metrics });
    this.store = new SubscriptionStore(deps.transport, deps.prefix, this.logger);
    this.pusher = this.options.alertmanager.length > 0
      ? new AlertmanagerPusher({ urls: this.options.alertmanager, tickMs: this.options.tickMs, timeoutMs: this.options.alertmanagerTimeoutMs, resendMs: this.options.resendMs, anomalyHoldMs: this.options.anomalyHoldMs, maxAlerts: this.options.maxAlertmanagerAlerts, externalUrl: (this.options.externalUrl ?? '').replace(/\/+$/, '') }, { metrics: this.metrics, log: this.logger, fetch: deps.fetch })
      : null;
    this.streams = new AlertStreams({ log: this.log, heartbeatMs: this.options.heartbeatMs, maxStreams: this.options.maxStreams, metrics: this.metrics });
    this.app = createHttpServer({
      name: 'alerts',
      bodyLimit: this.options.maxBodyBytes,
      auth: this.secrets.auth,
      log: this.logger,
      metrics: {
        registry: deps.registry,
        health: () => ({
          ok: this.log.healthy,
          detail: {
            subscriptions: this.store.list().length,
            sseClients: this.streams.count,
            alertmanager: this.pusher ? (this.pusher.healthy ? 'ok' : 'failing') : 'off',
            ...(this.broken.size > 0 ? { brokenSubscriptions: this.broken.size } : {}),
          },
        }),
      },
    });
    this.routes();
  }

  /** Loads subscriptions, starts workers, the pusher and the log, then listens; resolves with the base URL. */
  async start(): Promise<string> {
    for (const w of this.secrets.warnings) this.logger.warn(w);
    await this.store.load();
    this.producer = await this.deps.transport.producer();
    this.listening = await listenHttp(this.app, this.options.listen, { log: this.logger, name: 'alerts' });
    for (const s of this.store.list()) {
      try {
        subscriptionFilter(s);
      } catch (err) {
        this.markBroken(s, `its selectors do not compile under RE2: ${(err as Error).message}`);
        continue;
      }
      if (s.webhook) this.startWorker(s, decodeCursor(this.store.getProgress(s.id) ?? '1:'), null);
    }
    this.metrics.subscriptions.set(this.store.list().length);
    if (this.pusher && !this.options.externalUrl) this.pusher.state.setExternalUrl(this.url);
    this.pusher?.attach(this.log);
    await this.log.start();
    return this.url;
  }

  get url(): string {
    if (!this.listening) throw new Error('alerts server not started');
    return this.listening.url;
  }

  async close(): Promise<void> {
    this.streams.closeAll();
    await this.app.close();
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
    this.workers.clear();
    await this.pusher?.stop();
    await this.log.stop();
    await this.producer?.close();
    await this.store.close();
  }

  private markBroken(s: Subscription, why: string): void {
    this.broken.set(s.id, why);
    this.logger.error('subscription cannot run; delete and re-create it', { id: s.id, why });
  }

  /** Starts delivering; `secret` is the clear one at creation, else opened from the stored record. */
  private startWorker(s: Subscription, from: Cursor, secret: string | null): void {
    let key = secret;
    try {
      if (key === null) {
        if (s.webhook!.sealedSecret !== undefined) {
          if (!this.secrets.keyring) throw new Error('its webhook secret is sealed and this server was started without --webhook-secret-file');
          key = this.secrets.keyring.open(s.webhook!.sealedSecret, s.id);
        } else if (s.webhook!.secret !== undefined) key = s.webhook!.secret;
        else throw new Error('its webhook has no secret');
      }
      const w = new WebhookWorker(s, from, { store: this.store, producer: this.producer!, prefix: this.deps.prefix, metrics: this.metrics, log: this.logger, secret: key, policy: this.policy, maxQueue: this.options.maxWebhookQueue, ...(this.deps.post ? { post: this.deps.post } : {}) });
      this.workers.set(s.id, w);
      w.start(this.log);
    } catch (err) {
      this.markBroken(s, describeError(err));
    }
  }

  private routes(): void {
    const app = this.app;
    const count = (route: string, code: number) => this.metrics.httpRequests.inc({ route, code: String(code) });
    app.addHook('onResponse', async (req, reply) => {
      const route = req.routeOptions.url;
      if (route && route !== '/metrics' && route !== '/healthz') count(route, reply.statusCode);
    });
    const notAllowed = (url: string, allow: string[]) => {
      const methods = OTHER_METHODS.filter((m) => !allow.includes(m));
      app.route({ method: [...methods], url, handler: async (req, reply) => {
        reply.header('Allow', allow.join(', '));
        return sendError(reply, 405, 'method_not_allowed', `use ${allow.join(' or ')} on ${req.routeOptions.url}`);
      } });
    };

    app.get('/v1/subscriptions', async () => ({ subscriptions: this.store.list().map(publicView) }));
    app.post('/v1/subscriptions', { schema: { body: SUBSCRIPTION_BODY }, attachValidation: true }, async (req, reply) => {
      if (this.store.list().length + this.creating >= this.options.maxSubscriptions) {
        this.metrics.refused.inc({ reason: 'subscriptions' });
        return sendError(reply, 429, 'too_many_subscriptions', `this server holds at most ${this.options.maxSubscriptions} subscriptions (--max-subscriptions); delete one first`);
      }
      this.creating++;
      try {
        const schemaErrors = (req.validationError as FastifyError | undefined)?.validation ?? [];
        let created;
        try {
          created = subscriptionFromRequest(req.body, Date.now(), { keyring: this.secrets.keyring, schemaErrors });
          if (created.sub.webhook) {
            try {
              await checkWebhookUrl(created.sub.webhook.url, this.policy);
            } catch (err) {
              throw new SubscriptionInvalid([{ path: 'webhook.url', message: (err as Error).message }]);
            }
          }
        } catch (err) {
          return badRequest(reply, err);
        }
        const { sub, secret } = created;
        // A new webhook subscription starts at the partitions' current ends: alerts from now on.
        const from = await this.log.endCursor();
        await this.store.put(sub, sub.webhook ? encodeCursor(from) : undefined);
        this.metrics.subscriptions.set(this.store.list().length);
        if (sub.webhook) this.startWorker(sub, from, secret);
        this.logger.info('subscription created', { id: sub.id, match: sub.match, webhook: sub.webhook?.url ?? null });
        const view = publicView(sub);
        const body = sub.webhook ? { ...view, webhook: { ...(view.webhook as object), secret } } : view;
        return reply.code(201).header('Location', `/v1/subscriptions/${sub.id}`).send(body);
      } finally {
        this.creating--;
      }
    });
    notAllowed('/v1/subscriptions', ['GET', 'POST']);

    const find = (id: string) => this.store.get(id);
    app.get<{ Params: { id: string } }>('/v1/subscriptions/:id', async (req, reply) => {
      const sub = find(req.params.id);
      if (!sub) return sendError(reply, 404, 'not_found', `no subscription ${req.params.id}`);
      const why = this.broken.get(sub.id);
      return { ...publicView(sub), ...(why ? { broken: why } : {}) };
    });
    app.delete<{ Params: { id: string } }>('/v1/subscriptions/:id', async (req, reply) => {
      const sub = find(req.params.id);
      if (!sub) return sendError(reply, 404, 'not_found', `no subscription ${req.params.id}`);
      const worker = this.workers.get(sub.id);
      await worker?.stop();
      this.workers.delete(sub.id);
      this.broken.delete(sub.id);
      await this.store.delete(sub.id);
      forgetSubscription(this.metrics, sub.id, worker?.partitions() ?? []);
      this.metrics.subscriptions.set(this.store.list().length);
      this.logger.info('subscription deleted', { id: sub.id });
      return reply.code(204).send();
    });
    notAllowed('/v1/subscriptions/:id', ['GET', 'DELETE']);

    app.get<{ Params: { id: string } }>('/v1/subscriptions/:id/stream', async (req, reply) => {
      const sub = find(req.params.id);
      if (!sub) return sendError(reply, 404, 'not_found', `no subscription ${req.params.id}`);
      let filter;
      try {
        filter = subscriptionFilter(sub);
      } catch (err) {
        return sendError(reply, 409, 'broken_subscription', `subscription ${sub.id} cannot run: ${(err as Error).message}`);
      }
      await this.streams.serve(req, reply, filter);
      return reply;
    });
    notAllowed('/v1/subscriptions/:id/stream', ['GET']);

    registerStreamRoute(app, this.streams);
    notAllowed(STREAM_PATH, ['GET']);
  }
}
