/**
 * The live feed: Server-Sent Events with numbered events and a bounded replay buffer, so a browser
 * that reconnects (EventSource does so on its own, sending Last-Event-ID) gets what it missed
 * while the buffer still holds it, and otherwise is told to reload its snapshot (`reset`).
 * Slow clients are dropped rather than buffered without bound; they reconnect and resume.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ViewEvent } from './view.ts';

interface Client {
  res: ServerResponse;
  types: Set<string> | null;
}

export interface FeedStats {
  onSent(type: string): void;
  onClients(n: number): void;
  onDropped(): void;
}

export class LiveFeed {
  private seq = 0;
  private readonly buffer: { id: number; frame: string; type: string }[] = [];
  private readonly clients = new Set<Client>();
  private readonly timer: NodeJS.Timeout;
  /** Distinguishes this process's event ids from a previous run's, so a restart forces a reset. */
  readonly epoch = Date.now().toString(36);

  constructor(
    private readonly opts: { replayEvents: number; maxClientBufferBytes: number; heartbeatMs: number },
    private readonly stats: FeedStats,
  ) {
    this.timer = setInterval(() => this.broadcastRaw(': keep-alive\n\n', null), opts.heartbeatMs);
    this.timer.unref();
  }

  get lastId(): string {
    return `${this.epoch}-${this.seq}`;
  }

  publish(e: ViewEvent): void {
    const id = ++this.seq;
    const frame = `id: ${this.epoch}-${id}\nevent: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`;
    if (this.opts.replayEvents > 0) {
      this.buffer.push({ id, frame, type: e.type });
      if (this.buffer.length > this.opts.replayEvents) this.buffer.splice(0, this.buffer.length - this.opts.replayEvents);
    }
    this.broadcastRaw(frame, e.type);
  }

  /** `GET /api/events[?types=anomaly,metric]`. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const typesParam = url.searchParams.get('types');
    const types = typesParam ? new Set(typesParam.split(',').filter(Boolean)) : null;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.socket?.setNoDelay(true);
    // Reconnect quickly: the dashboard is usually on the same machine or network.
    res.write('retry: 1000\n\n');
    const client: Client = { res, types };
    const last = String(req.headers['last-event-id'] ?? url.searchParams.get('lastEventId') ?? '');
    if (last) {
      const [epoch, n] = last.split('-');
      const from = Number(n);
      const oldest = this.buffer.length ? this.buffer[0].id : this.seq + 1;
      if (epoch === this.epoch && Number.isInteger(from) && from + 1 >= oldest) {
        for (const b of this.buffer) if (b.id > from && (!types || types.has(b.type))) res.write(b.frame);
      } else {
        // Events were lost (buffer overrun or a restarted server): the page reloads its snapshot.
        res.write(`id: ${this.lastId}\nevent: reset\ndata: {}\n\n`);
      }
    } else {
      res.write(`id: ${this.lastId}\nevent: hello\ndata: ${JSON.stringify({ lastId: this.lastId })}\n\n`);
    }
    this.clients.add(client);
    this.stats.onClients(this.clients.size);
    const gone = () => {
      if (this.clients.delete(client)) this.stats.onClients(this.clients.size);
    };
    req.on('close', gone);
    res.on('error', gone);
  }

  private broadcastRaw(frame: string, type: string | null): void {
    for (const c of this.clients) {
      if (type && c.types && !c.types.has(type)) continue;
      c.res.write(frame);
      if (type) this.stats.onSent(type);
      if (c.res.writableLength > this.opts.maxClientBufferBytes) {
        this.clients.delete(c);
        this.stats.onDropped();
        this.stats.onClients(this.clients.size);
        c.res.destroy();
      }
    }
  }

  close(): void {
    clearInterval(this.timer);
    for (const c of this.clients) c.res.end();
    this.clients.clear();
    this.stats.onClients(0);
  }
}
