/**
 * The Argos agents as calls through pipelines/llm: the versioned prompts in pipelines/llm/prompts,
 * the answer schemas of argos-answers.ts, and wall time per agent for the training report (tokens
 * come from the client's own accounting). The same calls reach a model or the offline handlers.
 */
import { argosAgents, detectionAnswerSchema, repairAnswerSchema, reviewAnswerSchema, prompt, type DetectionAnswer, type RepairAnswer, type ReviewAnswer, type LlmClient, type PromptVars, type JsonSchema } from '../../llm/index.ts';

export interface AgentCallOptions {
  /** Completion token cap per call (also what the budget reserves before a call). */
  maxTokens?: number;
  signal?: AbortSignal;
}

export class ArgosAgents {
  readonly timeMs: Record<string, number> = {};

  constructor(
    readonly llm: LlmClient,
    private readonly opts: AgentCallOptions = {},
  ) {}

  private async call<T>(agent: string, vars: PromptVars, schema: JsonSchema, temperature: number): Promise<T> {
    const { messages, ref } = prompt(agent, vars);
    const t0 = performance.now();
    try {
      const r = await this.llm.chatJson<T>(agent, messages, schema, {
        prompt: ref,
        temperature,
        maxTokens: this.opts.maxTokens ?? 800,
        ...(this.opts.signal ? { signal: this.opts.signal } : {}),
      });
      return r.value;
    } finally {
      this.timeMs[agent] = (this.timeMs[agent] ?? 0) + (performance.now() - t0);
    }
  }

  detect(vars: { series: string; interval: string; kind: string; stats: string; data: string; base_errors: string; rules: string }): Promise<DetectionAnswer> {
    return this.call<DetectionAnswer>(argosAgents.detection, vars, detectionAnswerSchema, 0.5);
  }

  /** Argos runs repair hotter (~0.75) so repeated attempts differ. */
  repair(vars: { kind: string; expr: string; errors: string; intent: string; attempt: number }): Promise<RepairAnswer> {
    return this.call<RepairAnswer>(argosAgents.repair, vars, repairAnswerSchema, 0.75);
  }

  review(vars: {
    kind: string;
    series: string;
    previous: string;
    expr: string;
    diff: string;
    metrics_before: string;
    metrics_after: string;
    changed_segments: string;
  }): Promise<ReviewAnswer> {
    return this.call<ReviewAnswer>(argosAgents.review, vars, reviewAnswerSchema, 0.2);
  }
}

/** Chunk summary for the detection prompt. */
export function chunkStats(values: ArrayLike<number>, start: number, end: number): string {
  const xs: number[] = [];
  for (let i = start; i < end; i++) if (Number.isFinite(values[i]!)) xs.push(values[i]!);
  if (xs.length === 0) return `count 0`;
  xs.sort((a, b) => a - b);
  const q = (p: number) => xs[Math.min(xs.length - 1, Math.floor(p * (xs.length - 1)))]!;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
  const f = (x: number) => String(Number(x.toPrecision(6)));
  return `count ${xs.length}, min ${f(xs[0]!)}, p01 ${f(q(0.01))}, median ${f(q(0.5))}, p99 ${f(q(0.99))}, max ${f(xs.at(-1)!)}, mean ${f(mean)}, std ${f(std)}`;
}

/** The labelled chunk as `index,timestamp,value,label` lines. */
export function chunkCsv(timestamps: ArrayLike<number>, values: ArrayLike<number>, truth: ArrayLike<number>, start: number, end: number): string {
  const lines: string[] = [];
  for (let i = start; i < end; i++) lines.push(`${i},${new Date(timestamps[i]!).toISOString()},${values[i]},${truth[i] ? 1 : 0}`);
  return lines.join('\n');
}

/** Typical sampling interval (median step) as a duration, e.g. `5m`. */
export function samplingInterval(timestamps: ArrayLike<number>, end: number): string {
  const steps: number[] = [];
  for (let i = 1; i < Math.min(end, 2001); i++) {
    const d = timestamps[i]! - timestamps[i - 1]!;
    if (d > 0) steps.push(d);
  }
  if (steps.length === 0) return 'unknown';
  steps.sort((a, b) => a - b);
  const ms = steps[Math.floor(steps.length / 2)]!;
  for (const [u, k] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms % k === 0) return `${ms / k}${u}`;
  return `${ms}ms`;
}

/** Runs of 1s in `a` as `start-end` ranges (absolute row numbers). */
export function runsOf(a: ArrayLike<number>, offset = 0, limit = 40): string[] {
  const out: string[] = [];
  for (let i = 0; i < a.length && out.length < limit; ) {
    if (!a[i]) {
      i++;
      continue;
    }
    let j = i;
    while (j < a.length && a[j]) j++;
    out.push(j - i === 1 ? `${i + offset}` : `${i + offset}-${j - 1 + offset}`);
    i = j;
  }
  return out;
}
