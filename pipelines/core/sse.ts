/**
 * The one Server-Sent Events writer (alerts streams, the dashboard feed). It owns the parts every
 * stream gets wrong alone:
 * - headers that keep proxies from buffering, a `retry:` hint, heartbeats (comment lines) so idle
 *   streams survive proxies;
 * - back-pressure: a client that stops reading is disconnected once more than `maxQueuedBytes`
 *   wait for it (it reconnects with Last-Event-ID and, where the stream supports it, resumes);
 * - a cap on open streams per hub (`maxClients`): the next client gets 503 with Retry-After
 *   instead of exhausting the process;
 * - cleanup exactly once, whoever closes first (client, server, back-pressure).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface SseOptions {
  /** Reconnect delay hint sent to the client, ms. */
  retryMs?: number;
  /** Interval of `: heartbeat` comment lines, ms (0: none). */
  heartbeatMs?: number;
  /** Bytes queued for a slow client before it is disconnected. Default 8 MiB. */
  maxQueuedBytes?: number;
  onClose?: () => void;
}

export interface SseStream {
  /** Writes one event; false when the stream is closed (or just got closed for back-pressure). */
  send(event: { event?: string; id?: string; data: string }): boolean;
  comment(text: string): void;
  close(): void;
  readonly closed: boolean;
}

/** Starts an event stream on `res` (headers written at once). */
export function openSse(req: IncomingMessage, res: ServerResponse, o: SseOptions = {}): SseStream {
  res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
  res.flushHeaders();
  res.socket?.setNoDelay(true);
  const maxQueued = o.maxQueuedBytes ?? 8 * 1024 * 1024;
  let closed = false;
  let beat: NodeJS.Timeout | undefined;
  const stream: SseStream = {
    get closed() {
      return closed;
    },
    send(e) {
      if (closed) return false;
      let frame = '';
      if (e.id !== undefined) frame += `id: ${e.id.replace(/[\r\n]/g, '')}\n`;
      if (e.event !== undefined) frame += `event: ${e.event.replace(/[\r\n]/g, '')}\n`;
      for (const line of e.data.split(/\r?\n/)) frame += `data: ${line}\n`;
      res.write(`${frame}\n`);
      if (res.writableLength > maxQueued) {
        stream.close();
        return false;
      }
      return true;
    },
    comment(text) {
      if (!closed) res.write(`: ${text.replace(/[\r\n]/g, ' ')}\n\n`);
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(beat);
      if (!res.writableEnded) res.end();
      o.onClose?.();
    },
  };
  if (o.retryMs !== undefined) res.write(`retry: ${o.retryMs}\n\n`);
  if (o.heartbeatMs) {
    beat = setInterval(() => stream.comment(`heartbeat ${Date.now()}`), o.heartbeatMs);
    beat.unref();
  }
  // The response's 'close' means "connection gone" for a request whose body nobody reads.
  res.on('close', () => stream.close());
  req.on('error', () => stream.close());
  if (res.destroyed) stream.close();
  return stream;
}

/** Open streams of one endpoint, with a cap. */
export class SseHub {
  private readonly open = new Set<SseStream>();
  constructor(private readonly maxClients: number, private readonly onCount?: (n: number) => void) {}

  get size(): number {
    return this.open.size;
  }

  /** Opens a stream, or answers 503 (Retry-After) and returns null when the hub is full. */
  accept(req: IncomingMessage, res: ServerResponse, o: SseOptions = {}): SseStream | null {
    if (this.open.size >= this.maxClients) {
      const body = JSON.stringify({ error: 'too_many_streams', message: `at most ${this.maxClients} event streams are open on this server; retry later` });
      res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '5', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      return null;
    }
    const s = openSse(req, res, {
      ...o,
      onClose: () => {
        this.open.delete(s);
        this.onCount?.(this.open.size);
        o.onClose?.();
      },
    });
    if (!s.closed) {
      this.open.add(s);
      this.onCount?.(this.open.size);
    }
    return s;
  }

  /** Ends every stream (shutdown): clients reconnect with their last id. */
  closeAll(): void {
    for (const s of [...this.open]) s.close();
  }
}
