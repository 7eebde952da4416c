/**
 * Parse workers for large JSON bodies (`serve --parse-workers N`). The door hands a body above
 * `offloadBytes` to the least-loaded worker and goes on with the next request; the tensors come
 * back as Float32Arrays. Each worker's backlog (estimated parse time of what it holds) is what the
 * door adds to a request's time to reach the scheduler.
 */
import { Worker } from 'node:worker_threads';
import type { DecodedRequest } from './binary.ts';

export interface ParseRequest {
  id: number;
  body: ArrayBuffer;
}

export type ParseReply =
  | { id: number; ok: true; decoded: DecodedRequest; ms: number; ready?: undefined }
  | { id: number; ok: true; ready: true }
  | { id: number; ok: false; bodyError: boolean; message: string; ms: number };

interface Slot {
  worker: Worker;
  backlogMs: number;
  ready: boolean;
}

interface Waiting {
  slot: Slot;
  estMs: number;
  resolve: (r: Exclude<ParseReply, { ready: true }>) => void;
}

const WORKER_URL = new URL('./parse-worker.ts', import.meta.url).href;
const TSX_API = import.meta.resolve('tsx/esm/api');

export class ParsePool {
  private readonly slots: Slot[] = [];
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private closed = false;

  private constructor(readonly size: number, readonly offloadBytes: number) {}

  /** Starts `size` workers and resolves when all are ready. */
  static async start(size: number, offloadBytes: number): Promise<ParsePool> {
    const p = new ParsePool(size, offloadBytes);
    await Promise.all(Array.from({ length: size }, () => p.spawn()));
    return p;
  }

  private spawn(): Promise<void> {
    // Same two-line bootstrap as the inference workers: register tsx, then import the TS file.
    const code = `import(${JSON.stringify(TSX_API)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL)}); });`;
    const worker = new Worker(code, { eval: true });
    const slot: Slot = { worker, backlogMs: 0, ready: false };
    this.slots.push(slot);
    worker.unref();
    return new Promise((resolve, reject) => {
      worker.on('message', (m: ParseReply) => {
        if (m.ok && m.ready) {
          slot.ready = true;
          return resolve();
        }
        const w = this.waiting.get(m.id);
        if (!w) return;
        this.waiting.delete(m.id);
        slot.backlogMs = Math.max(0, slot.backlogMs - w.estMs);
        w.resolve(m as Exclude<ParseReply, { ready: true }>);
      });
      worker.on('error', (err) => {
        if (!slot.ready) reject(err);
        this.fail(slot, err instanceof Error ? err.message : String(err));
      });
      worker.on('exit', (code) => this.fail(slot, `parse worker exited with code ${code}`));
    });
  }

  private fail(slot: Slot, why: string): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    for (const [id, w] of this.waiting)
      if (w.slot === slot) {
        this.waiting.delete(id);
        w.resolve({ id, ok: false, bodyError: false, message: why, ms: 0 });
      }
    if (!this.closed) void this.spawn().catch(() => undefined);
  }

  /** The least backlog among the workers, ms: how long a body handed over now waits. */
  backlogMs(): number {
    let best = Infinity;
    for (const s of this.slots) if (s.ready) best = Math.min(best, s.backlogMs);
    return best;
  }

  get available(): boolean {
    return !this.closed && this.slots.some((s) => s.ready);
  }

  /** Parses `body` on the least-loaded worker; its bytes are transferred when it owns them. */
  parse(body: Buffer, estMs: number): Promise<Exclude<ParseReply, { ready: true }>> {
    let slot: Slot | undefined;
    for (const s of this.slots) if (s.ready && (!slot || s.backlogMs < slot.backlogMs)) slot = s;
    if (!slot) return Promise.resolve({ id: 0, ok: false, bodyError: false, message: 'no parse worker is ready', ms: 0 });
    const owns = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
    const ab = owns ? (body.buffer as ArrayBuffer) : (body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer);
    const id = this.nextId++;
    slot.backlogMs += estMs;
    const s = slot;
    return new Promise((resolve) => {
      this.waiting.set(id, { slot: s, estMs, resolve });
      s.worker.postMessage({ id, body: ab } satisfies ParseRequest, [ab]);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
