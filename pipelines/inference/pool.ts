/**
 * The inference pool: the controller thread's wiring around the pure scheduler. It validates and
 * times requests, carries the scheduler's actions to worker threads, turns their reports into
 * results, replaces crashed workers, and keeps the metrics. `infer` is the in-process API;
 * `handle` takes and returns the Avro-shaped records of the inference topics, for a Kafka consumer.
 */
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import type { Registry } from 'prom-client';
import { NotFoundError, describeError, isPanoptesError } from '../core/errors.ts';
import type { ErrorCode } from '../core/errors.ts';
import { DeadlineAdmission, SequentialAdmission } from './admission.ts';
import type { AdmissionDecision } from './admission.ts';
import { LoopLag } from './loop-lag.ts';
import { InferenceMetrics } from './metrics.ts';
import { validatePoolOptions } from './options.ts';
import type { PoolOptions } from './options.ts';
import { PredictionLog } from './prediction-log.ts';
import { ProfileStore, batchSizesUpTo } from './profiles.ts';
import { nowMs } from './protocol.ts';
import type { FromWorker, ToWorker, WireAction, WorkerData } from './protocol.ts';
import { Scheduler } from './scheduler.ts';
import type { Action, InferAction, Outcome, QueuedRequest } from './scheduler.ts';
import { requestFromRecord, resultToRecord } from './records.ts';
import type { InferenceRequestRecord, InferenceResultRecord } from './records.ts';
import { checkInputs } from './tensors.ts';
import { GraphBuilder } from './onnx/writer.ts';
import type { TensorOutput } from './tensors.ts';
import type { InferRequest, InferResult, LatencyBreakdown, PoolModel } from './types.ts';

export type { InferRequest, InferResult, LatencyBreakdown, PoolModel } from './types.ts';

interface Pending {
  req: QueuedRequest;
  model: PoolModel;
  tensors: Map<string, Float32Array>;
  sloDeadline: number;
  dispatchedAt: number;
  resolve: (r: InferResult) => void;
}

interface WorkerSlot {
  worker: Worker;
  /** The controller's end of the worker's result channel (WorkerData.results). */
  results: MessagePort;
  generation: number;
  ready: boolean;
}

const WORKER_URL = new URL('./worker.ts', import.meta.url).href;
const TSX_API = import.meta.resolve('tsx/esm/api');

/**
 * Worker files are TypeScript. `execArgv: ['--import', 'tsx']` fails on Node 20 for workers
 * (ERR_UNKNOWN_FILE_EXTENSION: the hooks register after the entry resolves), so a two-line ESM
 * bootstrap registers tsx's loader first and then imports worker.ts.
 */
export function spawnWorker(data: WorkerData): Worker {
  const code = `import(${JSON.stringify(TSX_API)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL)}); });`;
  return new Worker(code, { eval: true, workerData: data, ...(data.results ? { transferList: [data.results] } : {}) });
}

let warmupModel: Uint8Array | undefined;
function warmupBytes(): Uint8Array {
  if (!warmupModel) {
    const g = new GraphBuilder('warmup');
    g.node('Relu', [g.input('x', ['batch', 4])], {}, 'y');
    g.output('y', ['batch', 4]);
    warmupModel = g.toBytes();
  }
  return warmupModel;
}

/** The part of a late result's way that overran its plan most (`panoptes_inference_late_total`). */
export function lateCause(dispatchedTooLate: boolean, startMs: number, execOverMs: number, deliverMs: number): 'queue' | 'start' | 'exec' | 'delivery' {
  if (dispatchedTooLate) return 'queue';
  if (deliverMs >= startMs && deliverMs >= execOverMs) return 'delivery';
  return execOverMs >= startMs ? 'exec' : 'start';
}

function emptyLatency(totalMs: number): LatencyBreakdown {
  return { queueMs: totalMs, batchWaitMs: 0, execMs: 0, totalMs, batchSize: 0 };
}

/** Shares one copy of each distinct byte array among the workers (copies of a model share one). */
function shareBytes(models: PoolModel[]): Map<string, Uint8Array> {
  const byArray = new Map<Uint8Array, Uint8Array>();
  const out = new Map<string, Uint8Array>();
  for (const m of models) {
    let shared = byArray.get(m.bytes);
    if (!shared) {
      shared = new Uint8Array(new SharedArrayBuffer(m.bytes.byteLength));
      shared.set(m.bytes);
      byArray.set(m.bytes, shared);
    }
    out.set(m.name, shared);
  }
  return out;
}

export class InferencePool {
  readonly options: PoolOptions;
  readonly predictions: PredictionLog;
  readonly profiles: ProfileStore;
  /** The controller loop's lag (this thread runs the scheduler, and the HTTP door when served). */
  readonly loopLag = new LoopLag();
  private readonly metrics: InferenceMetrics;
  private readonly scheduler: Scheduler;
  private readonly models = new Map<string, PoolModel>();
  private readonly bytes: Map<string, Uint8Array>;
  private readonly pending = new Map<number, Pending>();
  private readonly slots: WorkerSlot[] = [];
  private nextRequestId = 1;
  private pumpQueued = false;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAt = Infinity;
  private closed = false;
  private readyWaiters: (() => void)[] = [];
  /** Completed-request counters since start (for tests and the CLI). */
  readonly counts = { ok: 0, rejected: 0, late: 0, error: 0 };
  restarts = 0;
  /** Worker time reported per action kind, ms (profiling included in LOAD). */
  readonly workerBusyMs = { INFER: 0, LOAD: 0, UNLOAD: 0 };

  private constructor(models: PoolModel[], registry: Registry, options: Partial<PoolOptions>) {
    this.options = validatePoolOptions(options);
    for (const m of models) this.models.set(m.name, m);
    this.bytes = shareBytes(models);
    this.profiles = new ProfileStore({ window: this.options.profileWindow, quantile: this.options.profileQuantile, batchSizes: batchSizesUpTo(this.options.maxBatch) });
    this.predictions = new PredictionLog(this.options.predictionLogSize);
    this.scheduler = new Scheduler({
      workers: this.options.workers,
      memoryBudgetBytes: this.options.memoryBudgetBytes,
      modelBytes: new Map(models.map((m) => [m.name, m.sizeBytes])),
      maxLoadsInFlight: this.options.maxLoadsInFlight,
      maxLoadShare: this.options.maxLoadShare,
      policy: this.options.policy,
      admission: this.options.policy === 'clockwork' ? new DeadlineAdmission() : new SequentialAdmission(),
      profiles: this.profiles,
      predictions: this.predictions,
      profileRuns: this.options.profileRuns,
      lagMs: () => this.loopLag.ms,
      admissionHeadroomMs: this.options.admissionHeadroomMs,
    });
    this.metrics = new InferenceMetrics(registry, {
      queueDepth: () => this.scheduler.queueDepth,
      predictionErrorP99Ms: () => this.predictions.summary().absErrorP99Ms,
      loopLagMs: () => this.loopLag.ms,
      noiseMs: () => this.scheduler.noiseMs(nowMs()),
    });
  }

  /** Starts the workers and resolves once every one is ready. */
  static async start(models: PoolModel[], registry: Registry, options: Partial<PoolOptions> = {}): Promise<InferencePool> {
    const pool = new InferencePool(models, registry, options);
    pool.loopLag.start();
    for (let i = 0; i < pool.options.workers; i++) pool.startWorker(i, 0);
    await pool.whenReady();
    return pool;
  }

  private whenReady(): Promise<void> {
    if (this.slots.every((s) => s.ready)) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  private startWorker(index: number, generation: number): void {
    const channel = new MessageChannel();
    const data: WorkerData = { warmup: warmupBytes(), results: channel.port2, ...(this.options.crashHook ? { crash: this.options.crashHook } : {}) };
    const worker = spawnWorker(data);
    const slot: WorkerSlot = { worker, results: channel.port1, generation, ready: false };
    this.slots[index] = slot;
    // Results come by this event when the loop is free, and earlier through deliverResults().
    channel.port1.on('message', (m: FromWorker) => this.onWorkerMessage(index, slot, m));
    worker.on('message', (m: FromWorker) => this.onWorkerMessage(index, slot, m));
    worker.on('error', (err) => this.onWorkerDeath(index, slot, describeError(err)));
    worker.on('exit', (code) => this.onWorkerDeath(index, slot, `exited with code ${code}`));
  }

  private onWorkerMessage(index: number, slot: WorkerSlot, m: FromWorker): void {
    if (this.slots[index] !== slot) return;
    if (m.type === 'closed') return;
    if (m.type === 'ready') {
      slot.ready = true;
      this.scheduler.workerUp(index, nowMs());
      if (this.slots.every((s) => s.ready)) for (const w of this.readyWaiters.splice(0)) w();
      this.pump();
      return;
    }
    const now = nowMs();
    const outcome: Outcome = m.status === 'done' ? { status: 'done', ms: m.ms, startedAt: m.startedAt, ...(m.profile ? { profile: m.profile } : {}) } : m.status === 'window' ? { status: 'window' } : { status: 'failed', message: m.message };
    const completed = this.scheduler.complete(index, m.id, outcome, now);
    if (!completed) return;
    const { action, predictedMs } = completed;
    this.metrics.actions.inc({ action: action.kind, outcome: m.status });
    if (m.status === 'done') {
      this.workerBusyMs[action.kind] += m.ms + (m.profile ?? []).reduce((a, p) => a + p.ms, 0);
      this.metrics.predictionError.observe({ action: action.kind }, Math.abs(m.ms - predictedMs) / 1000);
      if (m.ms > predictedMs) this.metrics.underpredictions.inc({ action: action.kind });
    }
    if (action.kind === 'INFER') {
      if (m.status === 'done') {
        this.metrics.deliver.observe(Math.max(0, now - (m.startedAt + m.ms)) / 1000);
        action.requests.forEach((r, i) => {
          const p = this.pending.get(r.id);
          if (!p) return;
          const outputs: TensorOutput[] = (m.outputs ?? []).map((o) => ({ name: o.name, datatype: 'FP32', shape: [r.rows, ...o.featureShape], data: o.parts[i]! }));
          const batchWaitMs = Math.max(0, m.startedAt - p.dispatchedAt);
          const deliverMs = Math.max(0, now - (m.startedAt + m.ms));
          const latency: LatencyBreakdown = { queueMs: p.dispatchedAt - r.arrival, batchWaitMs, execMs: m.ms, totalMs: now - r.arrival, batchSize: action.rows, deliverMs };
          const onTime = now <= p.sloDeadline;
          if (onTime) this.metrics.slack.observe((p.sloDeadline - now) / 1000);
          else this.metrics.late.inc({ cause: lateCause(p.dispatchedAt + predictedMs > p.sloDeadline, batchWaitMs, m.ms - predictedMs, deliverMs) });
          this.finish(p, { status: onTime ? 'ok' : 'late', model: r.model, version: p.model.version, outputs, latency });
        });
      } else if (m.status === 'failed') {
        this.failAction(action, 'PANOPTES_INTERNAL', `worker ${index} failed the batch: ${m.message}`, now);
      }
    }
    this.pump();
  }

  /**
   * Takes the results the workers have posted and the loop has not yet delivered, synchronously
   * (`receiveMessageOnPort`), and completes them: a busy controller thread (a flood of arrivals,
   * a long scheduling pass) would otherwise see a finished batch only once its loop reaches the
   * port's event. Called at cheap points on the hot path (each arrival at the door and at the
   * scheduler, each scheduling pass); each result is taken from its port once, in order, by this
   * or by the port's 'message' event, never by both. An empty port costs ≈ 0.25 µs.
   */
  deliverResults(): void {
    for (let i = 0; i < this.slots.length; i++) this.drainSlot(i, this.slots[i]!);
  }

  private drainSlot(index: number, slot: WorkerSlot): void {
    for (let r = receiveMessageOnPort(slot.results); r !== undefined; r = receiveMessageOnPort(slot.results)) {
      this.onWorkerMessage(index, slot, r.message as FromWorker);
      if (this.slots[index] !== slot) return;
    }
  }

  private onWorkerDeath(index: number, slot: WorkerSlot, why: string): void {
    if (this.slots[index] !== slot || this.closed) return;
    // Results the worker posted before it died are still in its port: complete them first.
    this.drainSlot(index, slot);
    slot.results.close();
    const now = nowMs();
    // Replace first so the dead slot ignores the 'exit' that follows an 'error'.
    this.restarts++;
    this.metrics.workerRestarts.inc();
    this.startWorker(index, slot.generation + 1);
    for (const a of this.scheduler.workerDown(index)) {
      this.metrics.actions.inc({ action: a.kind, outcome: 'lost' });
      if (a.kind === 'INFER') this.failAction(a, 'PANOPTES_INTERNAL', `worker ${index} crashed (${why}) while running the batch`, now);
    }
    this.pump();
  }

  private failAction(a: InferAction, code: ErrorCode, message: string, now: number): void {
    for (const r of a.requests) {
      const p = this.pending.get(r.id);
      if (!p) continue;
      this.finish(p, { status: 'error', model: r.model, error: { code, message }, latency: { ...emptyLatency(now - r.arrival), queueMs: p.dispatchedAt - r.arrival, batchSize: a.rows } });
    }
  }

  private finish(p: Pending, result: InferResult): void {
    this.pending.delete(p.req.id);
    result.deadlineAt = p.sloDeadline;
    this.counts[result.status]++;
    this.metrics.requests.inc({ model: result.model, status: result.status });
    if (result.status === 'ok' || result.status === 'late') this.metrics.latency.observe({ model: result.model }, result.latency.totalMs / 1000);
    if (result.status === 'ok') this.metrics.goodput.inc({ model: result.model });
    p.resolve(result);
  }

  /** Coalesces the scheduling passes of one event-loop turn into one. */
  private pump(): void {
    if (this.pumpQueued || this.closed) return;
    this.pumpQueued = true;
    setImmediate(() => {
      this.pumpQueued = false;
      if (!this.closed) this.runSchedule();
    });
  }

  private runSchedule(): void {
    this.deliverResults();
    const now = nowMs();
    const plan = this.scheduler.schedule(now);
    for (const d of plan.dropped) {
      const p = this.pending.get(d.request.id);
      if (!p) continue;
      this.metrics.admit('refused queue');
      this.finish(p, { status: 'rejected', model: d.request.model, reason: d.reason, latency: emptyLatency(now - d.request.arrival) });
    }
    for (const a of plan.actions) this.dispatch(a, now);
    if (plan.wakeAt !== undefined && plan.wakeAt < this.wakeAt) {
      clearTimeout(this.wakeTimer);
      this.wakeAt = plan.wakeAt;
      this.wakeTimer = setTimeout(() => {
        this.wakeAt = Infinity;
        this.wakeTimer = undefined;
        this.pump();
      }, Math.max(0, plan.wakeAt - now));
    }
  }

  private dispatch(a: Action, now: number): void {
    const slot = this.slots[a.worker]!;
    let wire: WireAction;
    const base = { id: a.id, model: a.model, earliest: a.earliest, latest: a.latest };
    if (a.kind === 'INFER') {
      const model = this.models.get(a.model)!;
      const ps = a.requests.map((r) => this.pending.get(r.id)!);
      for (const p of ps) if (p) p.dispatchedAt = now;
      wire = {
        ...base,
        kind: 'INFER',
        rows: a.requests.map((r) => r.rows),
        inputs: model.signature.inputs.map((s) => ({ name: s.name, featureShape: s.shape.slice(1), parts: ps.map((p) => p.tensors.get(s.name)!) })),
        outputs: model.signature.outputs.map((s) => s.name),
      };
    } else if (a.kind === 'LOAD') {
      const model = this.models.get(a.model)!;
      wire = { ...base, kind: 'LOAD', bytes: this.bytes.get(a.model)!, inputs: model.signature.inputs.map((s) => ({ name: s.name, featureShape: s.shape.slice(1) })), profileBatches: a.profileBatches, profileRuns: this.options.profileRuns };
    } else {
      this.metrics.evictions.inc();
      wire = { ...base, kind: 'UNLOAD' };
    }
    const msg: ToWorker = { type: 'action', action: wire };
    slot.worker.postMessage(msg);
  }

  /** Metadata of a served model, or undefined. */
  model(name: string): PoolModel | undefined {
    return this.models.get(name);
  }

  modelNames(): string[] {
    return [...this.models.keys()];
  }

  get queueDepth(): number {
    return this.scheduler.queueDepth;
  }

  get ready(): boolean {
    return !this.closed && this.slots.some((s) => s.ready);
  }

  /** Models each worker holds (for tests and diagnostics). */
  residency(): { worker: number; models: string[]; usedBytes: number }[] {
    return this.slots.map((_, i) => ({ worker: i, models: this.scheduler.residentModels(i), usedBytes: this.scheduler.usedBytes(i) }));
  }

  /**
   * Runs one request. Never throws: bad requests come back as status 'error' with code
   * PANOPTES_NOT_FOUND or PANOPTES_INPUT (the message names the expected signature).
   */
  infer(req: InferRequest): Promise<InferResult> {
    const arrival = typeof req?.arrivedAt === 'number' && req.arrivedAt <= nowMs() ? req.arrivedAt : nowMs();
    const modelName = typeof req?.model === 'string' ? req.model : '';
    const fail = (code: ErrorCode, message: string): Promise<InferResult> => {
      const r: InferResult = { status: 'error', model: modelName, error: { code, message }, latency: emptyLatency(0) };
      this.counts.error++;
      this.metrics.requests.inc({ model: modelName, status: 'error' });
      return Promise.resolve(r);
    };
    if (this.closed) return fail('PANOPTES_REFUSED', 'the pool is closed');
    const model = this.models.get(modelName);
    if (!model || (req.version !== undefined && req.version !== model.version)) {
      const e = new NotFoundError(`model ${JSON.stringify(modelName)}${req?.version !== undefined ? ` version ${req.version}` : ''} is not served`);
      return fail(e.code, e.message);
    }
    let checked;
    try {
      checked = checkInputs(model.name, model.signature, req.inputs);
    } catch (err) {
      return fail(isPanoptesError(err) ? err.code : 'PANOPTES_INTERNAL', describeError(err).replace(/^\w+: /, ''));
    }
    const slo = this.options.sloMs ?? model.sloMs;
    const sloDeadline = req.deadlineAt !== undefined ? req.deadlineAt : arrival + (req.deadlineMs ?? slo);
    const q: QueuedRequest = { id: this.nextRequestId++, model: model.name, rows: checked.rows, arrival, deadline: sloDeadline - this.options.deadlineBufferMs };
    // Finished batches first, so that admission sees the workers as they are.
    this.deliverResults();
    return new Promise<InferResult>((resolve) => {
      const p: Pending = { req: q, model, tensors: checked.tensors, sloDeadline, dispatchedAt: arrival, resolve };
      this.pending.set(q.id, p);
      const decision = this.scheduler.submit(q, arrival);
      if (!decision.ok) {
        this.metrics.admit('refused arrival');
        this.finish(p, { status: 'rejected', model: model.name, reason: decision.reason, ...(decision.cold ? { cold: true } : {}), latency: emptyLatency(nowMs() - arrival) });
        // A cold model's load is wanted: let the scheduler start it.
        if (decision.cold) this.pump();
        return;
      }
      this.metrics.admit('admitted arrival');
      this.pump();
    });
  }

  /**
   * The door's check, before a request's body is read: could `rows` rows of `model` that reach
   * the scheduler at `atScheduler` (the door's estimate) still finish by `deadlineAt` (epoch ms),
   * given the work queued ahead? Refusing here costs no body read and no parse. A cold model's
   * refusal starts its load, as at arrival.
   */
  admitAtDoor(modelName: string, rows: number, deadlineAt: number, atScheduler: number): AdmissionDecision {
    if (this.closed) return { ok: false, reason: 'the pool is closed' };
    const model = this.models.get(modelName);
    if (!model || this.options.policy !== 'clockwork') return { ok: true };
    this.deliverResults();
    const decision = this.scheduler.probe(model.name, Math.min(rows, this.options.maxBatch), deadlineAt - this.options.deadlineBufferMs, atScheduler);
    if (!decision.ok) {
      this.metrics.admit('refused door');
      if (decision.cold) this.pump();
    }
    return decision;
  }

  /** The SLO a request of `model` gets without a deadline of its own (ms). */
  sloOf(modelName: string): number | undefined {
    const model = this.models.get(modelName);
    return model ? (this.options.sloMs ?? model.sloMs) : undefined;
  }

  /** Whether a worker holds the model (for the repository index). */
  isResident(modelName: string): boolean {
    return this.scheduler.isHeld(modelName);
  }

  /**
   * The entry a Kafka consumer calls: an `inference.requests` record in, the `inference.results`
   * record to produce out. Never throws; a malformed record becomes an error result.
   */
  async handle(record: InferenceRequestRecord): Promise<InferenceResultRecord> {
    let req: InferRequest;
    try {
      req = requestFromRecord(record);
    } catch (err) {
      return resultToRecord(String(record?.id ?? ''), { status: 'error', model: String(record?.model ?? ''), error: { code: 'PANOPTES_INPUT', message: `malformed request record: ${describeError(err)}` }, latency: emptyLatency(0) });
    }
    return resultToRecord(record.id, await this.infer(req));
  }

  /** Refuses every queued request (ends a benchmark point; used by close). */
  cancelQueued(reason = 'cancelled'): number {
    const now = nowMs();
    const all = this.scheduler.drainQueued();
    for (const r of all) {
      const p = this.pending.get(r.id);
      if (p) this.finish(p, { status: 'rejected', model: r.model, reason, latency: emptyLatency(now - r.arrival) });
    }
    return all.length;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.cancelQueued('the pool is shutting down');
    this.closed = true;
    this.loopLag.stop();
    clearTimeout(this.wakeTimer);
    const now = nowMs();
    for (const p of [...this.pending.values()])
      this.finish(p, { status: 'error', model: p.req.model, error: { code: 'PANOPTES_INTERNAL', message: 'the pool shut down while the request ran' }, latency: emptyLatency(now - p.req.arrival) });
    await Promise.all(this.slots.map((s) => closeWorker(s.worker)));
    for (const s of this.slots) s.results.close();
  }
}

/** How long a worker may take to finish the action in hand and release its sessions before it is terminated. */
const WORKER_CLOSE_MS = 5_000;

/**
 * Ends a worker without aborting the process: it is asked to close (it finishes the action in hand
 * and releases its onnxruntime sessions) and terminated only if it has not exited in
 * WORKER_CLOSE_MS. Terminating it while onnxruntime creates or runs a session aborts the process.
 */
async function closeWorker(worker: Worker): Promise<void> {
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  try {
    worker.postMessage({ type: 'close' } satisfies ToWorker);
  } catch {
    // Already gone.
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), WORKER_CLOSE_MS)));
  const how = await Promise.race([exited, late]);
  clearTimeout(timer);
  if (how === 'late') await worker.terminate();
}
