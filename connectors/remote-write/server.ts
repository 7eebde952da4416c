/**
 * The HTTP(S) side of the receiver: `POST /api/v1/write`, `GET /healthz`, `GET /metrics`.
 *
 * The promise to the client: 204 only once the sink has acknowledged every record of the
 * request; anything else leaves the request unacknowledged as a whole. Failures are sorted by
 * whether a retry can help, because Prometheus retries 5xx (and 429 with retry_on_http_429) and
 * drops on any other 4xx:
 *   - the client's mistakes (bad headers, snappy, protobuf, labels, size): 4xx + one-line reason;
 *   - too much work in flight: 429 with Retry-After, before the body is read;
 *   - the sink failing or missing the deadline: 503 with Retry-After.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { describeError, InputError } from '../../pipelines/core/errors.ts';
import { silentLogger, type Logger } from '../../pipelines/core/logger.ts';
import { metricsHandler } from '../../pipelines/core/metrics.ts';
import { parseListen } from '../../pipelines/core/config.ts';
import { listenOn, warnIfOpen } from '../../pipelines/core/listen.ts';
import { authChecker } from '../../pipelines/core/auth.ts';
import { limitsAt, receiverOptions, type ReceiverOptions } from './spec.ts';
import { receiverMetrics, type ReceiverMetrics } from './metrics.ts';
import type { MetricSink } from './sink.ts';
import { reject, rejectionOf, type RejectReason } from './wire/reject.ts';
import { snappyUncompressTransient } from './wire/snappy.ts';
import { encodeWriteRequest, type EncodedRequest } from './wire/write-request.ts';

export const WRITE_PATH = '/api/v1/write';

export interface ReceiverDeps {
  sink: MetricSink;
  registry: Registry;
  /** What GET /metrics serves, when not `registry` (a cluster worker serves all workers' sums). */
  exposition?: Registry;
  logger?: Logger;
}

type SinkOutcome = { kind: 'ok' } | { kind: 'deadline' } | { kind: 'error'; err: unknown };

export class RemoteWriteReceiver {
  readonly options: ReceiverOptions;
  readonly metrics: ReceiverMetrics;
  private readonly sink: MetricSink;
  private readonly log: Logger;
  private readonly auth: ReturnType<typeof authChecker>;
  private readonly serveOps: ReturnType<typeof metricsHandler>;
  private readonly server: Server;
  private inflight = 0;
  /**
   * False after a write the sink did not acknowledge by the deadline, until one it does: a sink
   * that hangs instead of failing (librdkafka queues through an outage) is unhealthy too.
   */
  private lastWriteAcked = true;
  private inflightBytes = 0;
  private address: AddressInfo | null = null;

  constructor(options: Partial<ReceiverOptions>, deps: ReceiverDeps) {
    this.options = receiverOptions(options);
    this.sink = deps.sink;
    this.log = deps.logger ?? silentLogger;
    this.metrics = receiverMetrics(deps.registry);
    this.auth = authChecker({ realm: 'panoptes-remote-write', ...this.options });
    this.serveOps = metricsHandler(deps.exposition ?? deps.registry, () => ({ ok: this.sink.healthy() && this.lastWriteAcked, detail: { sink: this.sink.name, inflight: this.inflight } }));
    const handler = (req: IncomingMessage, res: ServerResponse) => this.route(req, res);
    this.server = this.options.tls
      ? createHttpsServer({ cert: this.options.tls.cert, key: this.options.tls.key }, handler)
      : createHttpServer(handler);
    // Prometheus keeps connections alive between sends; a short server-side idle timeout only
    // costs it reconnects.
    this.server.keepAliveTimeout = 65_000;
  }

  /** Starts listening; resolves with the base URL (http[s]://host:port). */
  async start(): Promise<string> {
    const { host, port } = parseListen(this.options.listen, 'listen');
    await listenOn(this.server, host, port);
    this.address = this.server.address() as AddressInfo;
    warnIfOpen({ host, listen: this.options.listen, authed: this.auth.enabled, log: this.log, name: 'ingest' });
    return this.url;
  }

  get url(): string {
    if (!this.address) throw new Error('receiver not started');
    const host = this.address.family === 'IPv6' ? `[${this.address.address}]` : this.address.address;
    return `${this.options.tls ? 'https' : 'http'}://${host}:${this.address.port}`;
  }

  /** Stops accepting, lets in-flight requests finish (up to the deadline), then drops the rest. */
  async close(): Promise<void> {
    if (!this.server.listening) return;
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const force = setTimeout(() => this.server.closeAllConnections(), this.options.deadlineMs + 1000);
    force.unref();
    await done;
    clearTimeout(force);
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path === WRITE_PATH) {
      if (req.method !== 'POST') {
        this.reply(res, 405, `bad_method: ${req.method} is not allowed, use POST`, { Allow: 'POST', Connection: 'close' });
        this.count(405, 'bad_method', performance.now());
        return;
      }
      const t0 = performance.now();
      this.handleWrite(req, res, t0).catch((err: unknown) => {
        // Only a bug lands here: every client mistake is a rejection handled inside.
        this.log.error('remote-write request failed', { err: describeError(err) });
        if (!res.headersSent) this.reply(res, 500, 'internal error', { Connection: 'close' });
        this.count(500, null, t0);
      });
      return;
    }
    this.serveOps(req, res)
      .then((served) => {
        if (!served) this.reply(res, 404, `not_found: ${path}`, {});
      })
      .catch((err: unknown) => {
        this.log.error('metrics endpoint failed', { err: describeError(err) });
        if (!res.headersSent) this.reply(res, 500, 'internal error', {});
      });
  }

  private async handleWrite(req: IncomingMessage, res: ServerResponse, t0: number): Promise<void> {
    const o = this.options;
    const refuse = (status: number, reason: RejectReason, message: string, headers: Record<string, string> = {}) => {
      // Replies sent before the body is read close the connection instead of draining it.
      this.reply(res, status, `${reason}: ${message}`, { Connection: 'close', ...headers });
      this.count(status, reason, t0);
    };

    const auth = this.auth.check(req.headers.authorization);
    if (auth !== 'ok') {
      return refuse(401, 'unauthorized', auth === 'missing' ? 'credentials required' : 'invalid credentials', { 'WWW-Authenticate': this.auth.challenge });
    }
    const encoding = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
    if (encoding !== 'snappy') {
      return refuse(415, 'unsupported_encoding', `Content-Encoding must be snappy, got ${JSON.stringify(encoding)}`);
    }
    const ctype = parseContentType(req.headers['content-type']);
    if (ctype.type !== 'application/x-protobuf' || (ctype.proto !== undefined && ctype.proto !== 'prometheus.WriteRequest')) {
      return refuse(415, 'unsupported_content_type', `Content-Type must be application/x-protobuf (remote-write 1.0), got ${JSON.stringify(req.headers['content-type'] ?? '')}`);
    }
    const version = req.headers['x-prometheus-remote-write-version'];
    if (typeof version === 'string' && !/^[01]\./.test(version.trim())) {
      return refuse(415, 'unsupported_version', `remote-write version ${JSON.stringify(version)} is not supported, only 0.1.0 (1.0)`);
    }
    const declared = req.headers['content-length'] === undefined ? null : Number(req.headers['content-length']);
    if (declared !== null && declared > o.maxBodyBytes) {
      return refuse(413, 'body_too_large', `body of ${declared} bytes exceeds the limit of ${o.maxBodyBytes}`);
    }
    const reserve = declared ?? o.maxBodyBytes;
    if (this.inflight >= o.maxInflight || this.inflightBytes + reserve > o.maxInflightBytes) {
      return refuse(429, 'overloaded', `${this.inflight} requests (${this.inflightBytes} bytes) in flight`, { 'Retry-After': String(o.retryAfter) });
    }

    this.inflight++;
    this.inflightBytes += reserve;
    this.metrics.inflight.set(this.inflight);
    this.metrics.inflightBytes.set(this.inflightBytes);
    try {
      let body: Buffer;
      try {
        body = await readBody(req, o.maxBodyBytes);
      } catch (err) {
        const r = rejectionOf(err);
        if (r) return refuse(r.status, r.reason, (err as Error).message.replace(/^\w+: /, ''));
        // The client went away mid-body: nobody to answer.
        this.metrics.requests.inc({ code: 'aborted' });
        return;
      }
      this.metrics.bytes.inc({ kind: 'compressed' }, body.length);

      let decoded: EncodedRequest;
      try {
        // Transient: valid until the next request's inflation; the encoder copies what it keeps.
        const raw = snappyUncompressTransient(body, o.maxDecodedBytes);
        this.metrics.bytes.inc({ kind: 'decompressed' }, raw.length);
        const now = Date.now();
        decoded = encodeWriteRequest(raw, { schemaId: this.sink.schemaId, source: o.source, receivedAtMs: now }, limitsAt(o, now));
      } catch (err) {
        const r = rejectionOf(err);
        if (!r) throw err;
        this.log.debug('remote-write request rejected', { reason: r.reason, err: (err as Error).message });
        this.reply(res, r.status, (err as Error).message, {});
        this.count(r.status, r.reason, t0);
        return;
      }
      const m = this.metrics;
      m.seriesReceived.inc(decoded.series);
      m.samplesReceived.inc(decoded.samples);
      m.staleMarkers.inc(decoded.staleMarkers);
      m.exemplarsDropped.inc(decoded.exemplarsDropped);
      m.histogramsDropped.inc(decoded.histogramsDropped);
      m.metadataIgnored.inc(decoded.metadata);

      if (decoded.records > 0) {
        const started = performance.now();
        const outcome = await this.writeWithDeadline(decoded, Date.now() + o.deadlineMs);
        m.sinkDuration.observe({ outcome: outcome.kind }, (performance.now() - started) / 1000);
        if (outcome.kind !== 'error') this.lastWriteAcked = outcome.kind === 'ok';
        if (outcome.kind !== 'ok') {
          if (outcome.kind === 'error' && outcome.err instanceof InputError) {
            // The sink says these records can never be stored: a 503 would make Prometheus
            // resend them forever and block its queue.
            this.log.warn('sink refused records', { err: describeError(outcome.err) });
            const r = rejectionOf(outcome.err);
            this.reply(res, 400, r ? outcome.err.message : `sink_rejected: ${oneLine(outcome.err.message)}`, {});
            this.count(400, r ? r.reason : 'sink_rejected', t0);
            return;
          }
          const why = outcome.kind === 'deadline' ? `sink did not acknowledge within ${o.deadlineMs} ms` : `sink unavailable: ${oneLine(describeError(outcome.err))}`;
          this.log.warn('remote-write request not acknowledged', { why, series: decoded.series, samples: decoded.samples });
          this.reply(res, 503, why, { 'Retry-After': String(o.retryAfter) });
          this.count(503, null, t0);
          return;
        }
      }
      m.samplesAcknowledged.inc(decoded.samples);
      res.writeHead(204);
      res.end();
      this.count(204, null, t0);
    } finally {
      this.inflight--;
      this.inflightBytes -= reserve;
      this.metrics.inflight.set(this.inflight);
      this.metrics.inflightBytes.set(this.inflightBytes);
    }
  }

  /** Hands the records to the sink and waits for it, at most until the deadline. */
  private writeWithDeadline(req: EncodedRequest, deadlineMs: number): Promise<SinkOutcome> {
    let write: Promise<void>;
    try {
      write = this.sink.write(req, deadlineMs);
    } catch (err) {
      write = Promise.reject(err);
    }
    return raceDeadline(write, deadlineMs);
  }

  private reply(res: ServerResponse, status: number, message: string, headers: Record<string, string>): void {
    if (res.headersSent) return;
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
    res.end(`${oneLine(message)}\n`);
  }

  private count(status: number, reason: RejectReason | null, t0: number): void {
    const code = String(status);
    this.metrics.requests.inc({ code });
    if (reason !== null) this.metrics.rejects.inc({ reason });
    this.metrics.requestDuration.observe({ code }, (performance.now() - t0) / 1000);
  }
}

function raceDeadline(write: Promise<void>, deadlineMs: number): Promise<SinkOutcome> {
  return new Promise<SinkOutcome>((resolve) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      resolve({ kind: 'deadline' });
    }, Math.max(0, deadlineMs - Date.now()));
    write.then(
      () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ kind: 'ok' });
      },
      (err: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ kind: 'error', err });
      },
    );
  });
}

function oneLine(s: string): string {
  const line = s.replace(/[\r\n]+/g, ' ');
  return line.length > 500 ? `${line.slice(0, 500)}…` : line;
}

function parseContentType(header: string | undefined): { type: string; proto?: string } {
  if (!header) return { type: '' };
  const [type, ...params] = header.split(';');
  const out: { type: string; proto?: string } = { type: type!.trim().toLowerCase() };
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq > 0 && p.slice(0, eq).trim().toLowerCase() === 'proto') out.proto = p.slice(eq + 1).trim().replace(/^"|"$/g, '');
  }
  return out;
}

/** Reads the whole body, refusing (413) as soon as it passes `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        req.pause();
        fail(reject('body_too_large', `body exceeds the limit of ${limit} bytes`, 413));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on('error', (err) => {
      if (done) return;
      done = true;
      fail(err);
    });
    req.on('aborted', () => {
      if (done) return;
      done = true;
      fail(new Error('client aborted the request'));
    });
  });
}
