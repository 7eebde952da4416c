/**
 * A minimal Redis client (RESP2 over one TCP connection) for the lab services. Hand-written rather
 * than a library so a cut proxy shows up at once: pending commands fail when the socket closes, and
 * the next command reconnects with a connect timeout instead of queueing behind a retry loop.
 */
import { connect, type Socket } from 'node:net';

type Reply = string | number | null | Reply[];

export class RespClient {
  private sock: Socket | undefined;
  private buf: Buffer = Buffer.alloc(0);
  private pending: Array<{ resolve: (r: Reply) => void; reject: (e: Error) => void }> = [];
  private connecting: Promise<Socket> | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly timeoutMs: number,
  ) {}

  private open(): Promise<Socket> {
    if (this.sock && !this.sock.destroyed) return Promise.resolve(this.sock);
    if (this.connecting) return this.connecting;
    this.connecting = new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: this.host, port: this.port });
      s.setNoDelay(true);
      const timer = setTimeout(() => s.destroy(new Error(`redis connect timeout ${this.host}:${this.port}`)), this.timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        this.sock = s;
        this.buf = Buffer.alloc(0);
        resolve(s);
      });
      s.on('data', (d) => this.onData(d));
      s.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
        this.failAll(e);
      });
      s.on('close', () => {
        clearTimeout(timer);
        if (this.sock === s) this.sock = undefined;
        reject(new Error('redis connection closed'));
        this.failAll(new Error('redis connection closed'));
      });
    }).finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private failAll(e: Error): void {
    const p = this.pending;
    this.pending = [];
    for (const x of p) x.reject(e);
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      const r = parse(this.buf, 0);
      if (!r) return;
      this.buf = this.buf.subarray(r.end);
      const p = this.pending.shift();
      if (!p) continue;
      if (r.error) p.reject(new Error(`redis: ${r.error}`));
      else p.resolve(r.value);
    }
  }

  async command(...args: Array<string | number>): Promise<Reply> {
    const s = await this.open();
    let out = `*${args.length}\r\n`;
    for (const a of args) {
      const v = String(a);
      out += `$${Buffer.byteLength(v)}\r\n${v}\r\n`;
    }
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        // A reply that never comes would desynchronize the pipeline: drop the connection.
        s.destroy(new Error('redis command timeout'));
      }, this.timeoutMs);
      this.pending.push({
        resolve: (r) => (clearTimeout(timer), resolve(r)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      s.write(out);
    });
  }

  close(): void {
    this.sock?.destroy();
  }
}

function parse(b: Buffer, at: number): { value: Reply; error?: string; end: number } | undefined {
  const nl = b.indexOf('\r\n', at);
  if (nl < 0) return undefined;
  const kind = String.fromCharCode(b[at]!);
  const line = b.toString('utf8', at + 1, nl);
  const next = nl + 2;
  switch (kind) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: null, error: line, end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      if (b.length < next + n + 2) return undefined;
      return { value: b.toString('utf8', next, next + n), end: next + n + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const items: Reply[] = [];
      let pos = next;
      for (let i = 0; i < n; i++) {
        const r = parse(b, pos);
        if (!r) return undefined;
        items.push(r.value);
        pos = r.end;
      }
      return { value: items, end: pos };
    }
    default:
      throw new Error(`redis: bad reply type ${kind}`);
  }
}
