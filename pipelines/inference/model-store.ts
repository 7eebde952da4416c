/**
 * What one worker holds: an LRU set of models within a memory budget (bytes). Like Clockwork's
 * weights cache, it is the controller's bookkeeping of the worker's memory; the worker itself
 * just does the LOAD/UNLOAD it is told to. A model's size is its ONNX file size.
 */

const NO_VICTIMS: string[] = [];

export type Residency = 'loading' | 'resident';

interface Entry {
  state: Residency;
  bytes: number;
  lastUsed: number;
  /** In-flight actions using it: pinned models are never evicted. */
  pins: number;
}

export class ModelStore {
  private readonly entries = new Map<string, Entry>();
  private used = 0;
  constructor(readonly budgetBytes: number) {
    if (!(budgetBytes > 0)) throw new RangeError(`memory budget must be positive, got ${budgetBytes}`);
  }

  get usedBytes(): number {
    return this.used;
  }

  state(model: string): Residency | undefined {
    return this.entries.get(model)?.state;
  }

  models(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * The least-recently-used unpinned models to evict so that `bytes` more fit, or undefined when
   * even evicting every unpinned model would not make room.
   */
  planEviction(bytes: number): string[] | undefined {
    if (bytes > this.budgetBytes) return undefined;
    let free = this.budgetBytes - this.used;
    if (free >= bytes) return NO_VICTIMS;
    const victims: string[] = [];
    // The map's insertion order is the recency order: touch() re-inserts.
    for (const [name, e] of this.entries) {
      if (e.pins !== 0 || e.state !== 'resident') continue;
      victims.push(name);
      free += e.bytes;
      if (free >= bytes) return victims;
    }
    return undefined;
  }

  beginLoad(model: string, bytes: number, now: number): void {
    if (this.entries.has(model)) throw new RangeError(`model ${model} is already ${this.entries.get(model)!.state}`);
    if (this.used + bytes > this.budgetBytes) throw new RangeError(`loading ${model} (${bytes} B) exceeds the budget (${this.used}/${this.budgetBytes} B used)`);
    this.entries.set(model, { state: 'loading', bytes, lastUsed: now, pins: 1 });
    this.used += bytes;
  }

  finishLoad(model: string, ok: boolean): void {
    const e = this.entries.get(model);
    if (!e) return;
    e.pins = Math.max(0, e.pins - 1);
    if (ok) e.state = 'resident';
    else this.remove(model);
  }

  remove(model: string): void {
    const e = this.entries.get(model);
    if (!e) return;
    this.used -= e.bytes;
    this.entries.delete(model);
  }

  pin(model: string, now: number): void {
    const e = this.entries.get(model);
    if (!e) throw new RangeError(`model ${model} is not held`);
    e.pins++;
    e.lastUsed = now;
    this.entries.delete(model);
    this.entries.set(model, e);
  }

  unpin(model: string): void {
    const e = this.entries.get(model);
    if (e) e.pins = Math.max(0, e.pins - 1);
  }

  clear(): void {
    this.entries.clear();
    this.used = 0;
  }
}
