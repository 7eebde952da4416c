/**
 * Server-Sent Events: `GET /v1/alerts/stream?match[]=...&severity=...&kind=...` (ad hoc) and the
 * same stream for a stored subscription, written by the one SSE helper (pipelines/core/sse.ts:
 * heartbeats, back-pressure, a cap on open streams). `registerStreamRoute` mounts the ad-hoc
 * stream on any fastify server (the dashboard's too).
 *
 * Every event's `id` is a cursor (cursor.ts): the next Kafka offset of every partition after that
 * event. A client that reconnects with `Last-Event-ID` (browsers' EventSource do it by
 * themselves; `?last_event_id=` works too) gets exactly the events after it: none lost, none
 * repeated, as long as they are still in the server's replay buffer (`gap` events say when not).
 * Without an id the stream starts at the partitions' current ends. A client that stops reading is
 * disconnected once too much is queued for it; it resumes from its last id, so this loses nothing.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ConfigIssue } from '../../pipelines/core/errors.ts';
import { InputError } from '../../pipelines/core/errors.ts';
import { sendError } from '../../pipelines/core/http.ts';
import type { Severity } from '../../pipelines/core/records.ts';
import { SseHub } from '../../pipelines/core/sse.ts';
import { decodeCursor, encodeCursor, tpKey, type Cursor } from './cursor.ts';
import { eventMatches, eventPayload, type AlertEvent, type AlertKind, type EventFilter } from './events.ts';
import type { AlertLog } from './log.ts';
import type { AlertsMetrics } from './metrics.ts';
import { SubscriptionInvalid, validateFilter } from './subscription.ts';

export const STREAM_PATH = '/v1/alerts/stream';

export interface StreamOptions {
  log: AlertLog;
  heartbeatMs: number;
  /** Open streams at most; one more answers 503 with Retry-After. */
  maxStreams: number;
  /** Bytes queued for a slow client before it is disconnected. Default 8 MiB. */
  maxQueuedBytes?: number;
  metrics?: AlertsMetrics;
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
  const selectors = validateFilter(issues, { match: 'match[]', severities: 'severity', kinds: 'kind' }, match, severities, kinds);
  if (issues.length > 0) throw new SubscriptionInvalid(issues);
  return { selectors, severities: severities as Severity[], kinds: kinds as AlertKind[] };
}

/** Client mistakes become 400 `invalid_request` with every problem listed; anything else is rethrown. */
export function badRequest(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof SubscriptionInvalid) return sendError(reply, 400, 'invalid_request', err.message, { issues: err.issues });
  if (err instanceof InputError) return sendError(reply, 400, 'invalid_request', err.message, { issues: [] });
  throw err;
}

/** The open alert streams of one server, capped. */
export class AlertStreams {
  private readonly hub: SseHub;

  constructor(private readonly o: StreamOptions) {
    this.hub = new SseHub(o.maxStreams, (n) => o.metrics?.sseClients.set(n));
  }

  get count(): number {
    return this.hub.size;
  }

  /**
   * Streams `filter` on this request until the client goes away. A bad Last-Event-ID is a 400 and
   * a full server a 503, both answered before any event.
   */
  async serve(req: FastifyRequest, reply: FastifyReply, filter: EventFilter): Promise<void> {
    const q = new URL(req.url, 'http://x').searchParams;
    const header = req.headers['last-event-id'];
    const lastId = (Array.isArray(header) ? header[0] : header) ?? q.get('last_event_id') ?? undefined;
    let cursor: Cursor;
    try {
      cursor = lastId !== undefined && lastId !== '' ? decodeCursor(lastId) : await this.o.log.endCursor();
    } catch (err) {
      badRequest(reply, err);
      return;
    }
    if (this.hub.size >= this.o.maxStreams) {
      this.o.metrics?.refused.inc({ reason: 'streams' });
      reply.header('Retry-After', '5');
      sendError(reply, 503, 'too_many_streams', `at most ${this.o.maxStreams} event streams are open on this server (--max-streams); retry later`);
      return;
    }
    reply.hijack();
    // The client may have gone while the end offsets were fetched.
    if (req.raw.destroyed || req.socket.destroyed) {
      reply.raw.destroy();
      return;
    }
    let unfollow: () => void = () => {};
    const s = this.hub.accept(req.raw, reply.raw, { retryMs: 2000, heartbeatMs: this.o.heartbeatMs, maxQueuedBytes: this.o.maxQueuedBytes, onClose: () => unfollow() });
    if (!s) {
      this.o.metrics?.refused.inc({ reason: 'streams' });
      return;
    }
    // The first id tells a client that saw nothing yet where "now" was, so even its first
    // reconnect resumes instead of starting over at a later end.
    s.send({ id: encodeCursor(cursor), event: 'hello', data: '{}' });
    const send = (e: AlertEvent) => {
      if (s.closed) return;
      cursor.set(tpKey(e.source.topic, e.source.partition), (BigInt(e.source.offset) + 1n).toString());
      if (!eventMatches(filter, e)) return;
      if (s.send({ id: encodeCursor(cursor), event: e.kind, data: JSON.stringify(eventPayload(e)) })) this.o.metrics?.sseEvents.inc();
    };
    unfollow = this.o.log.follow(new Map(cursor), send, (topic, partition, wantedFrom, firstKept) => {
      s.send({ event: 'gap', data: JSON.stringify({ topic, partition, wantedFrom, firstKept, reason: 'records evicted from the replay buffer' }) });
    });
    // Closed while replaying (too much queued): the listener was registered after onClose ran.
    if (s.closed) unfollow();
  }

  /** Ends every open stream (server shutdown): clients reconnect elsewhere with their last id. */
  closeAll(): void {
    this.hub.closeAll();
  }
}

/** Mounts `GET /v1/alerts/stream` (ad-hoc selectors) on a fastify server. */
export function registerStreamRoute(app: FastifyInstance, streams: AlertStreams): void {
  app.get(STREAM_PATH, async (req, reply) => {
    let filter: EventFilter;
    try {
      filter = filterFromQuery(new URL(req.url, 'http://x').searchParams);
    } catch (err) {
      return badRequest(reply, err);
    }
    await streams.serve(req, reply, filter);
    return reply;
  });
}
