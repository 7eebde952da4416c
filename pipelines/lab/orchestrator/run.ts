/**
 * Runs lab problems: per problem it starts the application, the Panoptes pipeline and Prometheus
 * (remote-writing into the pipeline), warms up under the problem's workload so the detector has
 * a baseline, injects the fault, lets the agent work within its budget, evaluates (probing the
 * live application for mitigation), and ALWAYS recovers: the fault, Prometheus, the pipeline and
 * the app are undone in `finally`, also when the run is aborted (SIGINT/SIGTERM abort `signal`).
 * A run that was killed outright leaves its pids and faults in the lab state file; the next run
 * starts with `cleanupLeftovers()`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../core/config.ts';
import type { Logger } from '../../core/logger.ts';
import type { RankMethod } from '../../rca/index.ts';
import { AgentCloud } from '../interface/cloud.ts';
import { markOf as markOfAnomaly } from '../agents/detection.ts';
import type { LabAgent } from '../agents/agent.ts';
import { sleep } from '../agents/agent.ts';
import type { Problem } from '../problems/problem.ts';
import { scoreAnswer, type MitigationProbe } from '../score/score.ts';
import { loadNow, type ProblemReport } from '../report/report.ts';
import type { Progress } from '../report/progress.ts';
import type { FaultDescription, LabApp, LabPrometheus, LabServiceName, WorkloadStats } from '../types.ts';

export interface RunTimings {
  /** Baseline under workload before the injection. */
  warmupMs: number;
  /** After a mitigation, before the probe. */
  settleMs: number;
  /** Length of the mitigation probe's workload. */
  probeMs: number;
}

export const DEFAULT_TIMINGS: RunTimings = { warmupMs: 30_000, settleMs: 6_000, probeMs: 4_000 };

export interface RunOptions {
  config: Config;
  agent: LabAgent;
  /** Directory for this run's files (per problem a subdirectory with the app's logs and configs). */
  runDir: string;
  /** App services take basePort+0..12; Prometheus basePort+20, the receiver basePort+21. */
  basePort: number;
  timings?: Partial<RunTimings>;
  /** Overrides the problem's budget (tests). */
  budgetMs?: number;
  signal: AbortSignal;
  progress: Progress;
  /** 1-based repeat of the problem (`--repeat N`), recorded in its report. */
  repeat?: number;
  /** The RCA stage's ranking method (default: the rca stage's). */
  rcaMethod?: RankMethod;
  log?: Logger;
}

const PROBE_RPS = 10;

async function probeApp(app: LabApp, fault: FaultDescription, prom: LabPrometheus, baseline: WorkloadStats | null, opts: { probeMs: number; seed: number; signal: AbortSignal }): Promise<MitigationProbe> {
  const { runWorkload } = await import('../workload/index.ts');
  const problems: string[] = [];
  const target = fault.component;
  const isService = app.services().some((s) => s.name === target);
  if (isService && !(await app.healthy(target as LabServiceName))) problems.push(`${target} is not healthy`);
  const ctrl = new AbortController();
  const onAbort = () => ctrl.abort();
  opts.signal.addEventListener('abort', onAbort, { once: true });
  const stats = await runWorkload(app, { shape: 'poisson', rps: PROBE_RPS, durationMs: opts.probeMs, seed: opts.seed }, ctrl.signal).finally(() => opts.signal.removeEventListener('abort', onAbort));
  const errRatio = stats.sent ? stats.errors / stats.sent : 1;
  if (stats.sent === 0) problems.push('the probe sent no request');
  if (errRatio > 0.05) problems.push(`${(100 * errRatio).toFixed(0)}% of probe requests failed`);
  const latLimit = baseline ? Math.max(3 * baseline.p50Ms, baseline.p50Ms + 150) : 300;
  if (stats.p50Ms > latLimit) problems.push(`probe p50 ${stats.p50Ms.toFixed(0)} ms > ${latLimit.toFixed(0)} ms`);
  if (isService && (fault.kind === 'memory-leak' || fault.kind === 'cpu-hog')) {
    // Resource faults barely move request latency: check the process itself.
    const q = fault.kind === 'memory-leak' ? `delta(lab:memory{component="${target}"}[8s])` : `lab:cpu{component="${target}"}`;
    const v = (await prom.query(q).catch(() => []))[0]?.value;
    if (v === undefined) problems.push(`no ${fault.kind === 'memory-leak' ? 'memory' : 'cpu'} series for ${target}`);
    else if (fault.kind === 'memory-leak' ? v > 30e6 : v > 0.5) problems.push(`${target} ${fault.kind === 'memory-leak' ? `memory still grows (${(v / 1e6).toFixed(0)} MB in 8 s)` : `cpu still ${v.toFixed(2)} cores`}`);
  }
  const detail = `probe: ${stats.sent} requests, ${(100 * errRatio).toFixed(1)}% errors, p50 ${stats.p50Ms.toFixed(0)} ms${baseline ? ` (baseline ${baseline.p50Ms.toFixed(0)} ms)` : ''}`;
  return problems.length === 0 ? { ok: true, detail: `back to normal — ${detail}` } : { ok: false, detail: `${problems.join('; ')} — ${detail}` };
}

/** One problem end to end; never throws for a failure of the problem itself (it is reported). */
export async function runProblem(problem: Problem, o: RunOptions): Promise<ProblemReport> {
  const t = { ...DEFAULT_TIMINGS, ...o.timings };
  const started = Date.now();
  const dir = join(o.runDir, problem.id);
  mkdirSync(dir, { recursive: true });
  const p = o.progress;
  const { startApp } = await import('../app/index.ts');
  const { injectorFor } = await import('../faults/index.ts');
  const { runWorkload } = await import('../workload/index.ts');
  const { startPrometheus } = await import('../prometheus/index.ts');
  const { startPipeline } = await import('../pipeline/index.ts');
  const fault = problem.fault;
  const injector = fault ? injectorFor(fault.kind) : null;
  const description = fault && injector ? injector.describe(fault) : null;
  const report: ProblemReport = {
    id: problem.id,
    task: problem.task,
    ...(o.repeat !== undefined ? { repeat: o.repeat } : {}),
    seed: problem.workload.seed,
    fault: fault && description ? { kind: fault.kind, target: fault.target, text: description.text } : { kind: 'none', target: 'none', text: 'no fault injected' },
    agent: o.agent.name,
    transport: o.config.transport,
    status: 'error',
    injectedAt: null,
    answer: null,
    score: null,
    ttdMs: null,
    ttlMs: null,
    ttmMs: null,
    steps: [],
    tokens: { input: 0, output: 0 },
    observed: { anomalies: 0, firstAnomaly: null, incidents: [], rootCauses: [], rcaNote: null },
    workload: null,
    durationMs: 0,
    recovered: false,
  };
  let app: LabApp | null = null;
  let prom: LabPrometheus | null = null;
  let pipeline: Awaited<ReturnType<typeof startPipeline>> | null = null;
  let injected = false;
  const workCtrl = new AbortController();
  let workload: Promise<WorkloadStats> | null = null;
  const abortWork = () => workCtrl.abort();
  o.signal.addEventListener('abort', abortWork, { once: true });
  try {
    p.line(`starting the app (${description ? description.text : 'fault-free problem'})`);
    app = await startApp({ runDir: dir, basePort: o.basePort, seed: problem.workload.seed, ...(o.log ? { log: o.log } : {}) });
    pipeline = await startPipeline({
      // Topics of this problem only: a fresh detector, correlator and tail never read the records
      // of the problems before it (they would replay them from the beginning).
      config: { ...o.config, topicPrefix: `${o.config.topicPrefix}${problem.id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40)}.${Date.now().toString(36)}.` },
      receiverPort: o.basePort + 21,
      services: app.services().map((s) => s.name),
      resources: ['postgres', 'redis'],
      ...(o.rcaMethod ? { rcaMethod: o.rcaMethod } : {}),
      ...(o.log ? { log: o.log } : {}),
      progress: (l) => p.line(l),
    });
    const promRun = await startPrometheus({ runDir: dir, port: o.basePort + 20, targets: app.scrapeTargets(), remoteWriteUrl: pipeline.remoteWriteUrl, scrapeIntervalS: 1, ...(o.log ? { log: o.log } : {}) });
    prom = promRun;
    await promRun.ready(30_000);
    p.line(`Prometheus ${promRun.url} scraping ${app.scrapeTargets().length} targets, remote-writing to ${pipeline.remoteWriteUrl}`);
    if (o.signal.aborted) throw new Error('aborted');

    const totalMs = t.warmupMs + (o.budgetMs ?? problem.budgetMs) + t.settleMs + 5_000;
    const running = runWorkload(app, { ...problem.workload, durationMs: totalMs }, workCtrl.signal);
    workload = running;
    running.catch(() => undefined);
    const warmEnd = Date.now() + t.warmupMs;
    p.line(`warming up under a ${problem.workload.shape} workload of ${problem.workload.rps} req/s for ${(t.warmupMs / 1000).toFixed(0)} s (the detector's baseline)`);
    p.tick('warm-up', warmEnd, () => `${pipeline!.anomalies().length} anomalies so far`);
    await Promise.race([sleep(Math.max(0, warmEnd - Date.now()), o.signal), pipeline.failed]);
    p.stopTick();
    if (o.signal.aborted) throw new Error('aborted');
    let baseline: WorkloadStats | null = null;
    if (problem.task === 'mitigation') {
      baseline = await runWorkload(app, { shape: 'poisson', rps: PROBE_RPS, durationMs: t.probeMs, seed: problem.workload.seed + 1000 }, workCtrl.signal);
    }

    if (fault && injector) {
      p.line(`injecting ${fault.kind} into ${fault.target}`);
      injected = true;
      await injector.inject(app, fault);
    } else p.line('no fault injected (a fault-free problem); the agent starts now');
    const injectedAt = Date.now();
    report.injectedAt = new Date(injectedAt).toISOString();
    report.loadAvg = loadNow();
    const cloud = new AgentCloud({ task: problem.task, app, prometheus: promRun, pipeline, injectedAtMs: injectedAt });
    const deadline = injectedAt + (o.budgetMs ?? problem.budgetMs);
    p.line(`agent ${o.agent.name} working on ${problem.task} (budget ${((deadline - injectedAt) / 1000).toFixed(0)} s)`);
    p.tick('agent', deadline, () => `${pipeline!.anomalies().filter((a) => a.value.timestampMs >= injectedAt).length} anomalies, ${cloud.steps.length} steps`);
    const agentCtrl = new AbortController();
    const stopAgent = () => agentCtrl.abort();
    o.signal.addEventListener('abort', stopAgent, { once: true });
    const timer = setTimeout(stopAgent, Math.max(0, deadline - Date.now()) + 2_000);
    try {
      await Promise.race([o.agent.solve(cloud, deadline, agentCtrl.signal), pipeline.failed]);
    } finally {
      clearTimeout(timer);
      o.signal.removeEventListener('abort', stopAgent);
      p.stopTick();
    }
    if (o.signal.aborted) throw new Error('aborted');

    let probe: MitigationProbe | undefined;
    if (problem.task === 'mitigation') {
      p.line(`probing the live application after ${cloud.actions.length} action(s): ${cloud.actions.map((a) => a.action.op + ' ' + a.action.service).join(', ') || 'none'}`);
      await sleep(t.settleMs, o.signal);
      if (!description) throw new Error('a mitigation problem needs a fault');
      probe = await probeApp(app, description, promRun, baseline, { probeMs: t.probeMs, seed: problem.workload.seed + 2000, signal: o.signal });
    }
    const answer = cloud.submission?.answer ?? null;
    report.answer = answer;
    report.score = scoreAnswer(problem, description, answer, probe);
    report.status = 'scored';
    const firstAnomaly = pipeline.anomalies().find((a) => a.value.timestampMs >= injectedAt);
    const sub = cloud.submission?.atMs ?? null;
    report.ttdMs = problem.task === 'detection' ? (report.score.success && fault ? sub : null) : firstAnomaly ? Math.max(0, firstAnomaly.seenAtMs - injectedAt) : null;
    report.ttlMs = (problem.task === 'localization' || problem.task === 'rca') && report.score.success ? sub : null;
    report.ttmMs = problem.task === 'mitigation' && report.score.success ? (cloud.actions.at(-1)?.atMs ?? sub) : null;
    report.steps = cloud.steps;
    report.tokens = { ...cloud.tokens };
    fillObserved(report, pipeline, injectedAt);
    p.line(`${report.score.success ? 'PASS' : 'FAIL'} score ${report.score.score.toFixed(2)} — ${report.score.reason}`);
  } catch (err) {
    report.status = 'error';
    report.error = o.signal.aborted ? 'interrupted' : (err as Error).message;
    if (pipeline && report.injectedAt) fillObserved(report, pipeline, Date.parse(report.injectedAt));
    p.line(`ERROR ${report.error}`);
  } finally {
    o.signal.removeEventListener('abort', abortWork);
    workCtrl.abort();
    const stats = await workload?.catch(() => null);
    if (stats) report.workload = { sent: stats.sent, ok: stats.ok, errors: stats.errors, p50Ms: stats.p50Ms, p99Ms: stats.p99Ms };
    let ok = true;
    if (injected && app && injector && fault) await injector.recover(app, fault).catch((e) => ((ok = false), p.line(`recover failed: ${(e as Error).message}`)));
    await prom?.stop().catch(() => undefined);
    await pipeline?.stop().catch(() => undefined);
    await app?.stop().catch((e) => ((ok = false), p.line(`app stop failed: ${(e as Error).message}`)));
    report.recovered = ok;
    report.durationMs = Date.now() - started;
    p.line(`recovered and stopped (${(report.durationMs / 1000).toFixed(0)} s)`);
  }
  return report;
}

function fillObserved(report: ProblemReport, pipeline: { anomalies(): Array<{ value: import('../../core/records.ts').Anomaly }>; incidents(): Array<{ value: import('../../core/records.ts').Incident }>; rca(): Array<{ value: import('../../core/records.ts').RcaResult }> }, injectedAt: number): void {
  const anomalies = pipeline.anomalies().map((a) => a.value).filter((a) => a.timestampMs >= injectedAt);
  const a0 = anomalies[0];
  const latest = new Map<string, import('../../core/records.ts').Incident>();
  for (const { value } of pipeline.incidents()) if (value.updatedAtMs >= injectedAt) latest.set(value.id, value);
  const rca = pipeline.rca().map((r) => r.value).filter((r) => r.producedAtMs >= injectedAt);
  const best = [...rca].reverse().find((r) => r.causes.length > 0) ?? rca.at(-1);
  const seen = new Set<string>();
  const firstAnomalies: string[] = [];
  for (const a of anomalies) {
    if (seen.has(a.fingerprint) || firstAnomalies.length >= 8) continue;
    seen.add(a.fingerprint);
    firstAnomalies.push(`+${((a.timestampMs - injectedAt) / 1000).toFixed(1)} s ${a.labels.component ?? '?'}:${a.labels.signal ?? '?'} = ${a.value.toPrecision(3)} ${a.ruleId ? `rule ${a.ruleId}` : `base ${a.detector}`} — ${a.explanation}`);
  }
  const anomalyLog = pipeline
    .anomalies()
    .map((a) => markOfAnomaly(a.value))
    .filter((m) => m.ts >= injectedAt - 60_000)
    .slice(0, 5000)
    .map((m): [number, string, string, number] => [m.ts - injectedAt, m.series, m.rule, Number(m.value.toPrecision(4))]);
  report.observed = {
    anomalyLog,
    anomaliesBeforeInjection: pipeline.anomalies().filter((a) => a.value.timestampMs < injectedAt).length,
    anomalies: anomalies.length,
    firstAnomalies,
    firstAnomaly: a0 ? `${a0.labels.component ?? '?'}:${a0.labels.signal ?? a0.labels.__name__ ?? '?'} ${a0.ruleId ? `rule ${a0.ruleId}` : `base ${a0.detector}`} — ${a0.explanation}` : null,
    incidents: [...latest.values()].map((i) => ({ id: i.id, status: i.status, components: i.components, summary: i.summary })),
    rootCauses: best?.causes.map((c) => ({ component: c.component, node: c.node, score: c.score })) ?? [],
    rcaNote: best?.note ?? null,
  };
}
