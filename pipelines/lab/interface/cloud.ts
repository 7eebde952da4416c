/**
 * The agent-cloud interface (AIOpsLab's ACI): everything an agent may do during a problem.
 *   get_metrics(promql[, rangeS])  the lab Prometheus's query API (instant, or a range at 1 s)
 *   get_logs(service[, limit])     the service's JSON log lines since the problem started
 *   get_anomalies()                anomalies on the pipeline's `anomalies` topic since the start
 *                                  (and, for a baseline, those of the minute before it)
 *   get_incidents()                latest state of each incident on the `incidents` topic
 *   get_rca()                      ranked root causes on the `rca` topic
 *   exec(command)                  allow-listed operations only (exec.ts); anything else is refused
 *   submit(answer)                 the answer for the task; the first submission counts
 * Every call is a step (recorded with its time since injection and a short result); agents
 * that use a model add their tokens.
 */
import type { Anomaly, Incident, RcaResult } from '../../core/records.ts';
import type { Answer, Task } from '../problems/problem.ts';
import { taskPrompt } from '../problems/problem.ts';
import type { LabApp, LabPrometheus, LabServiceName } from '../types.ts';
import { ExecRefused, formatExec, parseExec, type ExecAction } from './exec.ts';

export interface PipelineView {
  anomalies(): Array<{ value: Anomaly; seenAtMs: number }>;
  incidents(): Array<{ value: Incident; seenAtMs: number }>;
  rca(): Array<{ value: RcaResult; seenAtMs: number }>;
}

export interface StepRecord {
  n: number;
  /** ms since the fault was injected */
  atMs: number;
  action: string;
  args: string;
  ok: boolean;
  result: string;
}

export interface Submission {
  answer: Answer;
  atMs: number;
}

export interface CloudOptions {
  /**
   * Only the task: an agent learns nothing else of the problem (not its id, its fault or its
   * target), as in AIOpsLab where the agent gets the task description and the APIs.
   */
  task: Task;
  app: Pick<LabApp, 'services' | 'logs' | 'restart' | 'rollbackConfig' | 'scale'>;
  prometheus: Pick<LabPrometheus, 'query' | 'queryRange'> | null;
  pipeline: PipelineView;
  /** When the fault took effect (epoch ms); observations before it are not shown. */
  injectedAtMs: number;
  now?: () => number;
}

const clip = (s: string, n = 160) => (s.length > n ? `${s.slice(0, n)}…` : s);

export class AgentCloud {
  readonly steps: StepRecord[] = [];
  readonly actions: Array<{ action: ExecAction; atMs: number }> = [];
  submission: Submission | null = null;
  tokens = { input: 0, output: 0 };
  private readonly now: () => number;

  constructor(private readonly o: CloudOptions) {
    this.now = o.now ?? Date.now;
  }

  /** The task the agent must solve (all it is told of the problem). */
  get task(): Task {
    return this.o.task;
  }

  get injectedAtMs(): number {
    return this.o.injectedAtMs;
  }

  /** Ms since the injection. */
  elapsedMs(): number {
    return this.now() - this.o.injectedAtMs;
  }

  serviceNames(): string[] {
    return this.o.app.services().map((s) => s.name);
  }

  /** What the agent is told at the start (AIOpsLab: the task description and the API). */
  describeTask(): string {
    return [
      `You are operating a hotel-reservation application of services ${this.serviceNames().join(', ')} using postgres and redis.`,
      taskPrompt(this.o.task),
      'APIs: get_metrics(promql) — series lab:<signal>{component,signal} with signals latency (p95 s), errors (ratio), traffic (req/s), cpu (cores), memory (bytes), up; get_logs(service); get_anomalies(); get_incidents(); get_rca(); exec(command); submit(answer).',
    ].join('\n');
  }

  private record(action: string, args: string, ok: boolean, result: string): void {
    this.steps.push({ n: this.steps.length + 1, atMs: this.elapsedMs(), action, args: clip(args, 120), ok, result: clip(result) });
  }

  async getMetrics(promql: string, rangeS = 0): Promise<Array<{ labels: Record<string, string>; value?: number; points?: Array<[number, number]> }>> {
    if (!this.o.prometheus) {
      this.record('get_metrics', promql, false, 'no Prometheus in this run');
      return [];
    }
    try {
      const out = rangeS > 0 ? await this.o.prometheus.queryRange(promql, this.now() - rangeS * 1000, this.now(), 1) : await this.o.prometheus.query(promql);
      this.record('get_metrics', `${promql}${rangeS ? ` [${rangeS}s]` : ''}`, true, `${out.length} series`);
      return out;
    } catch (err) {
      this.record('get_metrics', promql, false, (err as Error).message);
      throw err;
    }
  }

  getLogs(service: string, limit = 50): Array<Record<string, unknown>> {
    if (!this.serviceNames().includes(service)) {
      this.record('get_logs', service, false, 'no such service');
      return [];
    }
    const lines = this.o.app.logs(service as LabServiceName, { sinceMs: this.o.injectedAtMs, limit });
    this.record('get_logs', service, true, `${lines.length} lines`);
    return lines;
  }

  /**
   * `watch` is for agents subscribed to the topics (the Panoptes agent): reading what arrived on a
   * subscription is not a new step; `subscribe()` is recorded once instead.
   */
  getAnomalies(watch = false): Anomaly[] {
    const out = this.o.pipeline.anomalies().map((a) => a.value).filter((a) => a.timestampMs >= this.o.injectedAtMs);
    if (!watch) this.record('get_anomalies', '', true, `${out.length} anomalies`);
    return out;
  }

  /**
   * Anomalies of the `lookbackMs` before the agent was called (what an on-call engineer sees in
   * the alert history: the background noise to tell a new problem from).
   */
  getAnomalyHistory(lookbackMs: number, watch = false): Anomaly[] {
    const from = this.o.injectedAtMs - lookbackMs;
    const out = this.o.pipeline.anomalies().map((a) => a.value).filter((a) => a.timestampMs >= from && a.timestampMs < this.o.injectedAtMs);
    if (!watch) this.record('get_anomalies', `history ${Math.round(lookbackMs / 1000)} s`, true, `${out.length} anomalies`);
    return out;
  }

  /** Latest record of each incident opened since the injection. */
  getIncidents(): Incident[] {
    const latest = new Map<string, Incident>();
    for (const { value } of this.o.pipeline.incidents()) if (value.updatedAtMs >= this.o.injectedAtMs) latest.set(value.id, value);
    const out = [...latest.values()];
    this.record('get_incidents', '', true, `${out.length} incidents`);
    return out;
  }

  getRca(watch = false): RcaResult[] {
    const out = this.o.pipeline.rca().map((r) => r.value).filter((r) => r.producedAtMs >= this.o.injectedAtMs);
    if (!watch) this.record('get_rca', '', true, `${out.length} results`);
    return out;
  }

  /** A subscription to the pipeline's topics (recorded as one step; reads through it use `watch`). */
  subscribe(topics: string[]): void {
    this.record('subscribe', topics.join(', '), true, 'streaming');
  }

  /** Runs an allow-listed operation; throws ExecRefused (recorded as a failed step) for anything else. */
  async exec(command: string): Promise<string> {
    let action: ExecAction;
    try {
      action = parseExec(command, this.serviceNames());
    } catch (err) {
      this.record('exec', command, false, (err as Error).message);
      throw err;
    }
    const s = action.service as LabServiceName;
    if (action.op === 'restart') await this.o.app.restart(s);
    else if (action.op === 'rollback-config') await this.o.app.rollbackConfig(s);
    else await this.o.app.scale(s, action.workers);
    this.actions.push({ action, atMs: this.elapsedMs() });
    const done = `done: ${formatExec(action)}`;
    this.record('exec', command, true, done);
    return done;
  }

  submit(answer: Answer): void {
    if (this.submission) {
      this.record('submit', JSON.stringify(answer), false, 'already submitted; the first submission counts');
      return;
    }
    this.submission = { answer, atMs: this.elapsedMs() };
    this.record('submit', JSON.stringify(answer), true, 'accepted');
  }

  addTokens(input: number, output: number): void {
    this.tokens.input += input;
    this.tokens.output += output;
  }
}

export { ExecRefused };
