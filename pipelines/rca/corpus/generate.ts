/**
 * Generates an RCA development corpus from the lab (pipelines/lab, through its exports only):
 * per scenario (traffic level × seed) it starts the hotel-reservation app on a private base port,
 * drives an open-loop Poisson workload, samples every component's signals straight from the
 * services' /metrics pages each step, records a no-incident stretch, then injects every fault of
 * the matrix one after another (pre rows, fault rows, recover, wait until healthy, settle) and
 * writes the PetShop layout: `<out>/<scenario>/{graph.csv, noissue/metrics.csv,
 * train|test/issue_N/{metrics.csv,target.json}}` plus `<out>/manifest.json`.
 * Everything it starts is stopped in `finally` and recorded in the lab state file first.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { CALLS, cleanupLeftovers, injectorFor, installSignalHandlers, LAB_RESOURCES, LAB_SERVICES, runWorkload, startApp, STORES, type FaultKind, type FaultSpec, type LabApp } from '../../lab/index.ts';
import type { Frame } from '../frame.ts';
import { computeSignals, parseExposition, RESOURCE_SIGNAL_NAMES, SIGNALS, type Sample, type Scrape } from './signals.ts';
import { columnsOf, DEFAULT_TIMINGS, faultMatrix, graphCsv, petshopCsv, scenarioSeconds, shuffled, splitOf, TEST_COMPONENTS, TRAFFIC_RPS, type LabTopology, type Row, type TargetJson, type Timings } from './plan.ts';
import { chooseTarget } from './target.ts';
import { fitModels, scoreOf } from '../rank/scores.ts';

export const LAB_TOPOLOGY: LabTopology = { services: LAB_SERVICES, resources: LAB_RESOURCES, calls: CALLS, stores: STORES };

export interface GenerateOptions {
  out: string;
  basePort: number;
  seeds: number[];
  traffic: string[];
  kinds?: FaultKind[];
  timings?: Partial<Timings>;
  testComponents?: readonly string[];
  /** Wall-clock budget of the whole run (ms): no fault starts after it, no scenario either. */
  deadlineMs?: number;
  signal: AbortSignal;
  progress: (line: string) => void;
}

export interface ScenarioSummary {
  name: string;
  traffic: string;
  rps: number;
  seed: number;
  issues: { train: number; test: number };
  skipped: Array<{ fault: FaultSpec; reason: string }>;
  noissueRows: number;
  seconds: number;
  workload: { sent: number; errors: number } | null;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(() => (signal.removeEventListener('abort', done), resolve()), ms);
    const done = () => (clearTimeout(t), resolve());
    signal.addEventListener('abort', done, { once: true });
  });

function scrapeOne(port: number, timeoutMs: number): Promise<Sample[] | null> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/metrics', timeout: timeoutMs }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return resolve(null);
      }
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(parseExposition(body)));
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(null));
  });
}

/** Samples every step until stopped; rows[i] are the signals over the last `windowS`. */
class Sampler {
  readonly rows: Row[] = [];
  private readonly scrapes: Scrape[] = [];
  private running = true;
  private loop: Promise<void>;
  constructor(private readonly app: LabApp, private readonly t: Timings) {
    this.loop = this.run();
  }
  private async run(): Promise<void> {
    const targets = this.app.scrapeTargets();
    const lag = Math.max(1, Math.round((this.t.windowS * 1000) / this.t.stepMs));
    let next = Date.now();
    while (this.running) {
      const ts = next;
      const got = await Promise.all(targets.map((x) => scrapeOne(x.port, Math.min(950, this.t.stepMs * 0.95))));
      const scrape: Scrape = new Map(targets.map((x, i) => [x.name, got[i]!]));
      this.scrapes.push(scrape);
      if (this.scrapes.length > lag) {
        const before = this.scrapes[this.scrapes.length - 1 - lag]!;
        this.rows.push({ ts, values: computeSignals(LAB_SERVICES, LAB_RESOURCES, scrape, before, this.t.windowS) });
        this.scrapes.splice(0, this.scrapes.length - lag - 1);
      }
      next += this.t.stepMs;
      const wait = next - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else next = Date.now();
    }
  }
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
  /** Rows with ts in [from, to). */
  between(from: number, to: number): Row[] {
    return this.rows.filter((r) => r.ts >= from && r.ts < to);
  }
}

/** Every user-facing series scores below 3 on the given rows (a missing value is not quiet). */
function quiet(rows: readonly Row[], models: ReturnType<typeof fitModels>): boolean {
  if (rows.length === 0) return false;
  const f = toFrame(rows, [...models.keys()]);
  for (let r = 0; r < rows.length; r++) for (const id of models.keys()) {
    const v = f.series.get(id)![r]!;
    if (!Number.isFinite(v) || scoreOf(models, f, id, r) >= 3) return false;
  }
  return true;
}

function toFrame(rows: readonly Row[], columns: readonly string[]): Frame {
  return { timestamps: rows.map((r) => r.ts), series: new Map(columns.map((c) => [c, rows.map((r) => r.values.get(c) ?? NaN)])) };
}

const signalsOf = (c: string): readonly string[] => ((LAB_RESOURCES as readonly string[]).includes(c) ? RESOURCE_SIGNAL_NAMES : SIGNALS);

async function allHealthy(app: LabApp, signal: AbortSignal, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !signal.aborted) {
    const ok = await Promise.all(LAB_SERVICES.map((s) => app.healthy(s)));
    if (ok.every(Boolean)) return true;
    await sleep(250, signal);
  }
  return false;
}

async function runScenario(o: GenerateOptions, t: Timings, traffic: string, seed: number, issueBase: { train: number; test: number }): Promise<ScenarioSummary> {
  const name = `${traffic}_traffic_s${seed}`;
  const rps = TRAFFIC_RPS[traffic]!;
  const t0 = Date.now();
  const dir = join(o.out, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'noissue'), { recursive: true });
  writeFileSync(join(dir, 'graph.csv'), graphCsv(LAB_TOPOLOGY));
  const faults = shuffled(faultMatrix(LAB_TOPOLOGY, o.kinds), seed);
  const columns = columnsOf([...LAB_SERVICES, ...LAB_RESOURCES], signalsOf);
  const summary: ScenarioSummary = { name, traffic, rps, seed, issues: { train: 0, test: 0 }, skipped: [], noissueRows: 0, seconds: 0, workload: null };
  const app = await startApp({ runDir: join(o.out, '.run', name), basePort: o.basePort, seed });
  const work = new AbortController();
  const onAbort = () => work.abort();
  o.signal.addEventListener('abort', onAbort, { once: true });
  const budgetMs = Math.ceil(scenarioSeconds(t, faults.length) * 1000 * 2 + 60_000);
  const workload = runWorkload(app, { shape: 'poisson', rps, durationMs: Math.min(budgetMs, 3_600_000), seed, timeoutMs: 1500 }, work.signal);
  let sampler: Sampler | null = null;
  let active = null as FaultSpec | null;
  try {
    await sleep(t.warmupS * 1000, o.signal);
    sampler = new Sampler(app, t);
    await sleep((t.windowS + 1) * t.stepMs, o.signal);
    const n0 = Date.now();
    await sleep(t.noissueS * 1000, o.signal);
    const noissue = sampler.between(n0, Date.now());
    summary.noissueRows = noissue.length;
    writeFileSync(join(dir, 'noissue', 'metrics.csv'), petshopCsv(noissue, columns));
    const normal = toFrame(noissue, columns);
    const models = fitModels(normal, columns.filter((c) => /:(latency|errors|up)$/.test(c)));
    o.progress(`${name}: ${noissue.length} no-incident rows; ${faults.length} faults to inject (${rps} rps, about ${Math.round(scenarioSeconds(t, faults.length) / 60)} min)`);
    for (const [i, fault] of faults.entries()) {
      if (o.signal.aborted) break;
      if (o.deadlineMs !== undefined && Date.now() > o.deadlineMs) {
        o.progress(`${name}: time budget reached after ${i} of ${faults.length} faults; the rest are not run`);
        summary.skipped.push(...faults.slice(i).map((f) => ({ fault: f, reason: 'time budget reached' })));
        break;
      }
      const injector = injectorFor(fault.kind);
      const desc = injector.describe(fault);
      const preFrom = Date.now();
      await sleep(t.preS * 1000, o.signal);
      const injectedAt = Date.now();
      let faultEnd: number;
      let healthy: boolean;
      try {
        active = fault;
        await injector.inject(app, fault);
        await sleep(Math.max(0, t.faultS * 1000 - (Date.now() - injectedAt)), o.signal);
        faultEnd = Date.now();
        await injector.recover(app, fault);
        active = null;
        // A leak's pages stay resident after the fault is cleared: restart for a clean next incident.
        if (fault.kind === 'memory-leak') await app.restart(fault.target as (typeof LAB_SERVICES)[number]);
        healthy = await allHealthy(app, o.signal, 20_000);
      } catch (err) {
        // One fault that does not inject or recover cleanly costs its issue, not the scenario:
        // recover again, restart whatever is unhealthy, and go on (a second failure ends the scenario).
        o.progress(`${name} [${i + 1}/${faults.length}] ${fault.kind} on ${fault.target}: ${(err as Error).message}; recovering and skipping it`);
        summary.skipped.push({ fault, reason: `inject/recover failed: ${(err as Error).message}` });
        await injector.recover(app, fault).catch(() => undefined);
        active = null;
        for (const svc of LAB_SERVICES) if (!(await app.healthy(svc))) await app.restart(svc);
        await sleep(t.settleS * 1000, o.signal);
        continue;
      }
      const rows = sampler.between(preFrom, faultEnd);
      const fromRow = rows.findIndex((r) => r.ts >= injectedAt);
      const root = desc.component;
      const split = splitOf(root, o.testComponents ?? TEST_COMPONENTS);
      const target = fromRow >= 0 ? chooseTarget(normal, toFrame(rows, columns), fromRow, LAB_TOPOLOGY) : null;
      if (!target) {
        summary.skipped.push({ fault, reason: fromRow < 0 ? 'no rows recorded after the injection' : 'no series moved ≥ 3 robust SDs: no visible symptom' });
        o.progress(`${name} [${i + 1}/${faults.length}] ${fault.kind} on ${fault.target}: skipped (no visible symptom)`);
      } else {
        const n = issueBase[split] + summary.issues[split]++;
        const idir = join(o.out, name, split, `issue_${n}`);
        mkdirSync(idir, { recursive: true });
        writeFileSync(join(idir, 'metrics.csv'), petshopCsv(rows, columns));
        const tj: TargetJson = {
          target: { node: target.node, metric: target.metric, agg: 'Average', timestamp: rows[fromRow]!.ts / 1000 },
          root_cause: { node: root, metric: null },
          metadata: { fault, text: desc.text, scenario: name, seed, traffic, split, targetPeakScore: Math.round(target.peak * 100) / 100 },
        };
        writeFileSync(join(idir, 'target.json'), JSON.stringify(tj, null, 1) + '\n');
        o.progress(`${name} [${i + 1}/${faults.length}] ${fault.kind} on ${fault.target} → ${split}/issue_${n}, target ${target.node}:${target.metric} (peak ${target.peak.toFixed(1)})${healthy ? '' : ' — a service was still unhealthy after 20 s'}`);
      }
      await sleep(t.settleS * 1000, o.signal);
      // Then until the user-facing signals are back in their normal band, so the next fault's
      // pre rows do not carry this one's tail (timeouts draining, pools reconnecting).
      const quietFrom = Date.now();
      while (!o.signal.aborted && Date.now() - quietFrom < t.maxQuietWaitS * 1000 && !quiet(sampler.rows.slice(-2), models)) await sleep(500, o.signal);
      const waited = (Date.now() - quietFrom) / 1000;
      if (waited >= 1) o.progress(`${name}: waited ${waited.toFixed(0)} s for the signals to settle`);
    }
  } finally {
    const left = active as FaultSpec | null;
    if (left) await injectorFor(left.kind).recover(app, left).catch(() => undefined);
    await sampler?.stop();
    work.abort();
    o.signal.removeEventListener('abort', onAbort);
    const stats = await workload.catch(() => null);
    summary.workload = stats ? { sent: stats.sent, errors: stats.errors } : null;
    await app.stop();
  }
  summary.seconds = Math.round((Date.now() - t0) / 1000);
  return summary;
}

export interface CorpusManifest {
  generatedAt: string;
  command: string;
  split: { test: readonly string[]; rule: string };
  timings: Timings;
  scenarios: ScenarioSummary[];
  /** Scenarios that stopped early (their issues written so far are kept). */
  failed?: Array<{ name: string; error: string }>;
  seconds: number;
}

export async function generateCorpus(o: GenerateOptions, command: string): Promise<CorpusManifest> {
  const t = { ...DEFAULT_TIMINGS, ...o.timings };
  for (const tr of o.traffic) if (!(tr in TRAFFIC_RPS)) throw new Error(`unknown traffic level ${tr}`);
  mkdirSync(o.out, { recursive: true });
  const left = await cleanupLeftovers();
  if (left.killed.length || left.faultsRecovered.length) o.progress(`cleaned up after an earlier run: ${left.killed.length} processes, ${left.faultsRecovered.length} faults`);
  const uninstall = installSignalHandlers();
  const manifest: CorpusManifest = {
    generatedAt: new Date().toISOString(),
    command,
    split: { test: o.testComponents ?? TEST_COMPONENTS, rule: 'issues whose root-cause component is in `test` go to test/, all others to train/' },
    timings: t,
    scenarios: [],
    seconds: 0,
  };
  // Scenarios of earlier runs into the same folder stay listed (a re-run scenario replaces its entry).
  try {
    const old = JSON.parse(readFileSync(join(o.out, 'manifest.json'), 'utf8')) as CorpusManifest;
    const names = new Set(o.seeds.flatMap((s) => o.traffic.map((tr) => `${tr}_traffic_s${s}`)));
    manifest.scenarios.push(...old.scenarios.filter((s) => !names.has(s.name)));
  } catch {
    /* first run into this folder */
  }
  try {
    for (const seed of o.seeds) {
      for (const traffic of o.traffic) {
        if (o.signal.aborted || (o.deadlineMs !== undefined && Date.now() > o.deadlineMs)) break;
        o.progress(`scenario ${traffic}_traffic_s${seed}: starting the lab on base port ${o.basePort}`);
        try {
          manifest.scenarios.push(await runScenario(o, t, traffic, seed, { train: 0, test: 0 }));
        } catch (err) {
          // The issues written so far stay; the scenario is listed with the error and the next one runs.
          o.progress(`scenario ${traffic}_traffic_s${seed} stopped: ${(err as Error).message}`);
          manifest.failed = [...(manifest.failed ?? []), { name: `${traffic}_traffic_s${seed}`, error: (err as Error).message }];
        }
        manifest.seconds = manifest.scenarios.reduce((a, x) => a + x.seconds, 0);
        writeFileSync(join(o.out, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
      }
    }
  } finally {
    uninstall();
    rmSync(join(o.out, '.run'), { recursive: true, force: true });
  }
  return manifest;
}
