/**
 * The KServe v2 HTTP server (what Triton clients speak), with admission at the door.
 *
 * fastify serves every route (body schemas, `bodyLimit`, one error shape) except the hot one,
 * `POST /v2/models/{name}[/versions/{v}]/infer`, which a node:http handler in front of fastify
 * (fastify's `serverFactory`) takes first and refuses on arrival, before the body is read, when it
 * cannot be served in time. Whether fastify costs the door too much is measured by
 * tests/bench/inference-door.bench.ts (README: The door); so far inconclusive on a loaded machine.
 *
 *   GET  /v2/health/live, /v2/health/ready, /v2                      (open)
 *   GET  /metrics                                                     (open)
 *   GET  /v2/models/{name}[/versions/{v}][/ready]                    model metadata / readiness
 *   POST /v2/repository/index  {"ready"?: bool}                       Triton's model-repository index
 *   POST /v2/models/{name}[/versions/{v}]/infer                      JSON, or the binary extension
 *
 * Statuses of infer: 200 ok; 400 bad body (names the expected signature); 401 without the bearer
 * token when one is configured; 404 unknown model; 413 body over the limit; 429 refused by
 * admission (at the door or in the pool; the body says why, and `panoptes_cold` when the model is
 * being loaded); 504 ran past its deadline; 500 worker failure.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { listenOn } from '../../core/listen.ts';
import { PLATFORM } from '../models/registry.ts';
import { nowMs } from '../protocol.ts';
import type { InferResult, PoolModel } from '../types.ts';
import type { InferencePool } from '../pool.ts';
import { bearerAuth } from './auth.ts';
import { BodyError, HEADER_LENGTH, decodeBinaryBody, decodeJsonBody, encodeResponse } from './binary.ts';
import type { DecodedRequest } from './binary.ts';
import { Door } from './door.ts';
import type { DoorEstimate, Encoding } from './door.ts';
import { FastDoor } from './fast-door.ts';
import type { Exchange } from './fast-door.ts';
import type { ParsePool } from './parse-pool.ts';
import { repositoryIndexSchema } from './schema.ts';

export interface InferenceServerOptions {
  /** Largest request body accepted, bytes (413 above it). */
  bodyLimit?: number;
  /** When set, every route but /metrics and /v2/health/* needs `Authorization: Bearer <token>`. */
  bearerToken?: string;
  /** Refuse at the door (before reading the body) what cannot be served in time. Default true. */
  doorAdmission?: boolean;
  /** Parse JSON bodies of at least `parsePool.offloadBytes` on these worker threads. */
  parsePool?: ParsePool;
  /**
   * Read the hot route straight off the socket (http/fast-door.ts) instead of through node:http.
   * Default true; false serves it through node:http (same door, same answers, dearer per request).
   */
  fastDoor?: boolean;
}

export interface InferenceServer {
  server: Server;
  app: FastifyInstance;
  door: Door;
  listen(host: string, port: number): Promise<AddressInfo>;
  close(): Promise<void>;
}

export const DEFAULT_BODY_LIMIT = 8 * 1024 * 1024;
const JSON_TYPE = 'application/json';
const INFER_ROUTE = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?\/infer$/;

function statusCode(r: InferResult): number {
  switch (r.status) {
    case 'ok':
      return 200;
    case 'late':
      return 504;
    case 'rejected':
      return 429;
    case 'error':
      return r.error.code === 'PANOPTES_NOT_FOUND' ? 404 : r.error.code === 'PANOPTES_INPUT' ? 400 : 500;
  }
}

function parameters(r: InferResult): Record<string, string | number | boolean> {
  const l = r.latency;
  return {
    panoptes_status: r.status,
    queue_ms: l.queueMs,
    batch_wait_ms: l.batchWaitMs,
    exec_ms: l.execMs,
    total_ms: l.totalMs,
    batch_size: l.batchSize,
    ...(l.deliverMs !== undefined ? { deliver_ms: l.deliverMs } : {}),
    ...(r.status === 'rejected' && r.cold ? { panoptes_cold: true } : {}),
  };
}

function sendJson(ex: Exchange, status: number, body: unknown, headers: Record<string, string | number> = {}): void {
  ex.send(status, { 'content-type': JSON_TYPE, ...headers }, JSON.stringify(body));
}

function decodePart(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** The door's view of a node:http request (connections node:http serves: see fast-door.ts). */
class NodeExchange implements Exchange {
  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {}
  header(name: string): string | undefined {
    const v = this.req.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  }
  send(status: number, headers: Record<string, string | number>, body: Buffer | string): void {
    this.res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
    this.res.end(body);
  }
  readBody(limit: number, done: (body: Buffer | null) => void, gone: () => void): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    this.req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) over = true;
      else if (!over) chunks.push(c);
    });
    this.req.on('error', gone);
    this.req.on('close', gone);
    this.req.on('end', () => done(over ? null : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
  }
  get destroyed(): boolean {
    return this.res.destroyed;
  }
}

export function createInferenceServer(pool: InferencePool, registry: Registry, opts: InferenceServerOptions = {}): InferenceServer {
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const auth = bearerAuth(opts.bearerToken);
  const door = new Door(pool.loopLag);
  const doorAdmission = opts.doorAdmission ?? true;

  /** 401 unless the request carries the token; true when it may go on. */
  const authorized = (ex: Exchange): boolean => {
    const a = auth.check(ex.header('authorization'));
    if (a === 'ok') return true;
    sendJson(ex, 401, { error: a === 'missing' ? 'credentials required: Authorization: Bearer <token>' : 'invalid credentials' }, { 'www-authenticate': auth.challenge });
    return false;
  };

  const refuse = (res: Exchange, status: number, error: string, extra: Record<string, unknown> = {}, headers: Record<string, string | number> = {}) =>
    sendJson(res, status, { error, ...extra }, { 'x-panoptes-status': status === 429 ? 'rejected' : 'error', ...headers });

  /** The hot path: door admission, body, decode, pool, answer. */
  const infer = (res: Exchange, name: string, version: string | undefined): void => {
    const seen = nowMs();
    const model = pool.model(name);
    if (!model || (version !== undefined && version !== model.version))
      return refuse(res, 404, `model ${JSON.stringify(name)}${version !== undefined ? ` version ${JSON.stringify(version)}` : ''} is not served`);
    const served = model;
    const declared = res.header('content-length');
    const length = declared === undefined ? undefined : Number(declared);
    if (length !== undefined && length > bodyLimit) return refuse(res, 413, `request body of ${length} bytes is over the limit of ${bodyLimit} bytes`, {}, { connection: 'close' });
    const hl = res.header(HEADER_LENGTH);
    const headerLength = hl === undefined ? undefined : Number(hl);
    if (headerLength !== undefined && !(Number.isInteger(headerLength) && headerLength >= 2)) return refuse(res, 400, `${HEADER_LENGTH} must be a positive integer, got ${JSON.stringify(hl)}`);
    const enc: Encoding = headerLength === undefined ? 'json' : 'binary';
    const parsePool = opts.parsePool;
    const offload = enc === 'json' && parsePool !== undefined && parsePool.available && (length ?? 0) >= parsePool.offloadBytes;
    const est: DoorEstimate = offload ? door.estimateOffloaded(seen, length ?? 0, parsePool!.backlogMs()) : door.estimate(seen, enc, length ?? 0);
    const slo = pool.sloOf(model.name)!;
    if (doorAdmission) {
      // Rows are known before parsing only for binary data: its size over one row's bytes.
      const rows = enc === 'binary' && length !== undefined && headerLength !== undefined ? Math.max(1, Math.floor((length - headerLength) / rowBytesOf(model))) : 1;
      const d = pool.admitAtDoor(model.name, rows, est.arrivedAt + slo, est.atScheduler);
      if (!d.ok) {
        // The refusal past capacity, tens of thousands a second: its body is written as text, with
        // constant headers, instead of through objects and JSON.stringify.
        const e = d.estimate;
        const body =
          '{"error":' +
          JSON.stringify('rejected at the door: ' + d.reason) +
          ',"parameters":{"panoptes_status":"rejected","panoptes_stage":"door","lag_ms":' +
          num(est.lagMs) +
          ',"parse_backlog_ms":' +
          num(door.parseBacklogMs) +
          (e ? ',"start_ms":' + num(e.startMs) + ',"queued_ahead_ms":' + num(e.aheadMs) + ',"exec_ms":' + num(e.ownMs) + ',"noise_ms":' + num(e.noiseMs) + ',"headroom_ms":' + num(e.headroomMs) : '') +
          (d.cold ? ',"panoptes_cold":true}}' : '}}');
        return res.send(429, d.cold ? DOOR_COLD_HEADERS : DOOR_HEADERS, body);
      }
    }
    if (!offload) door.enter(est);
    let left = offload;
    const leave = () => {
      if (!left) {
        left = true;
        door.leave(est);
      }
    };
    res.readBody(bodyLimit, (body) => {
      if (body === null) {
        leave();
        return refuse(res, 413, `request body over the limit of ${bodyLimit} bytes`, {}, { connection: 'close' });
      }
      const bytes = body.length;
      const run = (decoded: DecodedRequest): void => {
        const pending = pool.infer({
          model: served.name,
          ...(version !== undefined ? { version } : {}),
          inputs: decoded.inputs as never,
          arrivedAt: est.arrivedAt,
          ...(decoded.deadlineMs !== undefined ? { deadlineMs: decoded.deadlineMs } : {}),
        });
        leave();
        void pending.then((result) => answer(res, served.name, decoded, result));
      };
      if (offload) {
        // The body's bytes move to the parse worker (detached here).
        void parsePool!.parse(body, est.parseMs).then((r) => {
          if (!r.ok) return refuse(res, r.bodyError ? 400 : 500, r.bodyError ? r.message : `the request body could not be parsed: ${r.message}`);
          door.cost.observe('json', bytes, r.ms);
          run(r.decoded);
        });
        return;
      }
      const t0 = performance.now();
      let decoded: DecodedRequest;
      try {
        decoded = headerLength === undefined ? decodeJsonBody(body) : decodeBinaryBody(body, headerLength);
      } catch (err) {
        leave();
        return refuse(res, 400, err instanceof BodyError ? err.message : `malformed request body: ${(err as Error).message}`);
      }
      run(decoded);
      // run() checked the tensors synchronously (pool.infer): that is part of the parse.
      door.cost.observe(enc, bytes, performance.now() - t0);
    }, leave);
  };

  const answer = (res: Exchange, name: string, decoded: DecodedRequest, result: InferResult): void => {
    if (res.destroyed) return;
    const id = decoded.id !== undefined ? { id: decoded.id } : {};
    const headers = { 'x-panoptes-status': result.status };
    if (result.status === 'ok') {
      const enc = encodeResponse({ model_name: name, model_version: result.version, ...id, parameters: parameters(result) }, result.outputs, decoded.binaryOutputs);
      const { 'content-length': _length, ...encHeaders } = enc.headers;
      res.send(200, { ...encHeaders, ...headers }, enc.body);
      return;
    }
    const error =
      result.status === 'rejected' ? `rejected: ${result.reason}` : result.status === 'error' ? result.error.message : 'deadline exceeded: the result came after the deadline';
    sendJson(res, statusCode(result), { error, ...id, parameters: parameters(result) }, result.status === 'rejected' && result.cold ? { ...headers, 'retry-after': 1 } : headers);
  };

  /** `POST …/infer` (path already matched by INFER_ROUTE): auth, percent-decoding, the door. */
  const route = (ex: Exchange, path: string, m: RegExpExecArray): void => {
    if (!authorized(ex)) return;
    const name = decodePart(m[1]!);
    const version = m[2] === undefined ? undefined : decodePart(m[2]);
    if (name === undefined || (m[2] !== undefined && version === undefined)) return refuse(ex, 400, `malformed percent-encoding in ${JSON.stringify(path.slice(0, 200))}`);
    infer(ex, name, version);
  };

  let fastifyHandler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  let fast: FastDoor | undefined;
  const app = Fastify({
    bodyLimit,
    serverFactory: (handler) => {
      fastifyHandler = handler;
      const server = createServer((req, res) => {
        if (req.method === 'POST') {
          const path = (req.url ?? '/').split('?')[0]!;
          const m = INFER_ROUTE.exec(path);
          if (m) return route(new NodeExchange(req, res), path, m);
        }
        fastifyHandler!(req, res);
      });
      if (opts.fastDoor ?? true) {
        // Every connection starts with the fast door; it hands to node:http what it does not serve.
        const httpConnection = server.listeners('connection')[0] as (socket: Socket) => void;
        server.removeListener('connection', httpConnection);
        fast = new FastDoor(
          (path) => INFER_ROUTE.exec(path),
          route,
          (socket) => httpConnection.call(server, socket),
        );
        server.on('connection', (socket: Socket) => fast!.accept(socket));
      }
      return server;
    },
  });

  // Health and metrics stay open (probes and scrapers carry no token); the rest needs it.
  const open = (url: string) => url.startsWith('/v2/health/') || /^\/(metrics|healthz)(\?|$)/.test(url);
  app.addHook('onRequest', (req, reply, done) => {
    if (!auth.enabled || open(req.url)) return done();
    const a = auth.check(req.headers.authorization);
    if (a === 'ok') return done();
    void reply.code(401).header('www-authenticate', auth.challenge).send({ error: a === 'missing' ? 'credentials required: Authorization: Bearer <token>' : 'invalid credentials' });
  });
  app.setNotFoundHandler((req, reply) => void reply.code(404).send({ error: `no route for ${req.method} ${req.url.split('?')[0]}` }));
  app.setErrorHandler((err: { statusCode?: number; message: string }, _req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    void reply.code(status).send({ error: err.message.split('\n')[0] });
  });

  app.get('/v2/health/live', async () => ({ live: true }));
  // The project's health route, as every other server has it.
  app.get('/healthz', async (_req, reply) => reply.code(pool.ready ? 200 : 503).send({ status: pool.ready ? 'ok' : 'unavailable' }));
  app.get('/v2/health/ready', async (_req, reply) => reply.code(pool.ready ? 200 : 503).send({ ready: pool.ready }));
  app.get('/v2', async () => ({ name: 'panoptes-inference', version: '0.1.0', extensions: ['binary_tensor_data', 'model_repository'] }));
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));

  type ModelParams = { name: string; version?: string };
  const found = (p: ModelParams) => {
    const model = pool.model(p.name);
    return model !== undefined && (p.version === undefined || p.version === model.version) ? model : undefined;
  };
  const notServed = (p: ModelParams) => ({ error: `model ${JSON.stringify(p.name)}${p.version !== undefined ? ` version ${JSON.stringify(p.version)}` : ''} is not served` });
  const metadata = async (req: { params: ModelParams }, reply: { code(n: number): { send(b: unknown): unknown } }) => {
    const model = found(req.params);
    if (!model) return reply.code(404).send(notServed(req.params));
    return reply.code(200).send({
      name: model.name,
      versions: [model.version],
      platform: PLATFORM,
      inputs: model.signature.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })),
      outputs: model.signature.outputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })),
    });
  };
  const readiness = async (req: { params: ModelParams }, reply: { code(n: number): { send(b: unknown): unknown } }) => {
    const model = found(req.params);
    if (!model) return reply.code(404).send(notServed(req.params));
    return reply.code(pool.ready ? 200 : 503).send({ name: model.name, ready: pool.ready });
  };
  app.get<{ Params: ModelParams }>('/v2/models/:name', metadata);
  app.get<{ Params: ModelParams }>('/v2/models/:name/versions/:version', metadata);
  app.get<{ Params: ModelParams }>('/v2/models/:name/ready', readiness);
  app.get<{ Params: ModelParams }>('/v2/models/:name/versions/:version/ready', readiness);

  // Triton's model-repository extension: every served model is READY (a cold one is loaded on its
  // first request); `panoptes_resident` tells whether a worker holds it now.
  app.post<{ Body: { ready?: boolean } | undefined }>('/v2/repository/index', { schema: { body: repositoryIndexSchema } }, async (req) =>
    pool.modelNames().map((n) => ({ name: n, version: pool.model(n)!.version, state: pool.ready ? 'READY' : 'UNAVAILABLE', reason: pool.ready ? '' : 'no worker is ready', panoptes_resident: pool.isResident(n) })).filter((e) => req.body?.ready !== true || e.state === 'READY'),
  );

  return {
    server: app.server,
    app,
    door,
    async listen(host, port) {
      await app.ready();
      return listenOn(app.server, host, port);
    },
    async close() {
      // fastify closes only a server it started listening itself: close ours, idle keep-alive
      // connections at once, busy ones when their response is written.
      const closed = new Promise<void>((resolve) => (app.server.listening ? app.server.close(() => resolve()) : resolve()));
      app.server.closeIdleConnections();
      fast?.close();
      await app.close();
      await closed;
    },
  };
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

/** A number as JSON text, rounded to 0.01 (JSON.stringify's null for a non-finite one). */
function num(v: number): string {
  return Number.isFinite(v) ? String(round(v)) : 'null';
}

/** The headers of a door refusal (the same as `refuse` writes for a 429). */
const DOOR_HEADERS: Record<string, string | number> = { 'content-type': JSON_TYPE, 'x-panoptes-status': 'rejected' };
const DOOR_COLD_HEADERS: Record<string, string | number> = { ...DOOR_HEADERS, 'retry-after': 1 };

const rowBytes = new WeakMap<PoolModel, number>();
/** Bytes of one row of a model's FP32 inputs (binary tensor data), computed once per model. */
function rowBytesOf(model: PoolModel): number {
  let b = rowBytes.get(model);
  if (b === undefined) rowBytes.set(model, (b = model.signature.inputs.reduce((a, t) => a + 4 * t.shape.slice(1).reduce((x, y) => x * Math.max(1, y), 1), 0)));
  return b;
}
