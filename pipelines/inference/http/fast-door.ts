/**
 * The fast door: the hot route (`POST …/infer`) read straight off the TCP socket, in front of
 * node:http.
 *
 * Measured on this 2-core machine (a trivial server that answers every request with a fixed 429,
 * the outside load process at 9,000/s of 16 KiB bodies and 20,000/s of 1-row bodies, alternated,
 * load average 7–8): node:http cost 59 and 33 µs of server CPU per request, this reader 33 and
 * 18 µs, and its 429s arrived at p50 1.5 ms instead of 26 ms (node:http could not keep up with the
 * offered rate, so requests waited in their sockets). Past capacity the door spends its thread on
 * refusals, so what a refusal costs decides whether the admitted requests are still read in time.
 *
 * Per connection it parses a request head (request line, headers) and, when the request is
 * `POST /v2/models/{name}[/versions/{v}]/infer` over HTTP/1.1 with a Content-Length (no
 * Transfer-Encoding, Expect or Upgrade), hands it to the door as an `Exchange`; then it reads
 * exactly Content-Length bytes of body, or skips them without copying when the door refused.
 * Anything else (another route, chunked bodies, HTTP/1.0, a malformed or oversized head) hands the
 * connection, with the bytes read so far, to node:http for the rest of its life: fastify's routes,
 * and node:http's own errors, stay as they were.
 *
 * Requests on one connection are answered in order: while one is in the pool, bytes of the next
 * are buffered (the socket paused past 256 KiB), not parsed.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

/** One request/response exchange as the door sees it (node:http or this reader). */
export interface Exchange {
  /** A request header, lower-case name; undefined when absent. */
  header(name: string): string | undefined;
  /** Writes the whole response. `headers` must not carry content-length (it is set from `body`). */
  send(status: number, headers: Record<string, string | number>, body: Buffer | string): void;
  /** Reads the whole body: `done(body)`, or `done(null)` when it passes `limit` bytes; `gone()` when the client leaves first. */
  readBody(limit: number, done: (body: Buffer | null) => void, gone: () => void): void;
  /** Whether the client is gone (a response would be written to nobody). */
  readonly destroyed: boolean;
}

const HEAD_END = Buffer.from('\r\n\r\n');
/** node:http's default limit on a request head (16 KiB): a longer one is node:http's to refuse (431). */
const MAX_HEAD = 16 * 1024;
/** Bytes of later requests buffered while one is in the pool before the socket is paused. */
const MAX_AHEAD = 256 * 1024;
/** An idle connection (or one stuck in a request head) is closed after this, as node:http's keep-alive timeout. */
const KEEP_ALIVE_MS = 5000;

let dateText = '';
let dateAt = 0;
/** The Date header, formatted at most once a second (node:http does the same). */
function httpDate(): string {
  const now = Date.now();
  if (now - dateAt >= 1000 || dateText === '') {
    dateAt = now - (now % 1000);
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

const statusLines = new Map<number, string>();
function statusLine(status: number): string {
  let s = statusLines.get(status);
  if (s === undefined) statusLines.set(status, (s = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`));
  return s;
}

/**
 * Takes connections the HTTP server accepted. `owns(path)` says whether a POST to `path` is the hot
 * route, `handle` serves it, `handOff(socket)` gives a connection to node:http.
 */
export class FastDoor {
  private readonly conns = new Set<FastConn>();
  private closing = false;

  constructor(
    /** The route's match when a POST to `path` is the hot route, else null. */
    readonly owns: (path: string) => RegExpExecArray | null,
    readonly handle: (ex: Exchange, path: string, match: RegExpExecArray) => void,
    private readonly handOff: (socket: Socket) => void,
  ) {}

  accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const c = new FastConn(socket, this);
    this.conns.add(c);
    socket.once('close', () => this.conns.delete(c));
  }

  /** Stops taking requests: idle connections are closed now, busy ones after their response. */
  close(): void {
    this.closing = true;
    for (const c of this.conns) c.closeWhenIdle();
  }

  get isClosing(): boolean {
    return this.closing;
  }

  /** @internal a connection leaves for node:http. */
  release(c: FastConn, socket: Socket): void {
    this.conns.delete(c);
    this.handOff(socket);
  }
}

type State = 'head' | 'wait' | 'body' | 'skip' | 'busy' | 'gone';

class FastConn implements Exchange {
  private buf: Buffer | null = null;
  private state: State = 'head';
  /** Body bytes still to skip (refused, or over the limit). */
  private skipLeft = 0;
  private need = 0;
  private chunks: Buffer[] = [];
  private got = 0;
  private onBody: ((b: Buffer | null) => void) | undefined;
  private onGone: (() => void) | undefined;
  /** The current request's headers (lower-case names), its body length, and whether to close after it. */
  private headers: Record<string, string> = {};
  private contentLength = 0;
  private closeAfter = false;
  private answered = false;
  private bodyTaken = false;
  private readonly onData = (d: Buffer) => this.data(d);

  constructor(
    private readonly socket: Socket,
    private readonly door: FastDoor,
  ) {
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('error', () => this.gone());
    socket.on('close', () => this.gone());
    socket.setTimeout(KEEP_ALIVE_MS, () => {
      if (this.state === 'head' || this.state === 'skip') socket.destroy();
    });
  }

  get destroyed(): boolean {
    return this.state === 'gone' || this.socket.destroyed;
  }

  header(name: string): string | undefined {
    return this.headers[name];
  }

  closeWhenIdle(): void {
    this.closeAfter = true;
    if (this.state === 'head' && (this.buf === null || this.buf.length === 0)) this.socket.destroy();
  }

  private gone(): void {
    if (this.state === 'gone') return;
    const was = this.state;
    this.state = 'gone';
    this.buf = null;
    this.chunks = [];
    const g = this.onGone;
    this.onGone = undefined;
    this.onBody = undefined;
    if (was === 'body' || was === 'skip' || was === 'wait') g?.();
  }

  private data(d: Buffer): void {
    if (this.state === 'skip') {
      if (d.length <= this.skipLeft) {
        this.skipLeft -= d.length;
        if (this.skipLeft === 0) this.skipped();
        return;
      }
      d = d.subarray(this.skipLeft);
      this.skipLeft = 0;
      this.skipped();
    } else if (this.state === 'body') {
      const want = this.need - this.got;
      if (d.length < want) {
        this.chunks.push(d);
        this.got += d.length;
        return;
      }
      this.chunks.push(want === d.length ? d : d.subarray(0, want));
      this.got += want;
      const rest = want === d.length ? null : d.subarray(want);
      this.finishBody();
      if (rest === null) return;
      d = rest;
    }
    if (this.state === 'gone') return;
    this.buf = this.buf === null || this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    if (this.state === 'head') this.parse();
    else if (this.buf.length > MAX_AHEAD) this.socket.pause();
  }

  /** Parses request heads while the buffer holds one, one request at a time. */
  private parse(): void {
    while (this.state === 'head' && this.buf !== null && this.buf.length > 0) {
      const buf = this.buf;
      const end = buf.indexOf(HEAD_END);
      if (end < 0) {
        if (buf.length > MAX_HEAD) this.handOffNow();
        return;
      }
      if (end > MAX_HEAD) return this.handOffNow();
      const head = buf.toString('latin1', 0, end);
      const lineEnd = head.indexOf('\r\n');
      const line = lineEnd < 0 ? head : head.slice(0, lineEnd);
      // Only `POST <path> HTTP/1.1` to the hot route; everything else is node:http's.
      if (!line.startsWith('POST ') || !line.endsWith(' HTTP/1.1') || this.door.isClosing) return this.handOffNow();
      const target = line.slice(5, line.length - 9);
      const q = target.indexOf('?');
      const path = q < 0 ? target : target.slice(0, q);
      const match = this.door.owns(path);
      if (match === null) return this.handOffNow();
      const headers: Record<string, string> = {};
      let length = -1;
      let pos = lineEnd < 0 ? head.length : lineEnd + 2;
      while (pos < head.length) {
        let next = head.indexOf('\r\n', pos);
        if (next < 0) next = head.length;
        const colon = head.indexOf(':', pos);
        const first = head.charCodeAt(pos);
        // No colon, an empty name, or obsolete line folding: node:http's to judge.
        if (colon < 0 || colon > next || colon === pos || first === 32 || first === 9) return this.handOffNow();
        const name = head.slice(pos, colon).toLowerCase();
        const value = head.slice(colon + 1, next).trim();
        if (name === 'content-length') {
          if (length >= 0 || !/^\d{1,15}$/.test(value)) return this.handOffNow();
          length = Number(value);
        } else if (name === 'transfer-encoding' || name === 'expect' || name === 'upgrade') return this.handOffNow();
        else if (headers[name] !== undefined) headers[name] += `, ${value}`;
        else headers[name] = value;
        pos = next + 2;
      }
      if (length < 0) return this.handOffNow();
      this.buf = buf.length > end + 4 ? buf.subarray(end + 4) : null;
      this.headers = headers;
      this.contentLength = length;
      const conn = headers['connection'];
      this.closeAfter = conn !== undefined && /(^|,)\s*close\s*(,|$)/i.test(conn);
      this.answered = false;
      this.bodyTaken = false;
      this.state = 'wait';
      this.door.handle(this, path, match);
      // Answered at once without taking the body (a refusal): the body is skipped, not read.
      if (this.state === 'wait' && this.answered && !this.bodyTaken) this.startSkip();
    }
  }

  private handOffNow(): void {
    const s = this.socket;
    s.removeListener('data', this.onData);
    s.setTimeout(0);
    s.pause();
    if (this.buf !== null && this.buf.length > 0) s.unshift(this.buf);
    this.buf = null;
    this.state = 'gone';
    // node:http then reads through the JS stream (the bytes put back first), not off the handle.
    const handle = (s as unknown as { _handle?: { _consumed?: boolean } })._handle;
    if (handle) handle._consumed = true;
    this.door.release(this, s);
    s.resume();
  }

  readBody(limit: number, done: (body: Buffer | null) => void, gone: () => void): void {
    this.bodyTaken = true;
    this.onBody = done;
    this.onGone = gone;
    // Over the limit: skipped, not kept, then done(null).
    if (this.contentLength > limit) return this.startSkip();
    this.state = 'body';
    this.need = this.contentLength;
    this.got = 0;
    this.chunks = [];
    if (this.need === 0) return this.finishBody();
    const b = this.buf;
    this.buf = null;
    if (b !== null) this.data(b);
  }

  private startSkip(): void {
    this.state = 'skip';
    this.skipLeft = this.contentLength;
    const b = this.buf;
    this.buf = null;
    if (this.skipLeft === 0) return this.skipped();
    if (b !== null) this.data(b);
  }

  private skipped(): void {
    if (this.answered) return this.next();
    this.state = 'busy';
    const cb = this.onBody;
    this.onBody = undefined;
    this.onGone = undefined;
    cb?.(null);
  }

  private finishBody(): void {
    const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.got);
    this.chunks = [];
    this.state = 'busy';
    const cb = this.onBody!;
    this.onBody = undefined;
    this.onGone = undefined;
    cb(body);
  }

  /** The exchange is over on both sides (answered, body read or skipped): the next request. */
  private next(): void {
    if (this.state === 'gone') return;
    if (this.door.isClosing && (this.buf === null || this.buf.length === 0)) {
      // The server is closing and nothing more was sent: close now, not after the idle timeout.
      this.state = 'gone';
      this.socket.destroy();
      return;
    }
    this.state = 'head';
    this.headers = {};
    if (this.socket.isPaused()) this.socket.resume();
    this.parse();
  }

  send(status: number, headers: Record<string, string | number>, body: Buffer | string): void {
    if (this.answered || this.state === 'gone') return;
    this.answered = true;
    const bodyLength = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    let head = statusLine(status);
    for (const k in headers) head += k + ': ' + headers[k] + '\r\n';
    if (headers['connection'] === 'close') this.closeAfter = true;
    else head += this.closeAfter ? 'connection: close\r\n' : 'connection: keep-alive\r\n';
    head += 'content-length: ' + bodyLength + '\r\ndate: ' + httpDate() + '\r\n\r\n';
    // One write for head and body, encoded straight into one buffer (a copy is cheaper than a
    // second syscall), unless the body is large.
    if (bodyLength <= 65536) {
      const out = Buffer.allocUnsafe(head.length + bodyLength);
      out.write(head, 0, 'latin1');
      if (typeof body === 'string') out.write(body, head.length, 'utf8');
      else body.copy(out, head.length);
      this.socket.write(out);
    } else {
      this.socket.write(Buffer.from(head, 'latin1'));
      this.socket.write(typeof body === 'string' ? Buffer.from(body) : body);
    }
    if (this.closeAfter) {
      // Half-close, and keep reading (and dropping) what the client still sends, so that its
      // close is not a reset that could lose this response.
      this.state = 'gone';
      this.buf = null;
      this.socket.removeListener('data', this.onData);
      this.socket.on('data', () => {});
      if (this.socket.isPaused()) this.socket.resume();
      this.socket.end();
      return;
    }
    // Answered after the body was read: next request. (Answered before, the parse loop skips the body.)
    if (this.state === 'busy') this.next();
  }
}
