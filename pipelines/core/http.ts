/**
 * Every HTTP server of the project is a fastify instance made here, so they behave alike:
 * - bodies are capped (`bodyLimit`) and validated by the route's JSON schema;
 * - every client mistake is a 4xx with a one-line JSON body `{error, message}` (schema violations
 *   400, too large 413, wrong media type 415, unknown route 404, wrong method 405), never a stack;
 *   our errors map by code (input/usage 400, not found 404, refused 429); anything else is a 500
 *   with a one-line message (the stack goes to the log);
 * - optional auth (`--bearer-token-file`, the same semantics as `panoptes ingest`) guards every
 *   route but `/metrics` and `/healthz`, and a server listening beyond loopback without auth logs a
 *   warning at start;
 * - `/metrics` (Prometheus text) and `/healthz` (200 ok / 503) when a registry is given;
 * - a taken or refused listen address is a ConfigError (exit 2, one line).
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { authChecker, type AuthConfig } from './auth.ts';
import { parseListen } from './config.ts';
import { ConfigError, isPanoptesError, type PanoptesError } from './errors.ts';
import type { Logger } from './logger.ts';
import type { HealthCheck } from './metrics.ts';
import { warnIfOpen } from './listen.ts';

export interface HttpServerOptions {
  /** Used in log lines and the auth realm. */
  name: string;
  /** Largest request body, bytes. Default 1 MiB. */
  bodyLimit?: number;
  auth?: AuthConfig;
  /** Paths that need no auth (exact). Default `/metrics`, `/healthz`. */
  openPaths?: string[];
  /** Serves `/metrics` and `/healthz` from this registry. */
  metrics?: { registry: Registry; health?: HealthCheck };
  log?: Logger;
  /** Connection timeouts (ms): a client that sends nothing is dropped. Default 60 s. */
  requestTimeoutMs?: number;
}

/** Status for one of our errors (by code), 500 for anything else. */
export function statusOf(err: PanoptesError): number {
  switch (err.code) {
    case 'PANOPTES_INPUT':
    case 'PANOPTES_USAGE':
    case 'PANOPTES_DECODE':
    case 'PANOPTES_RULE':
    case 'PANOPTES_CONFIG':
      return 400;
    case 'PANOPTES_NOT_FOUND':
      return 404;
    case 'PANOPTES_REFUSED':
      return 429;
    case 'PANOPTES_CONNECT':
    case 'PANOPTES_TRANSPORT':
      return 503;
    case 'PANOPTES_TIMEOUT':
      return 504;
    default:
      return 500;
  }
}

const oneLine = (s: string) => s.replace(/\s*\n\s*/g, '; ').slice(0, 2000);

export function sendError(reply: FastifyReply, status: number, error: string, message: string, extra: Record<string, unknown> = {}): FastifyReply {
  return reply.code(status).type('application/json').send({ error, message: oneLine(message), ...extra });
}

export function createHttpServer(o: HttpServerOptions): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: o.bodyLimit ?? 1024 * 1024,
    return503OnClosing: true,
    forceCloseConnections: true,
    requestTimeout: o.requestTimeoutMs ?? 60_000,
    // A label value may carry any character: keep the query string as the client sent it.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    ajv: { customOptions: { allErrors: true, coerceTypes: false, removeAdditional: false } },
  });

  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    if (err.validation) {
      const where = err.validationContext ?? 'body';
      const problems = err.validation.map((v) => `${where}${v.instancePath.replace(/\//g, '.')}: ${v.message ?? 'invalid'}`);
      return sendError(reply, 400, 'invalid_request', problems.join('; '), { issues: problems });
    }
    if (isPanoptesError(err)) {
      const status = statusOf(err);
      if (status >= 500) o.log?.error(`${o.name}: request failed`, { method: req.method, url: req.url, err });
      return sendError(reply, status, err.code.replace(/^PANOPTES_/, '').toLowerCase(), err.message, 'issues' in err.details ? { issues: err.details.issues } : {});
    }
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) {
      o.log?.error(`${o.name}: request failed`, { method: req.method, url: req.url, err });
      return sendError(reply, status, 'internal', `internal error: ${err.message}`);
    }
    const error = status === 413 ? 'too_large' : status === 415 ? 'unsupported_media_type' : 'invalid_request';
    return sendError(reply, status, error, err.message);
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, 404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`));

  const open = new Set(o.openPaths ?? ['/metrics', '/healthz']);
  const auth = authChecker({ realm: `panoptes-${o.name}`, ...o.auth });
  if (auth.enabled) {
    app.addHook('onRequest', async (req, reply) => {
      if (open.has(req.url.split('?')[0]!)) return;
      const r = auth.check(req.headers.authorization);
      if (r !== 'ok') {
        reply.header('WWW-Authenticate', auth.challenge);
        return sendError(reply, 401, 'unauthorized', r === 'missing' ? 'credentials required (Authorization header)' : 'invalid credentials');
      }
    });
  }

  if (o.metrics) {
    const { registry, health } = o.metrics;
    app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
    app.get('/healthz', async (_req, reply) => {
      const h = health ? health() : { ok: true };
      return reply.code(h.ok ? 200 : 503).send({ status: h.ok ? 'ok' : 'unhealthy', ...(h.detail ?? {}) });
    });
  }
  (app as FastifyInstance & { panoptesAuth?: boolean }).panoptesAuth = auth.enabled;
  return app;
}

export interface Listening {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Listens on `host:port`; a taken or refused address is a ConfigError naming `path`. Warns when the
 * address reaches beyond loopback and the server has no auth.
 */
export async function listenHttp(app: FastifyInstance, listen: string, o: { path?: string; log?: Logger; name?: string } = {}): Promise<Listening> {
  const { host, port } = parseListen(listen, o.path ?? 'listen');
  try {
    await app.listen({ host, port });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') {
      throw new ConfigError([{ path: o.path ?? 'listen', message: `cannot listen on ${host.includes(':') ? `[${host}]` : host}:${port}: ${e.code}` }]);
    }
    throw err;
  }
  const addr = app.server.address() as AddressInfo;
  const authed = (app as FastifyInstance & { panoptesAuth?: boolean }).panoptesAuth === true;
  warnIfOpen({ host, listen, authed, log: o.log, name: o.name });
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`,
    port: addr.port,
    close: () => app.close(),
  };
}
