/**
 * A worker thread: owns onnxruntime InferenceSessions (one intra-op and one inter-op thread each,
 * so a worker is exactly one core's worth of work) and runs exactly one action at a time, in the
 * order received. An action that cannot start inside its [earliest, latest] window is refused with
 * a typed result rather than run late. On `close` it finishes the action in hand, releases every
 * session and exits by itself: terminating a thread while onnxruntime creates or runs a session
 * aborts the whole process (`terminate called after throwing an instance of 'Napi::Error'`).
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { nowMs } from './protocol.ts';
import type { FromWorker, ToWorker, WireAction, WireOutput, WireTensorSpec, WorkerData } from './protocol.ts';

const port = parentPort;
if (!port) throw new Error('worker.ts must run in a worker thread');
const data = (workerData ?? {}) as WorkerData;

const sessions = new Map<string, ort.InferenceSession>();
const queue: WireAction[] = [];
/** The loop running queued actions, while there is one. */
let draining: Promise<void> | null = null;
let closing = false;

// 'basic' (constant folding, redundant-node removal) rather than 'all': the extended/layout
// optimizations cost several ms per LOAD and bought nothing measurable on these small graphs.
const sessionOptions: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'basic' };

/** Results go to their own channel when the controller gave one (see WorkerData.results). */
const results = data.results ?? port;

function post(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  (msg.type === 'result' ? results : port!).postMessage(msg, transfer);
}

function feedsFor(inputs: WireTensorSpec[], batch: number): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const t of inputs) {
    const per = t.featureShape.reduce((a, b) => a * b, 1);
    const arr = new Float32Array(batch * per);
    for (let i = 0; i < arr.length; i++) arr[i] = ((i * 7919) % 1000) / 500 - 1;
    feeds[t.name] = new ort.Tensor('float32', arr, [batch, ...t.featureShape]);
  }
  return feeds;
}

async function load(a: Extract<WireAction, { kind: 'LOAD' }>): Promise<FromWorker> {
  const startedAt = nowMs();
  const old = sessions.get(a.model);
  if (old) {
    sessions.delete(a.model);
    await old.release();
  }
  // The bytes may live in a SharedArrayBuffer shared with the controller; give ORT its own copy.
  const session = await ort.InferenceSession.create(new Uint8Array(a.bytes), sessionOptions);
  const ms = nowMs() - startedAt;
  sessions.set(a.model, session);
  const profile: { batch: number; ms: number }[] = [];
  for (const b of a.profileBatches) {
    const feeds = feedsFor(a.inputs, b);
    await session.run(feeds);
    for (let r = 0; r < a.profileRuns; r++) {
      const t0 = nowMs();
      await session.run(feeds);
      profile.push({ batch: b, ms: nowMs() - t0 });
    }
  }
  return { type: 'result', id: a.id, status: 'done', startedAt, ms, profile };
}

async function unload(a: Extract<WireAction, { kind: 'UNLOAD' }>): Promise<FromWorker> {
  const startedAt = nowMs();
  const s = sessions.get(a.model);
  sessions.delete(a.model);
  if (s) await s.release();
  return { type: 'result', id: a.id, status: 'done', startedAt, ms: nowMs() - startedAt };
}

function crashNow(): void {
  if (data.crash!.mode === 'exit') process.exit(70);
  setImmediate(() => {
    throw new Error(`test crash hook: worker dies running ${data.crash!.model}`);
  });
}

async function infer(a: Extract<WireAction, { kind: 'INFER' }>): Promise<{ msg: FromWorker; transfer: ArrayBuffer[] }> {
  const startedAt = nowMs();
  const session = sessions.get(a.model);
  if (!session) return { msg: { type: 'result', id: a.id, status: 'failed', startedAt, message: `model ${a.model} is not loaded on this worker` }, transfer: [] };
  if (data.crash && data.crash.model === a.model) {
    crashNow();
    await new Promise(() => undefined);
  }
  const total = a.rows.reduce((x, y) => x + y, 0);
  const feeds: Record<string, ort.Tensor> = {};
  for (const t of a.inputs) {
    const per = t.featureShape.reduce((x, y) => x * y, 1);
    const buf = new Float32Array(total * per);
    let off = 0;
    for (const p of t.parts) {
      buf.set(p, off);
      off += p.length;
    }
    feeds[t.name] = new ort.Tensor('float32', buf, [total, ...t.featureShape]);
  }
  const result = await session.run(feeds);
  const ms = nowMs() - startedAt;
  const outputs: WireOutput[] = [];
  const transfer: ArrayBuffer[] = [];
  for (const name of a.outputs) {
    const t = result[name];
    if (!t) return { msg: { type: 'result', id: a.id, status: 'failed', startedAt, message: `model ${a.model} produced no output ${name}` }, transfer: [] };
    const values = t.data as Float32Array;
    const featureShape = t.dims.slice(1).map(Number);
    const per = featureShape.reduce((x, y) => x * y, 1);
    const parts: Float32Array[] = [];
    let row = 0;
    for (const r of a.rows) {
      const part = values.slice(row * per, (row + r) * per);
      parts.push(part);
      transfer.push(part.buffer as ArrayBuffer);
      row += r;
    }
    outputs.push({ name, featureShape, parts });
  }
  return { msg: { type: 'result', id: a.id, status: 'done', startedAt, ms, outputs }, transfer };
}

async function runOne(a: WireAction): Promise<void> {
  let now = nowMs();
  // Timers have millisecond granularity and may fire a fraction early against this clock: wait
  // until the earliest start has really passed.
  while (now < a.earliest) {
    await new Promise((r) => setTimeout(r, Math.max(1, Math.ceil(a.earliest - now))));
    now = nowMs();
  }
  if (now > a.latest) {
    post({ type: 'result', id: a.id, status: 'window', startedAt: now, message: `started ${(now - a.latest).toFixed(2)} ms after the latest start` });
    return;
  }
  try {
    if (a.kind === 'INFER') {
      const { msg, transfer } = await infer(a);
      post(msg, transfer);
    } else post(a.kind === 'LOAD' ? await load(a) : await unload(a));
  } catch (err) {
    post({ type: 'result', id: a.id, status: 'failed', startedAt: now, message: err instanceof Error ? err.message : String(err) });
  }
}

function drain(): void {
  if (draining) return;
  draining = (async () => {
    while (queue.length > 0 && !closing) await runOne(queue.shift()!);
    draining = null;
  })();
}

/** Warms onnxruntime up once; `close` waits for it too (it creates a session). */
async function warmUp(bytes: Uint8Array): Promise<void> {
  const s = await ort.InferenceSession.create(bytes, sessionOptions);
  await s.run({ x: new ort.Tensor('float32', new Float32Array(4), [1, 4]) });
  await s.release();
}
const warmed = data.warmup ? warmUp(data.warmup) : Promise.resolve();

/** Stops taking actions, lets the one in hand finish, releases every session, says so and lets the thread end. */
async function close(): Promise<void> {
  closing = true;
  queue.length = 0;
  await warmed.catch(() => {});
  while (draining) await draining;
  for (const s of sessions.values()) await s.release().catch(() => {});
  sessions.clear();
  post({ type: 'closed' });
  if (results !== port) results.close();
  port!.close();
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'close') {
    if (!closing) void close();
    return;
  }
  if (closing) return;
  queue.push(m.action);
  drain();
});

await warmed;
if (!closing) post({ type: 'ready' });
