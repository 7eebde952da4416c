/**
 * The Clockwork scheduler, as pure logic over a clock the caller supplies (no I/O, no timers): it
 * queues requests per model, decides every action each idle worker runs next, and learns from
 * what the workers report. The wiring (pool.ts) feeds it arrivals and completions and carries its
 * actions to worker threads; tests drive it with a simulated clock and a fake executor.
 *
 * Clockwork policy: admission at arrival and again before batching (a request whose deadline is
 * below the earliest time it could finish is refused); each idle worker takes the candidate with
 * the least slack (front deadline − predicted finish), an INFER being the largest batch that meets
 * every deadline in it, a LOAD being a model nobody can serve in time. FIFO policy (the baseline):
 * no admission, the oldest request's model goes next, batched greedily, deadlines ignored.
 */
import type { AdmissionController, AdmissionDecision, ArrivalEstimate } from './admission.ts';
import { ModelStore } from './model-store.ts';
import type { PredictionLog } from './prediction-log.ts';
import { DecayingPeak } from './profiles.ts';
import type { ProfileStore } from './profiles.ts';

export interface QueuedRequest {
  id: number;
  model: string;
  /** Rows (batch entries) the request carries. */
  rows: number;
  arrival: number;
  /** Internal deadline: the SLO deadline minus the safety buffer. */
  deadline: number;
}

interface ActionBase {
  id: number;
  worker: number;
  model: string;
  /** The worker must not start before `earliest` and must refuse after `latest`. */
  earliest: number;
  latest: number;
  predictedMs: number;
}
export interface InferAction extends ActionBase {
  kind: 'INFER';
  requests: QueuedRequest[];
  rows: number;
  bucket: number;
}
export interface LoadAction extends ActionBase {
  kind: 'LOAD';
  /** Batch sizes to profile after loading (first load of a model only). */
  profileBatches: number[];
}
export interface UnloadAction extends ActionBase {
  kind: 'UNLOAD';
}
export type Action = InferAction | LoadAction | UnloadAction;

export interface Drop {
  request: QueuedRequest;
  reason: string;
}

export interface Plan {
  actions: Action[];
  dropped: Drop[];
  /**
   * When requests are left queued: the time by which `schedule` must run again even if nothing
   * happens (a front request turns infeasible and must be refused, or the load share frees up).
   */
  wakeAt?: number;
}

export type Outcome =
  | { status: 'done'; ms: number; startedAt?: number; profile?: { batch: number; ms: number }[] }
  /** The worker could not start it inside its window. */
  | { status: 'window' }
  | { status: 'failed'; message: string };

export type Policy = 'clockwork' | 'fifo';

export interface SchedulerOptions {
  workers: number;
  /** Per worker. */
  memoryBudgetBytes: number;
  modelBytes: ReadonlyMap<string, number>;
  maxLoadsInFlight: number;
  policy: Policy;
  admission: AdmissionController;
  profiles: ProfileStore;
  predictions?: PredictionLog;
  /** Predicted cost of an UNLOAD. */
  unloadMs?: number;
  /** Runs per batch size when profiling a model at its first load. */
  profileRuns?: number;
  /** Assumed time for a crashed worker's replacement to become ready. */
  restartMs?: number;
  /**
   * Largest share of a worker's recent time (last second) spent loading before it stops taking
   * new loads. A CPU worker cannot infer while it loads, and loads have long tails.
   */
  maxLoadShare?: number;
  /**
   * How long a wanted load of a cold model may wait for a worker with room for it before arrivals
   * of other models are admitted as if the load ran ahead of them (so it is never starved).
   */
  coldReserveMs?: number;
  /** The controller loop's current lag, ms (added to every predicted finish). */
  lagMs?: () => number;
  /**
   * Admission at arrival (and the door's probe) requires the predicted finish this much before
   * the deadline; the checks after it (dropping, batching, the worker's window) use the deadline
   * itself. Admitted requests then keep this slack for what no estimate foresees (a stall of the
   * controller when the result comes back, time outside the server), instead of being queued up
   * to their deadline. Default 0.
   */
  admissionHeadroomMs?: number;
}

const LOAD_SHARE_WINDOW_MS = 1000;

interface WorkerState {
  /** Recent loads (end time, duration) for the load-share limit. */
  loads: { end: number; ms: number }[];
  up: boolean;
  outstanding: Map<number, Action>;
  busyUntil: number;
  store: ModelStore;
}

interface Candidate {
  slack: number;
  build: () => Action[];
  predictedMs: number;
  kind: 'INFER' | 'LOAD';
}

/** Rows of the deadline-ordered queue `q` whose deadline is not later than `deadline`. */
function rowsAhead(q: QueuedRequest[], deadline: number): number {
  // Most arrivals carry the latest deadline: the whole queue is ahead.
  let rows = 0;
  if (q[q.length - 1]!.deadline <= deadline) {
    for (const r of q) rows += r.rows;
    return rows;
  }
  for (const r of q) {
    if (r.deadline > deadline) break;
    rows += r.rows;
  }
  return rows;
}

function insertByDeadline(q: QueuedRequest[], r: QueuedRequest): void {
  let i = q.length;
  while (i > 0 && q[i - 1]!.deadline > r.deadline) i--;
  q.splice(i, 0, r);
}

export class Scheduler {
  private readonly workers: WorkerState[];
  private readonly queues = new Map<string, QueuedRequest[]>();
  private loadsInFlight = 0;

  private nextActionId = 1;
  private queued = 0;
  private readonly unloadMs: number;
  private readonly profileRuns: number;
  private readonly restartMs: number;
  private readonly maxLoadShare: number;
  private readonly coldReserveMs: number;
  /** Cold models whose first request was refused, and since when: loaded when a worker can. */
  private readonly wantedLoads = new Map<string, number>();
  /** Recent delays of results past their prediction, the largest fading by half every 250 ms. */
  private readonly noise = new DecayingPeak(250);

  constructor(private readonly opts: SchedulerOptions) {
    if (!Number.isInteger(opts.workers) || opts.workers < 1) throw new RangeError(`workers must be a positive integer, got ${opts.workers}`);
    for (const [m, b] of opts.modelBytes)
      if (b > opts.memoryBudgetBytes) throw new RangeError(`model ${m} (${b} B) does not fit the per-worker memory budget (${opts.memoryBudgetBytes} B)`);
    this.workers = Array.from({ length: opts.workers }, () => ({ loads: [], up: true, outstanding: new Map(), busyUntil: 0, store: new ModelStore(opts.memoryBudgetBytes) }));
    this.unloadMs = opts.unloadMs ?? 0.5;
    this.profileRuns = opts.profileRuns ?? 3;
    this.restartMs = opts.restartMs ?? 300;
    this.maxLoadShare = opts.maxLoadShare ?? 0.25;
    this.coldReserveMs = opts.coldReserveMs ?? 500;
  }

  get queueDepth(): number {
    return this.queued;
  }

  residentModels(worker: number): string[] {
    return this.workers[worker]!.store.models();
  }

  usedBytes(worker: number): number {
    return this.workers[worker]!.store.usedBytes;
  }

  isUp(worker: number): boolean {
    return this.workers[worker]!.up;
  }

  private exec(model: string, rows: number, now: number): number {
    return this.opts.profiles.execMs(model, this.opts.profiles.bucket(rows), now);
  }

  /** When worker `w` could start running `model`, or Infinity if it cannot hold it. */
  private startOn(w: WorkerState, model: string, now: number): number {
    // A worker being replaced will come back empty; until then nothing is certain about it.
    const free = w.up ? Math.max(now, w.busyUntil) : now + this.restartMs;
    if (w.store.state(model) !== undefined) return free;
    const victims = w.store.planEviction(this.opts.modelBytes.get(model)!);
    if (victims === undefined) return Infinity;
    // A load cannot start before the worker's load share allows it.
    const loadFrom = this.opts.policy === 'clockwork' && w.up ? Math.max(free, this.loadAllowedAt(w, now)) : free;
    return loadFrom + victims.length * this.unloadMs + this.opts.profiles.loadMs(model, now);
  }

  /** The earliest any worker could finish `rows` rows of `model` if it ran them next on its own. */
  earliestFinish(model: string, rows: number, now: number): number {
    return this.earliestStart(model, now) + this.exec(model, rows, now) + this.noiseMs(now);
  }

  /**
   * Scheduling noise, ms: how much later than predicted the results of recent INFER actions
   * reached the controller (a late start, a run longer than profiled, a late delivery; the
   * largest, fading by half every 250 ms), or the controller loop's current lag if that is larger
   * (a stall in progress delays every result). The largest, not a quantile: under overload
   * least-slack batching runs many requests close to their deadline, so any delay the margin
   * leaves out turns into late answers. Fading, not held for a fixed window: a delay held in full
   * for 2 s refused everything for 2 s whenever it exceeded the SLO less the run. Every
   * feasibility check adds it, so on a machine whose cores are shared the scheduler plans with
   * the delays it actually sees rather than run requests into their deadlines.
   */
  noiseMs(now: number): number {
    return Math.max(this.noise.value(now), this.opts.lagMs?.() ?? 0);
  }

  private earliestStart(model: string, now: number): number {
    let best = Infinity;
    for (const w of this.workers) best = Math.min(best, this.startOn(w, model, now));
    return best;
  }

  /** Predicted time to run `rows` rows of `model` in full batches plus one partial batch. */
  private work(model: string, rows: number, now: number): number {
    const max = this.opts.profiles.maxBatch;
    const full = Math.floor(rows / max);
    const rest = rows - full * max;
    return (full > 0 ? full * this.exec(model, max, now) : 0) + (rest > 0 ? this.exec(model, rest, now) : 0);
  }

  /**
   * When a request of `rows` rows of `model` with internal deadline `deadline`, arriving now,
   * could finish at the earliest: after the work queued ahead of it (earliest-deadline first: the
   * queued rows whose deadline is not later than its own, batched per model) is shared among the
   * workers that are up, and after its own batch. This is what arrival admission checks, so a
   * request the queue cannot serve in time is refused at once instead of waiting to be dropped.
   */
  arrivalFinish(model: string, rows: number, deadline: number, now: number): number {
    const e = this.explainArrival(model, rows, deadline, now);
    return now + e.startMs + e.aheadMs + e.ownMs + e.noiseMs;
  }

  /** The parts of `arrivalFinish`, ms from `now` (a refusal reports them). */
  explainArrival(model: string, rows: number, deadline: number, now: number): ArrivalEstimate {
    let start = this.earliestStart(model, now);
    // A cold model that has waited too long for its load reserves a worker for it: arrivals count
    // the load as work ahead of them, so the queue drains until the load fits.
    for (const [m, since] of this.wantedLoads) if (now - since >= this.coldReserveMs && m !== model) start += this.opts.profiles.loadMs(m, now) / this.upWorkers();
    let others = 0;
    let ownRows = rows;
    for (const [m, q] of this.queues) {
      if (q.length === 0) continue;
      const ahead = rowsAhead(q, deadline);
      if (m === model) ownRows += ahead;
      else if (ahead > 0) others += this.work(m, ahead, now);
    }
    const own = this.work(model, ownRows, now);
    const ownAlone = this.work(model, rows, now);
    return { startMs: start - now, aheadMs: others / this.upWorkers() + (own - ownAlone), ownMs: ownAlone, noiseMs: this.noiseMs(now), headroomMs: this.opts.admissionHeadroomMs ?? 0 };
  }

  private upWorkers(): number {
    let n = 0;
    for (const w of this.workers) if (w.up) n++;
    return Math.max(1, n);
  }

  /** Whether some worker holds `model` (resident or loading). */
  isHeld(model: string): boolean {
    return this.workers.some((w) => w.up && w.store.state(model) !== undefined);
  }

  /** Whether a load of `model` is wanted (its first request was refused because it was cold). */
  isLoadWanted(model: string): boolean {
    return this.wantedLoads.has(model);
  }

  /** Admission at arrival without queueing anything (the HTTP door asks before reading a body). */
  probe(model: string, rows: number, deadline: number, now: number): AdmissionDecision {
    return this.admit({ id: -1, model, rows, arrival: now, deadline }, now);
  }

  submit(req: QueuedRequest, now: number): AdmissionDecision {
    const decision = this.admit(req, now);
    if (!decision.ok) return decision;
    let q = this.queues.get(req.model);
    if (!q) this.queues.set(req.model, (q = []));
    insertByDeadline(q, req);
    this.queued++;
    return decision;
  }

  private admit(req: QueuedRequest, now: number): AdmissionDecision {
    if (!this.opts.modelBytes.has(req.model)) throw new RangeError(`unknown model ${req.model}`);
    if (req.rows > this.opts.profiles.maxBatch) return { ok: false, reason: `request has ${req.rows} rows, more than the largest batch ${this.opts.profiles.maxBatch}` };
    const e = this.explainArrival(req.model, req.rows, req.deadline, now);
    const decision = this.opts.admission.tryAcquire(req, now + e.startMs + e.aheadMs + e.ownMs + e.noiseMs + e.headroomMs);
    if (!decision.ok) {
      decision.estimate = e;
      // Clockwork loads a cold model for its first request; when that load cannot meet the
      // request's deadline the request is refused, and the model is loaded meanwhile.
      if (this.opts.policy === 'clockwork' && !this.isHeld(req.model)) {
        if (!this.wantedLoads.has(req.model)) this.wantedLoads.set(req.model, now);
        return { ok: false, reason: `${decision.reason}: model ${req.model} is cold (not loaded on any worker); it is being loaded now, retry shortly`, cold: true };
      }
    }
    return decision;
  }

  schedule(now: number): Plan {
    const dropped: Drop[] = [];
    for (const [model, q] of this.queues) {
      while (q.length > 0) {
        const d = this.opts.admission.tryAcquire(q[0]!, this.earliestFinish(model, q[0]!.rows, now));
        if (d.ok) break;
        dropped.push({ request: q.shift()!, reason: d.reason });
        this.queued--;
      }
    }
    const actions: Action[] = [];
    for (let i = 0; i < this.workers.length; i++) {
      const w = this.workers[i]!;
      if (!w.up || w.outstanding.size > 0 || (this.queued === 0 && this.wantedLoads.size === 0)) continue;
      const picked = this.opts.policy === 'clockwork' ? this.pickClockwork(i, now) : this.pickFifo(i, now);
      if (!picked) continue;
      for (const a of picked) {
        w.outstanding.set(a.id, a);
        w.busyUntil = Math.max(now, w.busyUntil) + a.predictedMs;
        actions.push(a);
      }
    }
    return this.queued === 0 && this.wantedLoads.size === 0 ? { actions, dropped } : { actions, dropped, wakeAt: this.wakeTime(now) };
  }

  private wakeTime(now: number): number {
    let wake = Infinity;
    const noise = this.noiseMs(now);
    for (const [model, q] of this.queues) if (q.length > 0) wake = Math.min(wake, q[0]!.deadline - this.exec(model, q[0]!.rows, now) - noise);
    for (const w of this.workers) if (w.loads.length > 0) wake = Math.min(wake, w.loads[0]!.end + LOAD_SHARE_WINDOW_MS);
    return Math.max(wake, now + 0.1);
  }

  /** Whether worker `w` may start another load without exceeding its load share. */
  private mayLoad(w: WorkerState, now: number): boolean {
    return this.loadAllowedAt(w, now) <= now;
  }

  /** The earliest time worker `w`'s recent loads leave room for another under the load share. */
  private loadAllowedAt(w: WorkerState, now: number): number {
    while (w.loads.length > 0 && w.loads[0]!.end < now - LOAD_SHARE_WINDOW_MS) w.loads.shift();
    const limit = this.maxLoadShare * LOAD_SHARE_WINDOW_MS;
    let ms = 0;
    for (const l of w.loads) ms += l.ms;
    for (const l of w.loads) {
      if (ms < limit) break;
      ms -= l.ms;
      if (ms < limit) return l.end + LOAD_SHARE_WINDOW_MS;
    }
    return now;
  }

  private takeBatch(model: string, count: number): QueuedRequest[] {
    const q = this.queues.get(model)!;
    const taken = q.splice(0, count);
    this.queued -= taken.length;
    return taken;
  }

  private inferAction(wi: number, model: string, count: number, rows: number, now: number, latest: number): Action[] {
    const w = this.workers[wi]!;
    const requests = this.takeBatch(model, count);
    w.store.pin(model, now);
    const bucket = this.opts.profiles.bucket(rows);
    return [{ kind: 'INFER', id: this.nextActionId++, worker: wi, model, requests, rows, bucket, earliest: now, latest, predictedMs: this.opts.profiles.execMs(model, bucket, now) }];
  }

  private loadActions(wi: number, model: string, victims: string[], now: number, latest: number): Action[] {
    const w = this.workers[wi]!;
    const out: Action[] = victims.map((v) => {
      w.store.remove(v);
      return { kind: 'UNLOAD', id: this.nextActionId++, worker: wi, model: v, earliest: now, latest: Infinity, predictedMs: this.unloadMs };
    });
    w.store.beginLoad(model, this.opts.modelBytes.get(model)!, now);
    this.loadsInFlight++;
    const profiles = this.opts.profiles;
    const profileBatches = profiles.hasProfile(model) ? [] : profiles.opts.batchSizes;
    const profileMs = profileBatches.length * this.profileRuns * profiles.opts.defaultExecMs;
    out.push({ kind: 'LOAD', id: this.nextActionId++, worker: wi, model, profileBatches, earliest: now, latest, predictedMs: profiles.loadMs(model, now) + profileMs });
    return out;
  }

  private pickClockwork(wi: number, now: number): Action[] | undefined {
    const w = this.workers[wi]!;
    const maxBatch = this.opts.profiles.maxBatch;
    const cands: Candidate[] = [];
    const mayLoad = this.loadsInFlight < this.opts.maxLoadsInFlight && this.mayLoad(w, now);
    const noise = this.noiseMs(now);
    for (const [model, q] of this.queues) {
      if (q.length === 0) continue;
      const front = q[0]!;
      const state = w.store.state(model);
      if (state === 'resident') {
        let rows = 0;
        let count = 0;
        let countRows = 0;
        let est = 0;
        for (let i = 0; i < q.length; i++) {
          rows += q[i]!.rows;
          if (rows > maxBatch) break;
          const e = this.exec(model, rows, now);
          if (now + e + noise <= front.deadline) {
            count = i + 1;
            countRows = rows;
            est = e;
          }
        }
        if (count === 0) continue;
        const latest = front.deadline - est - noise;
        cands.push({ kind: 'INFER', slack: front.deadline - (now + est + noise), predictedMs: est, build: () => this.inferAction(wi, model, count, countRows, now, latest) });
      } else if (state === undefined && mayLoad) {
        const e1 = this.exec(model, front.rows, now);
        const heldElsewhere = this.workers.some((o) => o !== w && o.up && o.store.state(model) !== undefined);
        if (heldElsewhere) {
          let there = Infinity;
          for (const o of this.workers) if (o !== w && o.store.state(model) !== undefined) there = Math.min(there, this.startOn(o, model, now));
          if (there + e1 <= front.deadline) continue;
        }
        const victims = w.store.planEviction(this.opts.modelBytes.get(model)!);
        if (victims === undefined) continue;
        const loadCost = victims.length * this.unloadMs + this.opts.profiles.loadMs(model, now);
        const finish = now + loadCost + e1 + noise;
        if (finish > front.deadline) continue;
        const latest = front.deadline - e1 - noise - this.opts.profiles.loadMs(model, now);
        cands.push({ kind: 'LOAD', slack: front.deadline - finish, predictedMs: loadCost, build: () => this.loadActions(wi, model, victims, now, latest) });
      }
    }
    const cold = mayLoad && this.wantedLoads.size > 0 ? this.coldCandidate(wi, now) : undefined;
    // A wanted load has no deadline of its own: it runs when the worker has nothing else to do, or
    // when it pushes no queued request past its deadline.
    if (cold && (cands.length === 0 || (cands.every((c) => c.kind === 'INFER') && now + cold.loadMs + this.queuedWork(now) / this.upWorkers() <= this.minQueuedDeadline()))) return cold.build();
    if (cands.length === 0) return undefined;
    cands.sort((a, b) => a.slack - b.slack || (a.kind === 'INFER' ? -1 : 1) - (b.kind === 'INFER' ? -1 : 1));
    let pick = cands[0]!;
    if (pick.kind === 'LOAD') {
      // On a CPU worker a load blocks inference (Clockwork's GPUs load over PCIe alongside): first
      // run a batch the load would push past its deadline, when the load can still wait for it.
      // The load share (mayLoad) bounds how much inference loads can displace.
      const urgent = cands.find((c) => c.kind === 'INFER' && c.slack < pick.predictedMs && pick.slack >= c.predictedMs);
      if (urgent) pick = urgent;
    }
    return pick.build();
  }

  /** The LOAD (with its evictions) of the longest-wanted cold model this worker can hold. */
  private coldCandidate(wi: number, now: number): { loadMs: number; build: () => Action[] } | undefined {
    const w = this.workers[wi]!;
    for (const model of [...this.wantedLoads.keys()]) {
      if (this.isHeld(model)) {
        this.wantedLoads.delete(model);
        continue;
      }
      // Queued requests make it an ordinary LOAD candidate.
      if ((this.queues.get(model)?.length ?? 0) > 0) continue;
      const victims = w.store.planEviction(this.opts.modelBytes.get(model)!);
      if (victims === undefined) continue;
      return {
        loadMs: victims.length * this.unloadMs + this.opts.profiles.loadMs(model, now),
        build: () => {
          this.wantedLoads.delete(model);
          return this.loadActions(wi, model, victims, now, Infinity);
        },
      };
    }
    return undefined;
  }

  /** Predicted time to run everything queued. */
  private queuedWork(now: number): number {
    let ms = 0;
    for (const [m, q] of this.queues) {
      if (q.length === 0) continue;
      let rows = 0;
      for (const r of q) rows += r.rows;
      ms += this.work(m, rows, now);
    }
    return ms;
  }

  private minQueuedDeadline(): number {
    let d = Infinity;
    for (const q of this.queues.values()) if (q.length > 0) d = Math.min(d, q[0]!.deadline);
    return d;
  }

  private pickFifo(wi: number, now: number): Action[] | undefined {
    const w = this.workers[wi]!;
    const maxBatch = this.opts.profiles.maxBatch;
    const heads = [...this.queues.entries()].filter(([, q]) => q.length > 0).sort((a, b) => a[1][0]!.arrival - b[1][0]!.arrival);
    for (const [model, q] of heads) {
      const state = w.store.state(model);
      if (state === 'resident') {
        let rows = 0;
        let count = 0;
        while (count < q.length && rows + q[count]!.rows <= maxBatch) rows += q[count++]!.rows;
        return this.inferAction(wi, model, count, rows, now, Infinity);
      }
      if (state !== undefined) continue;
      if (this.workers.some((o) => o !== w && o.up && o.store.state(model) !== undefined)) continue;
      if (this.loadsInFlight >= this.opts.maxLoadsInFlight) continue;
      const victims = w.store.planEviction(this.opts.modelBytes.get(model)!);
      if (victims === undefined) continue;
      return this.loadActions(wi, model, victims, now, Infinity);
    }
    return undefined;
  }

  /** Records what a worker reported for an action and frees the worker when it has nothing left. */
  complete(worker: number, actionId: number, outcome: Outcome, now: number): { action: Action; predictedMs: number } | undefined {
    const w = this.workers[worker]!;
    const a = w.outstanding.get(actionId);
    if (!a) return undefined;
    let predictedMs = a.predictedMs;
    w.outstanding.delete(actionId);
    if (w.outstanding.size === 0) w.busyUntil = now;
    const profiles = this.opts.profiles;
    if (a.kind === 'INFER') {
      w.store.unpin(a.model);
      if (outcome.status === 'done') {
        // Dispatch to the result seen here, less the prediction: a late start, a run longer than
        // profiled and a late delivery (the controller's loop busy, or collecting garbage).
        this.noise.add(Math.max(0, now - a.earliest - a.predictedMs), now);
        profiles.recordExec(a.model, a.bucket, outcome.ms, now);
        this.opts.predictions?.add({ kind: 'INFER', model: a.model, batch: a.bucket, predictedMs: a.predictedMs, actualMs: outcome.ms });
      } else if (outcome.status === 'window') {
        const q = this.queues.get(a.model)!;
        for (const r of a.requests) insertByDeadline(q, r);
        this.queued += a.requests.length;
      }
    } else if (a.kind === 'LOAD') {
      this.loadsInFlight--;
      w.store.finishLoad(a.model, outcome.status === 'done');
      if (outcome.status === 'done') {
        w.loads.push({ end: now, ms: outcome.ms });
        // The action's prediction also covered profiling; the load alone is compared.
        predictedMs = profiles.loadMs(a.model, now);
        profiles.recordLoad(a.model, outcome.ms, now);
        for (const p of outcome.profile ?? []) profiles.recordExec(a.model, p.batch, p.ms, now);
        this.opts.predictions?.add({ kind: 'LOAD', model: a.model, batch: 0, predictedMs, actualMs: outcome.ms });
      }
    } else if (outcome.status === 'done') {
      this.opts.predictions?.add({ kind: 'UNLOAD', model: a.model, batch: 0, predictedMs: a.predictedMs, actualMs: outcome.ms });
    }
    return { action: a, predictedMs };
  }

  /** A worker died: forget what it held and hand back its in-flight actions (to fail them). */
  workerDown(worker: number): Action[] {
    const w = this.workers[worker]!;
    const lost = [...w.outstanding.values()];
    for (const a of lost) if (a.kind === 'LOAD') this.loadsInFlight--;
    w.outstanding.clear();
    w.store.clear();
    w.up = false;
    return lost;
  }

  workerUp(worker: number, now: number): void {
    const w = this.workers[worker]!;
    w.up = true;
    w.busyUntil = now;
  }

  /** Removes every queued request (shutdown, or ending a benchmark point). */
  drainQueued(): QueuedRequest[] {
    const all: QueuedRequest[] = [];
    for (const q of this.queues.values()) all.push(...q.splice(0));
    this.queued = 0;
    return all;
  }
}
