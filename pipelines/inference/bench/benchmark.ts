/**
 * The Clockwork benchmark: open-loop Poisson arrivals (fixed seed) over ≥100 copies of a small MLP
 * with Zipf popularity and a per-worker memory budget that holds only a fraction of them (so loads
 * and evictions happen), SLO 25 ms. Capacity is measured first (open-loop probes with rising
 * rates: the median of the three best goodputs);
 * offered load is then swept from 0.5x to 3x capacity for Clockwork and for the FIFO baseline
 * (same workers, no admission control, deadline-blind batching). Warm-up is excluded.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { buildMlp } from '../models/mlp.ts';
import { mulberry32 } from '../../core/random.ts';
import { InferencePool } from '../pool.ts';
import type { InferResult, PoolModel } from '../pool.ts';
import { nowMs } from '../protocol.ts';
import type { Policy } from '../scheduler.ts';
import { renderSvg, writePlot } from './plot.ts';

export interface BenchOptions {
  outDir?: string;
  log?: (line: string) => void;
  signal?: AbortSignal;
  workers?: number;
  instances?: number;
  /** Models that fit one worker's memory budget. */
  residentPerWorker?: number;
  sloMs?: number;
  multipliers?: number[];
  pointSeconds?: number;
  warmupSeconds?: number;
  seed?: number;
  layers?: number[];
  zipf?: number;
  deadlineBufferMs?: number;
  policies?: Policy[];
  /** Skip the capacity measurement and use this figure (req/s). */
  capacityRps?: number;
}

export interface PointResult {
  policy: Policy;
  multiplier: number;
  offeredRps: number;
  goodputRps: number;
  /** ok / (ok + late): requests that ran and met the SLO. */
  sloAttainment: number;
  requests: number;
  ok: number;
  late: number;
  rejected: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  meanBatch: number;
  loads: number;
  /** Event-loop utilization of the controller thread during the point. */
  controllerElu: number;
  /** Share of the point's wall time the worker(s) reported busy (INFER, LOAD). */
  workerBusy: { infer: number; load: number };
  /** Mean breakdown of the requests that ran late: where the time went. */
  lateBreakdownMs: { queue: number; batchWait: number; exec: number; delivery: number };
}

export interface BenchResult {
  capacityRps: number;
  workers: number;
  instances: number;
  modelBytes: number;
  budgetBytes: number;
  sloMs: number;
  points: PointResult[];
  prediction: { inferP50Ms: number; inferP99Ms: number; loadP99Ms: number; underpredicted: number };
  elapsedS: number;
  /** 1-minute load average of the machine at start and end (2 cores, shared). */
  loadAverage: [number, number];
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function zipfSampler(n: number, s: number, rand: () => number): () => number {
  const cdf: number[] = [];
  let acc = 0;
  for (let k = 1; k <= n; k++) cdf.push((acc += 1 / k ** s));
  for (let k = 0; k < n; k++) cdf[k]! /= acc;
  return () => {
    const u = rand();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Shot {
  at: number;
  model: number;
  result?: InferResult;
  doneAt?: number;
}

/** Open loop: requests go out at their scheduled times whatever the answers; latency counts from then. */
async function openLoop(pool: InferencePool, names: string[], inputs: Float32Array[], rps: number, seconds: number, sloMs: number, seed: number, zipf: number, cancelAfter: boolean): Promise<Shot[]> {
  const rand = mulberry32(seed);
  const pick = zipfSampler(names.length, zipf, rand);
  const start = nowMs() + 5;
  const shots: Shot[] = [];
  let t = start;
  for (;;) {
    t += (-Math.log(1 - rand()) * 1000) / rps;
    if (t > start + seconds * 1000) break;
    shots.push({ at: t, model: pick() });
  }
  const dim = inputs[0]!.length;
  const all: Promise<void>[] = [];
  let i = 0;
  while (i < shots.length) {
    const now = nowMs();
    while (i < shots.length && shots[i]!.at <= now) {
      const s = shots[i++]!;
      all.push(
        pool.infer({ model: names[s.model]!, inputs: [{ name: 'input', shape: [1, dim], data: inputs[i % inputs.length]! }], deadlineAt: s.at + sloMs }).then((r) => {
          s.result = r;
          s.doneAt = nowMs();
        }),
      );
    }
    if (i < shots.length) await sleep(Math.max(0, Math.min(shots[i]!.at - nowMs(), 5)));
  }
  if (cancelAfter) {
    // The FIFO baseline has no admission control: bound the run by cancelling what is still
    // queued once every deadline of the point has passed.
    await Promise.race([Promise.all(all), sleep(sloMs + 2000)]);
    pool.cancelQueued('benchmark point over');
  }
  await Promise.all(all);
  return shots;
}

function summarize(policy: Policy, multiplier: number, shots: Shot[], fromMs: number, toMs: number, sloMs: number, loads: number, controllerElu: number, workerBusy: { infer: number; load: number }): PointResult {
  const window = shots.filter((s) => s.at >= fromMs && s.at < toMs);
  const secs = (toMs - fromMs) / 1000;
  let ok = 0;
  let late = 0;
  let rejected = 0;
  let errors = 0;
  let batchSum = 0;
  let ran = 0;
  const lat: number[] = [];
  const lb = { queue: 0, batchWait: 0, exec: 0, delivery: 0 };
  let lateRan = 0;
  for (const s of window) {
    const r = s.result!;
    const latency = s.doneAt! - s.at;
    if (r.status === 'ok' || r.status === 'late') {
      lat.push(latency);
      batchSum += r.latency.batchSize;
      ran++;
      if (r.status === 'ok' && latency <= sloMs) ok++;
      else {
        late++;
        lateRan++;
        lb.queue += r.latency.queueMs;
        lb.batchWait += r.latency.batchWaitMs;
        lb.exec += r.latency.execMs;
        lb.delivery += latency - r.latency.queueMs - r.latency.batchWaitMs - r.latency.execMs;
      }
    } else if (r.status === 'rejected') {
      // A FIFO request cancelled at the end of a point was admitted and never answered in time.
      if (policy === 'fifo') {
        late++;
        lat.push(latency);
      } else rejected++;
    } else errors++;
  }
  lat.sort((a, b) => a - b);
  return {
    policy,
    multiplier,
    offeredRps: window.length / secs,
    goodputRps: ok / secs,
    sloAttainment: ok + late === 0 ? NaN : ok / (ok + late),
    requests: window.length,
    ok,
    late,
    rejected,
    errors,
    p50Ms: quantile(lat, 0.5),
    p99Ms: quantile(lat, 0.99),
    p999Ms: quantile(lat, 0.999),
    meanBatch: ran === 0 ? 0 : batchSum / ran,
    loads,
    controllerElu,
    workerBusy,
    lateBreakdownMs: { queue: lb.queue / Math.max(1, lateRan), batchWait: lb.batchWait / Math.max(1, lateRan), exec: lb.exec / Math.max(1, lateRan), delivery: lb.delivery / Math.max(1, lateRan) },
  };
}

async function startPool(models: PoolModel[], policy: Policy, workers: number, budget: number, sloMs: number, bufferMs: number): Promise<{ pool: InferencePool; registry: Registry }> {
  const registry = new Registry();
  const pool = await InferencePool.start(models, registry, { workers, memoryBudgetBytes: budget, maxBatch: 16, maxLoadsInFlight: 1, policy, sloMs, deadlineBufferMs: bufferMs });
  return { pool, registry };
}

async function loadsSoFar(registry: Registry): Promise<number> {
  const m = await registry.getSingleMetric('panoptes_inference_actions_total')?.get();
  return (m?.values ?? []).filter((v) => v.labels['action'] === 'LOAD' && v.labels['outcome'] === 'done').reduce((a, v) => a + v.value, 0);
}

/**
 * Loads (and profiles) every instance once so that first-load costs stay out of the measurements,
 * least popular first so that the popular ones are what stays resident.
 */
async function warmModels(pool: InferencePool, names: string[], input: Float32Array): Promise<void> {
  for (const name of [...names].reverse()) await pool.infer({ model: name, inputs: [{ name: 'input', shape: [1, input.length], data: input }], deadlineMs: 5000 });
}

export async function runInferenceBenchmark(o: BenchOptions = {}): Promise<BenchResult> {
  const t0 = nowMs();
  const load0 = loadavg()[0]!;
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const workers = o.workers ?? 1;
  const instances = o.instances ?? 120;
  const sloMs = o.sloMs ?? 25;
  const multipliers = o.multipliers ?? [0.5, 1, 1.5, 2, 2.5, 3];
  const pointSeconds = o.pointSeconds ?? 6;
  const warmupSeconds = o.warmupSeconds ?? 1;
  const seed = o.seed ?? 20201104;
  const zipf = o.zipf ?? 1.1;
  const layers = o.layers ?? [256, 512, 512, 16];
  const { bytes, signature } = buildMlp({ name: 'bench-mlp', layers, seed: 7 });
  const residentPerWorker = o.residentPerWorker ?? 40;
  const budget = bytes.byteLength * residentPerWorker + 1024;
  const models: PoolModel[] = Array.from({ length: instances }, (_, k) => ({ name: `mlp-${String(k).padStart(3, '0')}`, version: '1', sizeBytes: bytes.byteLength, sloMs, signature, bytes }));
  const names = models.map((m) => m.name);
  const rand = mulberry32(seed ^ 0x5eed);
  const inputs = Array.from({ length: 16 }, () => Float32Array.from({ length: layers[0]! }, () => rand() * 2 - 1));
  log(`bench: ${instances} instances of MLP ${layers.join('x')} (${(bytes.byteLength / 1e6).toFixed(2)} MB each), budget ${(budget / 1e6).toFixed(1)} MB per worker (${residentPerWorker} models), ${workers} worker(s), SLO ${sloMs} ms`);

  const points: PointResult[] = [];
  let capacityRps = 0;
  let prediction = { inferP50Ms: 0, inferP99Ms: 0, loadP99Ms: 0, underpredicted: 0 };
  for (const policy of o.policies ?? (['clockwork', 'fifo'] as Policy[])) {
    if (o.signal?.aborted) break;
    const { pool, registry } = await startPool(models, policy, workers, budget, sloMs, o.deadlineBufferMs ?? 4);
    try {
      await warmModels(pool, names, inputs[0]!);
      if (o.capacityRps !== undefined) capacityRps = o.capacityRps;
      else if (policy === 'clockwork') {
        // Capacity: an open-loop probe with rates rising by 1.5x from 400/s until goodput stops
        // growing (same generator and model mix as the sweep). On a shared machine one 2 s probe
        // can be lucky, so capacity is the median of the three best probe goodputs.
        let rate = 400;
        let worse = 0;
        let best = 0;
        const probes: number[] = [];
        for (let probe = 0; probe < 12 && worse < 2; probe++) {
          const shots = await openLoop(pool, names, inputs, rate, 2, sloMs, seed + 1000 + probe, zipf, false);
          const first = shots[0]?.at ?? 0;
          const g = summarize(policy, 0, shots, first + 500, first + 2000, sloMs, 0, 0, { infer: 0, load: 0 }).goodputRps;
          log(`  probe ${rate.toFixed(0)}/s → goodput ${g.toFixed(0)}/s`);
          probes.push(g);
          if (g > best * 1.03) worse = 0;
          else worse++;
          best = Math.max(best, g);
          rate *= 1.5;
          await sleep(200);
        }
        capacityRps = probes.sort((a, b) => b - a)[Math.min(1, probes.length - 1)]!;
        log(`capacity: ${capacityRps.toFixed(0)} req/s within SLO (median of the three best open-loop probes)`);
      }
      for (const mult of multipliers) {
        if (o.signal?.aborted) break;
        const rps = capacityRps * mult;
        const loadsBefore = await loadsSoFar(registry);
        const elu0 = performance.eventLoopUtilization();
        const busy0 = { ...pool.workerBusyMs };
        const wall0 = nowMs();
        const shots = await openLoop(pool, names, inputs, rps, warmupSeconds + pointSeconds, sloMs, seed + Math.round(mult * 100), zipf, policy === 'fifo');
        const first = shots[0]?.at ?? 0;
        const p = summarize(policy, mult, shots, first + warmupSeconds * 1000, first + (warmupSeconds + pointSeconds) * 1000, sloMs, (await loadsSoFar(registry)) - loadsBefore, performance.eventLoopUtilization(elu0).utilization, {
          infer: (pool.workerBusyMs.INFER - busy0.INFER) / (nowMs() - wall0) / workers,
          load: (pool.workerBusyMs.LOAD - busy0.LOAD) / (nowMs() - wall0) / workers,
        });
        points.push(p);
        log(`${policy.padEnd(9)} ${mult.toFixed(1)}x offered ${p.offeredRps.toFixed(0)}/s goodput ${p.goodputRps.toFixed(0)}/s attainment ${(p.sloAttainment * 100).toFixed(3)}% rejected ${p.rejected} p99 ${p.p99Ms.toFixed(1)} ms loads ${p.loads} controller ELU ${p.controllerElu.toFixed(2)} worker busy infer ${p.workerBusy.infer.toFixed(2)} load ${p.workerBusy.load.toFixed(2)} late=${p.late} (mean ms: queue ${p.lateBreakdownMs.queue.toFixed(1)}, batch wait ${p.lateBreakdownMs.batchWait.toFixed(1)}, exec ${p.lateBreakdownMs.exec.toFixed(1)}, delivery ${p.lateBreakdownMs.delivery.toFixed(1)})`);
        await sleep(200);
      }
      if (policy === 'clockwork') {
        const inf = pool.predictions.summary('INFER');
        prediction = { inferP50Ms: inf.absErrorP50Ms, inferP99Ms: inf.absErrorP99Ms, loadP99Ms: pool.predictions.summary('LOAD').absErrorP99Ms, underpredicted: inf.underpredictedFraction };
      }
    } finally {
      await pool.close();
    }
  }
  const result: BenchResult = { capacityRps, workers, instances, modelBytes: bytes.byteLength, budgetBytes: budget, sloMs, points, prediction, elapsedS: (nowMs() - t0) / 1000, loadAverage: [load0, loadavg()[0]!] };
  if (o.outDir) writeOutputs(o.outDir, result, log);
  return result;
}

export function formatTable(r: BenchResult): string[] {
  const lines = [
    `capacity ${r.capacityRps.toFixed(0)} req/s, ${r.workers} worker(s), ${r.instances} instances, SLO ${r.sloMs} ms, machine load average ${r.loadAverage[0].toFixed(1)} → ${r.loadAverage[1].toFixed(1)} on 2 cores`,
    '| policy | load | offered/s | goodput/s | goodput/capacity | SLO attainment (ran) | rejected | p50 ms | p99 ms | p99.9 ms | mean batch | loads |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const p of r.points)
    lines.push(
      `| ${p.policy} | ${p.multiplier.toFixed(1)}x | ${p.offeredRps.toFixed(0)} | ${p.goodputRps.toFixed(0)} | ${(p.goodputRps / r.capacityRps).toFixed(2)} | ${(p.sloAttainment * 100).toFixed(3)}% | ${p.rejected} (${((100 * p.rejected) / Math.max(1, p.requests)).toFixed(1)}%) | ${p.p50Ms.toFixed(2)} | ${p.p99Ms.toFixed(2)} | ${p.p999Ms.toFixed(2)} | ${p.meanBatch.toFixed(1)} | ${p.loads} |`,
    );
  lines.push(`prediction error (INFER, |actual − predicted|): p50 ${r.prediction.inferP50Ms.toFixed(3)} ms, p99 ${r.prediction.inferP99Ms.toFixed(3)} ms, underpredicted ${(r.prediction.underpredicted * 100).toFixed(1)}%; LOAD p99 ${r.prediction.loadP99Ms.toFixed(2)} ms`);
  return lines;
}

function writeOutputs(dir: string, r: BenchResult, log: (l: string) => void): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'inference-inprocess-bench.md'), `# Inference benchmark, in process (measured)\n\n${formatTable(r).join('\n')}\n\nRun took ${r.elapsedS.toFixed(0)} s.\n`);
  writeFileSync(join(dir, 'inference-inprocess-bench.json'), `${JSON.stringify(r, null, 2)}\n`);
  const series = (policy: Policy, f: (p: PointResult) => number) => r.points.filter((p) => p.policy === policy).map((p) => ({ x: p.offeredRps, y: f(p) }));
  const maxX = Math.max(...r.points.map((p) => p.offeredRps));
  const svg = renderSvg(
    [
      {
        title: 'Goodput vs offered load',
        xLabel: 'offered load (req/s)',
        yLabel: `goodput (req/s within ${r.sloMs} ms)`,
        series: [
          { label: 'Clockwork', color: '#1f77b4', points: series('clockwork', (p) => p.goodputRps) },
          { label: 'FIFO baseline', color: '#d62728', points: series('fifo', (p) => p.goodputRps) },
          { label: `capacity ${r.capacityRps.toFixed(0)}/s`, color: '#777', dashed: true, points: [{ x: 0, y: 0 }, { x: r.capacityRps, y: r.capacityRps }, { x: maxX, y: r.capacityRps }] },
        ],
      },
      {
        title: 'SLO attainment of requests that ran',
        xLabel: 'offered load (req/s)',
        yLabel: 'within SLO (%)',
        yMin: 0,
        yMax: 100,
        series: [
          { label: 'Clockwork', color: '#1f77b4', points: series('clockwork', (p) => 100 * p.sloAttainment) },
          { label: 'FIFO baseline', color: '#d62728', points: series('fifo', (p) => 100 * p.sloAttainment) },
        ],
      },
    ],
    `${r.instances} MLP instances, ${r.workers} worker(s), Poisson arrivals, SLO ${r.sloMs} ms, per-worker budget ${(r.budgetBytes / 1e6).toFixed(0)} MB`,
  );
  const png = writePlot(join(dir, 'inference-inprocess-goodput'), svg);
  log(png ? `wrote ${png}` : `wrote ${join(dir, 'inference-inprocess-goodput.svg')} (install librsvg2-bin for the PNG)`);
}
