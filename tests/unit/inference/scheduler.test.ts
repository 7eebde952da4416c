import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeadlineAdmission, SequentialAdmission } from '../../../pipelines/inference/admission.ts';
import { ProfileStore } from '../../../pipelines/inference/profiles.ts';
import { PredictionLog } from '../../../pipelines/inference/prediction-log.ts';
import { Scheduler } from '../../../pipelines/inference/scheduler.ts';
import type { Action, Policy, QueuedRequest } from '../../../pipelines/inference/scheduler.ts';
import { mulberry32 } from '../../../pipelines/core/random.ts';
import { lateCause } from '../../../pipelines/inference/pool.ts';

const BATCHES = [1, 2, 4, 8, 16];
/** The fake executor's exact cost model, also seeded into the profiles (accurate profiles). */
const execCost = (bucket: number) => 0.6 + 0.15 * bucket;
const LOAD_MS = 3;
const UNLOAD_MS = 0.5;

function setup(opts: { models: string[]; budgetModels: number; workers?: number; policy?: Policy; admissionHeadroomMs?: number }) {
  const profiles = new ProfileStore({ batchSizes: BATCHES, loadMaxAgeMs: Infinity, execMaxAgeMs: Infinity });
  for (const m of opts.models) {
    for (const b of BATCHES) profiles.recordExec(m, b, execCost(b), 0);
    profiles.recordLoad(m, LOAD_MS, 0);
  }
  const policy = opts.policy ?? 'clockwork';
  const sched = new Scheduler({
    workers: opts.workers ?? 1,
    memoryBudgetBytes: opts.budgetModels * 1000,
    modelBytes: new Map(opts.models.map((m) => [m, 1000])),
    maxLoadsInFlight: 1,
    policy,
    admission: policy === 'clockwork' ? new DeadlineAdmission() : new SequentialAdmission(),
    profiles,
    predictions: new PredictionLog(100),
    unloadMs: UNLOAD_MS,
    ...(opts.admissionHeadroomMs !== undefined ? { admissionHeadroomMs: opts.admissionHeadroomMs } : {}),
  });
  return { sched, profiles };
}

function actualMs(a: Action): number {
  return a.kind === 'INFER' ? execCost(a.bucket) : a.kind === 'LOAD' ? LOAD_MS : UNLOAD_MS;
}

/**
 * Discrete-event simulation: Poisson arrivals, a fake executor whose actions take exactly the
 * profiled time, workers that run their actions one at a time in order.
 */
function simulate(opts: { rate: number; durationMs: number; sloMs: number; models: string[]; budgetModels: number; workers: number; seed: number }) {
  const { sched } = setup(opts);
  const rand = mulberry32(opts.seed);
  const arrivals: QueuedRequest[] = [];
  let t = 0;
  let id = 1;
  while (t < opts.durationMs) {
    t += -Math.log(1 - rand()) * (1000 / opts.rate);
    // Skewed popularity: a few hot models, a long tail that needs loads.
    const m = opts.models[Math.min(opts.models.length - 1, Math.floor(opts.models.length * rand() ** 2))]!;
    arrivals.push({ id: id++, model: m, rows: 1, arrival: t, deadline: t + opts.sloMs });
  }
  type Done = { at: number; worker: number; action?: Action };
  const completions: Done[] = [];
  const workerFree = new Array<number>(opts.workers).fill(0);
  const executed: { action: Action; start: number; end: number }[] = [];
  let refusedAtArrival = 0;
  let dropped = 0;
  const refusedIds = new Set<number>();
  let i = 0;
  const step = (now: number) => {
    const plan = sched.schedule(now);
    dropped += plan.dropped.length;
    // A wake-up the scheduler asked for is an event without an action.
    if (plan.wakeAt !== undefined && !completions.some((c) => c.action === undefined && c.at === plan.wakeAt)) completions.push({ at: plan.wakeAt, worker: -1 });
    for (const a of plan.actions) {
      const start = Math.max(now, workerFree[a.worker]!);
      assert.ok(start >= a.earliest, 'never starts before its window');
      assert.ok(start <= a.latest, `action ${a.kind} ${a.id} would start after its latest start`);
      const end = start + actualMs(a);
      workerFree[a.worker] = end;
      executed.push({ action: a, start, end });
      completions.push({ at: end, worker: a.worker, action: a });
    }
    completions.sort((x, y) => x.at - y.at);
  };
  while (i < arrivals.length || completions.length > 0) {
    const nextArrival = arrivals[i]?.arrival ?? Infinity;
    const nextDone = completions[0]?.at ?? Infinity;
    if (nextDone <= nextArrival) {
      const d = completions.shift()!;
      if (d.action) sched.complete(d.worker, d.action.id, { status: 'done', ms: actualMs(d.action) }, d.at);
      step(d.at);
    } else {
      const r = arrivals[i++]!;
      const decision = sched.submit(r, r.arrival);
      if (!decision.ok) {
        refusedAtArrival++;
        refusedIds.add(r.id);
      }
      step(r.arrival);
    }
  }
  return { arrivals, executed, refusedAtArrival, dropped, refusedIds };
}

test('batching never makes an admitted request late when profiles are accurate', () => {
  const models = Array.from({ length: 12 }, (_, k) => `m${k}`);
  for (const [rate, seed] of [[1500, 1], [3000, 2], [6000, 3]] as const) {
    const r = simulate({ rate, durationMs: 2000, sloMs: 25, models, budgetModels: 4, workers: 2, seed });
    const infers = r.executed.filter((e) => e.action.kind === 'INFER');
    let late = 0;
    let served = 0;
    for (const e of infers) {
      if (e.action.kind !== 'INFER') continue;
      for (const q of e.action.requests) {
        served++;
        if (e.end > q.deadline) late++;
      }
    }
    assert.equal(late, 0, `rate ${rate}: ${late} of ${served} executed requests finished after their deadline`);
    // The run must exercise what it claims to: batches, loads with evictions, and refusals under overload.
    assert.ok(infers.some((e) => e.action.kind === 'INFER' && e.action.requests.length > 1), 'some batches hold several requests');
    assert.ok(r.executed.some((e) => e.action.kind === 'UNLOAD'), 'the budget forces evictions');
    assert.equal(served + r.refusedAtArrival + r.dropped, r.arrivals.length, 'every request is served or refused exactly once');
    if (rate === 6000) assert.ok(r.refusedAtArrival + r.dropped > 0, 'overload is refused');
  }
});

test('the FIFO baseline under the same overload runs requests past their deadline', () => {
  const models = Array.from({ length: 12 }, (_, k) => `m${k}`);
  const { sched } = setup({ models, budgetModels: 4, workers: 1, policy: 'fifo' });
  for (let k = 0; k < 200; k++) assert.ok(sched.submit({ id: k, model: models[k % 12]!, rows: 1, arrival: 0, deadline: 25 }, 0).ok);
  let now = 0;
  let late = 0;
  for (;;) {
    const plan = sched.schedule(now);
    assert.equal(plan.dropped.length, 0);
    if (plan.actions.length === 0) break;
    for (const a of plan.actions) {
      now += actualMs(a);
      if (a.kind === 'INFER') late += a.requests.filter((q) => now > q.deadline).length;
      sched.complete(a.worker, a.id, { status: 'done', ms: actualMs(a) }, now);
    }
  }
  assert.ok(late > 0);
});

test('admission refuses at arrival a request whose deadline cannot be met, before running it', () => {
  const { sched } = setup({ models: ['a', 'b'], budgetModels: 2 });
  // Make the worker busy with a 16-row batch of a (load 3 ms + exec 3 ms).
  for (let k = 0; k < 16; k++) assert.ok(sched.submit({ id: k, model: 'a', rows: 1, arrival: 0, deadline: 100 }, 0).ok);
  const first = sched.schedule(0);
  assert.deepEqual(first.actions.map((a) => a.kind), ['LOAD']);
  // b needs a load (3 ms) plus exec (0.75 ms) after the worker frees at 3 ms: earliest finish 6.75 ms.
  const tight = sched.submit({ id: 100, model: 'b', rows: 1, arrival: 0, deadline: 6 }, 0);
  assert.equal(tight.ok, false);
  assert.match((tight as { reason: string }).reason, /deadline cannot be met/);
  const fine = sched.submit({ id: 101, model: 'b', rows: 1, arrival: 0, deadline: 30 }, 0);
  assert.equal(fine.ok, true);
  // Run everything; the refused request never appears in any action.
  let now = 0;
  const seen = new Set<number>();
  let pending: Action[] = first.actions;
  while (pending.length > 0) {
    const a = pending.shift()!;
    now += actualMs(a);
    if (a.kind === 'INFER') for (const q of a.requests) seen.add(q.id);
    sched.complete(a.worker, a.id, { status: 'done', ms: actualMs(a) }, now);
    pending = pending.concat(sched.schedule(now).actions);
  }
  assert.ok(!seen.has(100));
  assert.ok(seen.has(101));
  assert.equal(seen.size, 17);
});

test('admission headroom: arrival wants the finish that much before the deadline; an admitted request keeps its place after', () => {
  for (const headroom of [0, 5]) {
    const { sched } = setup({ models: ['a'], budgetModels: 1, admissionHeadroomMs: headroom });
    // Load a first (3 ms), so that the worker is idle and holds it.
    assert.ok(sched.submit({ id: 1, model: 'a', rows: 1, arrival: 0, deadline: 100 }, 0).ok);
    const load = sched.schedule(0).actions[0]!;
    sched.complete(load.worker, load.id, { status: 'done', ms: LOAD_MS }, LOAD_MS);
    const run = sched.schedule(LOAD_MS).actions[0]!;
    sched.complete(run.worker, run.id, { status: 'done', ms: execCost(1) }, LOAD_MS + execCost(1));
    const now = 10;
    // One row finishes 0.75 ms after now: a deadline 3 ms away is met, but not with 5 ms of headroom.
    const tight = sched.submit({ id: 2, model: 'a', rows: 1, arrival: now, deadline: now + 3 }, now);
    assert.equal(tight.ok, headroom === 0, `headroom ${headroom}`);
    if (!tight.ok) assert.equal(tight.estimate?.headroomMs, headroom);
    // Admitted with room to spare, then left queued until its slack is below the headroom: it is
    // still batched, not dropped (later checks use the deadline itself).
    assert.ok(sched.submit({ id: 3, model: 'a', rows: 1, arrival: now, deadline: now + 10 }, now).ok);
    const plan = sched.schedule(now + 8);
    assert.deepEqual(plan.dropped.map((d) => d.request.id), headroom === 0 ? [2] : []);
    const batched = plan.actions.flatMap((a) => (a.kind === 'INFER' ? a.requests.map((r) => r.id) : []));
    assert.ok(batched.includes(3), `headroom ${headroom}: the admitted request runs (${JSON.stringify(batched)})`);
  }
});

test('a late result is put down to the part that overran its plan most', () => {
  assert.equal(lateCause(true, 9, 9, 9), 'queue');
  assert.equal(lateCause(false, 1, 2, 12), 'delivery');
  assert.equal(lateCause(false, 1, 7, 3), 'exec');
  assert.equal(lateCause(false, 8, 7, 3), 'start');
});

test('a queued request is dropped as soon as its deadline becomes unreachable', () => {
  const { sched } = setup({ models: ['a'], budgetModels: 1 });
  assert.ok(sched.submit({ id: 1, model: 'a', rows: 1, arrival: 0, deadline: 4 }, 0).ok);
  const plan = sched.schedule(10);
  assert.deepEqual(plan.dropped.map((d) => d.request.id), [1]);
  assert.equal(plan.actions.length, 0);
  assert.equal(sched.queueDepth, 0);
});

test('takes the largest batch that meets every deadline in it', () => {
  const { sched } = setup({ models: ['a'], budgetModels: 1 });
  assert.ok(sched.submit({ id: 0, model: 'a', rows: 1, arrival: 0, deadline: 100 }, 0).ok);
  const load = sched.schedule(0).actions;
  sched.complete(0, load[0]!.id, { status: 'done', ms: LOAD_MS }, 3);
  for (let k = 1; k < 10; k++) assert.ok(sched.submit({ id: k, model: 'a', rows: 1, arrival: 3, deadline: 100 }, 3).ok);
  // Front deadline 3 + 2.0: bucket 8 costs 1.8 ms, bucket 16 costs 3 ms; 10 queued → 8 fit.
  assert.ok(sched.submit({ id: 99, model: 'a', rows: 1, arrival: 3, deadline: 5 }, 3).ok);
  const [a] = sched.schedule(3).actions;
  assert.equal(a!.kind, 'INFER');
  assert.equal((a as Extract<Action, { kind: 'INFER' }>).requests.length, 8);
  assert.equal((a as Extract<Action, { kind: 'INFER' }>).requests[0]!.id, 99, 'least deadline first');
});

test('least slack first across models', () => {
  const { sched } = setup({ models: ['a', 'b'], budgetModels: 2 });
  for (const m of ['a', 'b']) {
    assert.ok(sched.submit({ id: m === 'a' ? 1 : 2, model: m, rows: 1, arrival: 0, deadline: 1000 }, 0).ok);
    const [l] = sched.schedule(0).actions;
    sched.complete(0, l!.id, { status: 'done', ms: LOAD_MS }, 0);
    const [inf] = sched.schedule(0).actions;
    sched.complete(0, inf!.id, { status: 'done', ms: 1 }, 0);
  }
  assert.ok(sched.submit({ id: 3, model: 'a', rows: 1, arrival: 10, deadline: 50 }, 10).ok);
  assert.ok(sched.submit({ id: 4, model: 'b', rows: 1, arrival: 10, deadline: 20 }, 10).ok);
  const [first] = sched.schedule(10).actions;
  assert.equal(first!.model, 'b');
});

test('evicts the least recently used model to stay within the memory budget', () => {
  const { sched } = setup({ models: ['a', 'b', 'c'], budgetModels: 2 });
  let now = 0;
  let id = 1;
  const run = (model: string): Action[] => {
    assert.ok(sched.submit({ id: id++, model, rows: 1, arrival: now, deadline: now + 100 }, now).ok);
    const all: Action[] = [];
    let acts = sched.schedule(now).actions;
    while (acts.length > 0) {
      for (const a of acts) {
        all.push(a);
        now += actualMs(a);
        sched.complete(a.worker, a.id, { status: 'done', ms: actualMs(a) }, now);
      }
      acts = sched.schedule(now).actions;
    }
    return all;
  };
  run('a');
  run('b');
  run('a'); // a is now more recently used than b
  const acts = run('c');
  assert.deepEqual(acts.map((a) => `${a.kind} ${a.model}`), ['UNLOAD b', 'LOAD c', 'INFER c']);
  assert.deepEqual(sched.residentModels(0).sort(), ['a', 'c']);
  assert.ok(sched.usedBytes(0) <= 2000);
});

test('a worker that misses a start window gives its requests back to the queue', () => {
  const { sched } = setup({ models: ['a'], budgetModels: 1 });
  assert.ok(sched.submit({ id: 1, model: 'a', rows: 1, arrival: 0, deadline: 100 }, 0).ok);
  const [load] = sched.schedule(0).actions;
  sched.complete(0, load!.id, { status: 'done', ms: 3 }, 3);
  const [inf] = sched.schedule(3).actions;
  sched.complete(0, inf!.id, { status: 'window' }, 4);
  assert.equal(sched.queueDepth, 1);
  const [again] = sched.schedule(4).actions;
  assert.equal(again!.kind, 'INFER');
});

test('a crashed worker hands back its in-flight actions and forgets its models', () => {
  const { sched } = setup({ models: ['a'], budgetModels: 1 });
  assert.ok(sched.submit({ id: 1, model: 'a', rows: 1, arrival: 0, deadline: 1000 }, 0).ok);
  sched.schedule(0);
  const lost = sched.workerDown(0);
  assert.deepEqual(lost.map((a) => a.kind), ['LOAD']);
  assert.deepEqual(sched.residentModels(0), []);
  assert.equal(sched.isUp(0), false);
  const whileDown = sched.schedule(1);
  assert.equal(whileDown.actions.length, 0, 'no work goes to a dead worker');
  assert.equal(whileDown.dropped.length, 0, 'a request that the replacement can still serve stays queued');
  sched.workerUp(0, 2);
  assert.deepEqual(sched.schedule(2).actions.map((a) => a.kind), ['LOAD']);
});


test('a worker stops taking loads once loading filled its share of the last second', () => {
  const { sched } = setup({ models: ['a', 'b'], budgetModels: 2 });
  assert.ok(sched.submit({ id: 1, model: 'a', rows: 1, arrival: 0, deadline: 5000 }, 0).ok);
  const [load] = sched.schedule(0).actions;
  sched.complete(0, load!.id, { status: 'done', ms: 300 }, 300); // 30% of the last second
  const [inf] = sched.schedule(300).actions;
  assert.equal(inf!.kind, 'INFER');
  sched.complete(0, inf!.id, { status: 'done', ms: 1 }, 301);
  // b needs a load, which cannot start before 1300 (when the 300 ms load leaves the window).
  assert.equal(sched.submit({ id: 2, model: 'b', rows: 1, arrival: 400, deadline: 900 }, 400).ok, false);
  assert.ok(sched.submit({ id: 3, model: 'b', rows: 1, arrival: 400, deadline: 3000 }, 400).ok);
  const waiting = sched.schedule(400);
  assert.equal(waiting.actions.length, 0);
  assert.ok(waiting.wakeAt !== undefined && waiting.wakeAt <= 1300);
  assert.deepEqual(sched.schedule(1301).actions.map((a) => `${a.kind} ${a.model}`), ['LOAD b']);
});
