/**
 * Server-Sent Events: `GET /v1/alerts/stream?match[]=...&severity=...&kind=...` (ad hoc) and the
 * same stream for a stored subscription. Exported as a handler any node:http server can mount
 * (the dashboard does).
 *
 * Every event's `id` is a cursor (cursor.ts): the next Kafka offset of every partition after that
 * event. A client that reconnects with `Last-Event-ID` (browsers' EventSource do it by
 * themselves; `?last_event_id=` works too) gets exactly the events after it: none lost, none
 * repeated, as long as they are still in the server's replay buffer (`gap` events say when not).
 * Without an id the stream starts at the partitions' current ends. Comment lines every
 * heartbeat interval keep proxies from closing idle streams. A client that stops reading is
 * disconnected once too much is queued for it; it resumes from its last id, so this loses nothing.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConfigIssue } from '../../pipelines/core/errors.ts';
import { InputError } from '../../pipelines/core/errors.ts';
import { decodeCursor, encodeCursor, tpKey, type Cursor } from './cursor.ts';
import type { Severity } from '../../pipelines/core/records.ts';
import { eventMatches, type AlertEvent, type AlertKind, type EventFilter } from './events.ts';
import type { AlertLog } from './log.ts';
import type { AlertsMetrics } from './metrics.ts';
import { SubscriptionInvalid, subscriptionFilter, validateFilter } from './subscription.ts';

export const STREAM_PATH = '/v1/alerts/stream';

export interface StreamOptions {
  log: AlertLog;
  heartbeatMs: number;
  /** Bytes queued for a slow client before it is disconnected. */
  maxQueuedBytes?: number;
  metrics?: AlertsMetrics;
}

/** The JSON each SSE `data:` line (and each webhook body) carries. */
export function eventPayload(e: AlertEvent): Record<string, unknown> {
  return { kind: e.kind, id: e.id, severity: e.severity, labels: e.labels, source: e.source, timestampMs: e.timestampMs, record: e.record };
}

function listParam(q: URLSearchParams, ...names: string[]): string[] {
  return names.flatMap((n) => q.getAll(n)).flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Reads an ad-hoc filter from the query string; throws SubscriptionInvalid with every problem. */
export function filterFromQuery(q: URLSearchParams): EventFilter {
  const match = q.getAll('match[]').concat(q.getAll('match'));
  const severities = listParam(q, 'severity', 'severity[]');
  const kinds = listParam(q, 'kind', 'kind[]');
  const issues: ConfigIssue[] = [];
  validateFilter(issues, { match: 'match[]', severities: 'severity', kinds: 'kind' }, match, severities, kinds);
  if (issues.length > 0) throw new SubscriptionInvalid(issues);
  return subscriptionFilter({ match, severities: severities as Severity[], kinds: kinds as AlertKind[] });
}

/** Streams until the client goes away. Throws InputError (before any byte is written) on a bad Last-Event-ID. */
export class SseStreams {
  private readonly open = new Set<ServerResponse>();

  constructor(private readonly o: StreamOptions) {}

  get count(): number {
    return this.open.size;
  }

  async serve(req: IncomingMessage, res: ServerResponse, filter: EventFilter): Promise<void> {
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    const lastId = (req.headers['last-event-id'] as string | undefined) ?? q.get('last_event_id') ?? undefined;
    let cursor: Cursor;
    if (lastId !== undefined && lastId !== '') cursor = decodeCursor(lastId);
    else cursor = await this.o.log.endCursor();
    // The client may have gone while the end offsets were fetched: 'close' would not come again.
    if (res.destroyed || req.socket.destroyed) return;
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    this.open.add(res);
    this.o.metrics?.sseClients.inc();
    // The first id tells a client that saw nothing yet where "now" was, so even its first
    // reconnect resumes instead of starting over at a later end.
    res.write(`retry: 2000\nid: ${encodeCursor(cursor)}\nevent: hello\ndata: {}\n\n`);
    const maxQueued = this.o.maxQueuedBytes ?? 8 * 1024 * 1024;
    let closed = false;
    let unfollow: () => void = () => {};
    let beat: NodeJS.Timeout | undefined;
    const close = () => {
      if (closed) return;
      closed = true;
      unfollow();
      clearInterval(beat);
      this.open.delete(res);
      this.o.metrics?.sseClients.dec();
      if (!res.writableEnded) res.end();
    };
    const send = (e: AlertEvent) => {
      if (closed) return;
      cursor.set(tpKey(e.source.topic, e.source.partition), (BigInt(e.source.offset) + 1n).toString());
      if (!eventMatches(filter, e)) return;
      res.write(`id: ${encodeCursor(cursor)}\nevent: ${e.kind}\ndata: ${JSON.stringify(eventPayload(e))}\n\n`);
      this.o.metrics?.sseEvents.inc();
      if (res.writableLength > maxQueued) close();
    };
    unfollow = this.o.log.follow(new Map(cursor), send, (topic, partition, wantedFrom, firstKept) => {
      res.write(`event: gap\ndata: ${JSON.stringify({ topic, partition, wantedFrom, firstKept, reason: 'records evicted from the replay buffer' })}\n\n`);
    });
    if (closed) {
      // Closed while replaying (too much queued): the listener was registered after close ran.
      unfollow();
      return;
    }
    beat = setInterval(() => {
      if (!closed) res.write(`: heartbeat ${Date.now()}\n\n`);
    }, this.o.heartbeatMs);
    beat.unref();
    // The response's 'close' is the one that means "connection gone" for a request whose body
    // nobody reads; the request's own 'close' is about its body.
    res.on('close', close);
    if (res.destroyed) close();
  }

  /** Ends every open stream (server shutdown): clients reconnect elsewhere with their last id. */
  closeAll(): void {
    for (const res of this.open) res.end();
  }
}

/**
 * A handler for `GET /v1/alerts/stream` that another server can mount: answers the stream or a
 * JSON 400, and returns false for other paths so the caller can route them.
 */
export function createStreamHandler(o: StreamOptions): { handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>; streams: SseStreams } {
  const streams = new SseStreams(o);
  return {
    streams,
    async handle(req, res) {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== STREAM_PATH) return false;
      if (req.method !== 'GET') {
        sendJson(res, 405, { error: 'method_not_allowed', message: `use GET on ${STREAM_PATH}` }, { Allow: 'GET' });
        return true;
      }
      try {
        const filter = filterFromQuery(new URL(req.url ?? '/', 'http://x').searchParams);
        await streams.serve(req, res, filter);
      } catch (err) {
        if (!res.headersSent) badRequest(res, err);
        else res.end();
      }
      return true;
    },
  };
}

export function sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Client mistakes become 400 with every problem listed; anything else is rethrown. */
export function badRequest(res: ServerResponse, err: unknown): void {
  if (err instanceof SubscriptionInvalid) sendJson(res, 400, { error: 'invalid_request', message: err.message, issues: err.issues });
  else if (err instanceof InputError) sendJson(res, 400, { error: 'invalid_request', message: err.message, issues: [] });
  else throw err;
}
