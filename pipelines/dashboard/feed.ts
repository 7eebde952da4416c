/**
 * The live feed: Server-Sent Events with numbered events and a bounded replay buffer, so a browser
 * that reconnects (EventSource does so on its own, sending Last-Event-ID) gets what it missed
 * while the buffer still holds it, and otherwise is told to reload its snapshot (`reset`).
 * Streams are written by the one SSE helper (pipelines/core/sse.ts): heartbeats, slow clients
 * dropped rather than buffered without bound (they reconnect and resume), and a cap on open
 * streams (the next one gets 503 with Retry-After).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SseHub, type SseStream } from '../core/sse.ts';
import type { ViewEvent } from './view.ts';

interface Client {
  stream: SseStream;
  types: Set<string> | null;
}

export interface FeedStats {
  onSent(type: string): void;
  onClients(n: number): void;
  onDropped(): void;
  onRefused(): void;
}

export interface FeedOptions {
  replayEvents: number;
  maxClientBufferBytes: number;
  heartbeatMs: number;
  maxStreams: number;
}

export class LiveFeed {
  private seq = 0;
  private readonly buffer: { id: number; type: string; data: string }[] = [];
  private readonly clients = new Set<Client>();
  private readonly hub: SseHub;
  /** Distinguishes this process's event ids from a previous run's, so a restart forces a reset. */
  readonly epoch = Date.now().toString(36);

  constructor(
    private readonly opts: FeedOptions,
    private readonly stats: FeedStats,
  ) {
    this.hub = new SseHub(opts.maxStreams, (n) => stats.onClients(n));
  }

  get lastId(): string {
    return `${this.epoch}-${this.seq}`;
  }

  get size(): number {
    return this.hub.size;
  }

  publish(e: ViewEvent): void {
    const id = ++this.seq;
    const data = JSON.stringify(e.data);
    if (this.opts.replayEvents > 0) {
      this.buffer.push({ id, type: e.type, data });
      if (this.buffer.length > this.opts.replayEvents) this.buffer.splice(0, this.buffer.length - this.opts.replayEvents);
    }
    for (const c of this.clients) {
      if (c.types && !c.types.has(e.type)) continue;
      this.write(c, { id: `${this.epoch}-${id}`, event: e.type, data });
    }
  }

  /** Writes one event; a client whose buffer overflowed is closed by the helper and counted as dropped. */
  private write(c: Client, ev: { id: string; event: string; data: string }): void {
    if (c.stream.closed) return;
    if (c.stream.send(ev)) this.stats.onSent(ev.event);
    else if (c.stream.closed) this.stats.onDropped();
  }

  /**
   * `GET /api/events[?types=anomaly,metric]` on a raw request (the route hijacks the reply).
   * Returns false when the feed is full and the client got a 503.
   */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    const typesParam = url.searchParams.get('types');
    const types = typesParam ? new Set(typesParam.split(',').filter(Boolean).slice(0, 32)) : null;
    let client: Client | null = null;
    // Reconnect quickly: the dashboard is usually on the same machine or network.
    const stream = this.hub.accept(req, res, {
      retryMs: 1000,
      heartbeatMs: this.opts.heartbeatMs,
      maxQueuedBytes: this.opts.maxClientBufferBytes,
      onClose: () => {
        if (client) this.clients.delete(client);
      },
    });
    if (!stream) {
      this.stats.onRefused();
      return false;
    }
    res.socket?.setNoDelay(true);
    client = { stream, types };
    const last = String(req.headers['last-event-id'] ?? url.searchParams.get('lastEventId') ?? '');
    if (last) {
      const [epoch, n] = last.split('-');
      const from = Number(n);
      const oldest = this.buffer.length ? this.buffer[0]!.id : this.seq + 1;
      if (epoch === this.epoch && Number.isInteger(from) && from + 1 >= oldest) {
        for (const b of this.buffer) if (b.id > from && (!types || types.has(b.type))) this.write(client, { id: `${this.epoch}-${b.id}`, event: b.type, data: b.data });
      } else {
        // Events were lost (buffer overrun or a restarted server): the page reloads its snapshot.
        stream.send({ id: this.lastId, event: 'reset', data: '{}' });
      }
    } else {
      stream.send({ id: this.lastId, event: 'hello', data: JSON.stringify({ lastId: this.lastId }) });
    }
    if (!stream.closed) this.clients.add(client);
    return true;
  }

  close(): void {
    this.hub.closeAll();
    this.clients.clear();
    this.stats.onClients(0);
  }
}
