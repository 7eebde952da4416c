/**
 * The LLM provider of the Atlas agents' question, over pipelines/llm. Each question is asked
 * `repeats` times with the three options in a different (seeded, so reproducible) order, the
 * answer letter is mapped back to its option, and the majority wins (a tie means "no direct
 * influence": an edge needs a majority). Answers that fail (refusal, malformed JSON, exhausted
 * retries) abstain; if every repeat fails the question fails. Caching by component type happens
 * in the synthesizer, so repeated component types cost nothing.
 */
import { createHash } from 'node:crypto';
import { LlmError, isPanoptesError } from '../../core/errors.ts';
import type { ChatMessage, JsonSchema, LlmProvider } from '../../llm/index.ts';
import { rng } from '../stats.ts';
import { cacheKey, verdicts, type CausalJudge, type JudgeAnswer, type PairQuestion, type Verdict } from './judge.ts';

export const atlasAgentName = 'atlas-causal-pair';
export const atlasPromptRef = { name: 'atlas-causal-pair', version: 1 };

export const pairAnswerSchema: JsonSchema = {
  type: 'object',
  properties: {
    answer: { type: 'string', enum: ['A', 'B', 'C'] },
    reason: { type: 'string' },
  },
  required: ['answer'],
};

export interface LlmJudgeOptions {
  repeats: number;
  temperature: number;
  seed: number;
  maxTokens: number;
}

export const defaultLlmJudgeOptions: LlmJudgeOptions = { repeats: 3, temperature: 0.7, seed: 7, maxTokens: 300 };

const letters = ['A', 'B', 'C'] as const;

function label(n: PairQuestion['a']): string {
  return `${n.component} ${n.metric}`;
}

export function optionText(q: PairQuestion, v: Verdict): string {
  if (v === 'A_CAUSES_B') return `${label(q.a)} directly causes ${label(q.b)}`;
  if (v === 'B_CAUSES_A') return `${label(q.b)} directly causes ${label(q.a)}`;
  return 'neither directly influences the other';
}

/** The option order of one repeat: a seeded shuffle, so runs and tests are reproducible. */
export function optionOrder(q: PairQuestion, repeat: number, seed: number): Verdict[] {
  const h = createHash('sha256').update(`${cacheKey(q)}#${repeat}#${seed}`).digest().readUInt32LE(0);
  const rand = rng(h);
  const order = [...verdicts];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

export function pairMessages(q: PairQuestion, order: readonly Verdict[]): ChatMessage[] {
  const who = q.interaction === 'within' ? q.a.component : `${q.a.component} (the caller)`;
  const system = [
    `You are the causal-graph agent of the component ${who} in a team that builds the causal graph of a microservice application.`,
    'You reason about how faults propagate between metrics of components that interact directly.',
    'Answer with JSON: {"answer": "<letter of the option>", "reason": "<one sentence>"}.',
  ].join(' ');
  const nodes =
    q.interaction === 'within'
      ? `Component ${q.a.component} (${q.a.kind}, ${q.a.type}): ${q.a.componentDoc}`
      : [
          `Interaction: ${q.interaction} — ${q.a.component} calls ${q.b.component}${q.relation ? ` (${q.relation})` : ''}.`,
          `Caller ${q.a.component} (${q.a.kind}, ${q.a.type}): ${q.a.componentDoc}`,
          `Callee ${q.b.component} (${q.b.kind}, ${q.b.type}): ${q.b.componentDoc}`,
        ].join('\n');
  const user = [
    nodes,
    `Metric A: ${label(q.a)}${q.a.metricDoc ? ` — ${q.a.metricDoc}` : ''}`,
    `Metric B: ${label(q.b)}${q.b.metricDoc ? ` — ${q.b.metricDoc}` : ''}`,
    'Which is true?',
    ...order.map((v, i) => `(${letters[i]}) ${optionText(q, v)}`),
  ].join('\n');
  return [
    { role: 'system', content: system },
    { role: 'user', content: user },
  ];
}

export class LlmJudge implements CausalJudge {
  readonly name: string;
  private readonly opts: LlmJudgeOptions;
  /** Failed repeats, for the synthesis report. */
  readonly failures: string[] = [];

  constructor(
    private readonly llm: LlmProvider,
    opts: Partial<LlmJudgeOptions> = {},
  ) {
    this.opts = { ...defaultLlmJudgeOptions, ...opts };
    this.name = `llm:${llm.name}`;
  }

  async judge(q: PairQuestion): Promise<JudgeAnswer> {
    const votes = new Map<Verdict, number>();
    const reasons = new Map<Verdict, string>();
    let lastError: unknown;
    for (let r = 0; r < this.opts.repeats; r++) {
      const order = optionOrder(q, r, this.opts.seed);
      try {
        const res = await this.llm.chatJson<{ answer: string; reason?: string }>(atlasAgentName, pairMessages(q, order), pairAnswerSchema, {
          temperature: this.opts.temperature,
          maxTokens: this.opts.maxTokens,
          prompt: atlasPromptRef,
        });
        const i = letters.indexOf(res.value.answer as (typeof letters)[number]);
        if (i < 0) throw new LlmError(`answer "${res.value.answer}" is not one of A, B, C`, { details: { kind: 'invalid_output' } });
        const v = order[i]!;
        votes.set(v, (votes.get(v) ?? 0) + 1);
        if (!reasons.has(v) && res.value.reason) reasons.set(v, res.value.reason);
      } catch (err) {
        // Budget and configuration problems are not one bad answer: let them stop the run.
        if (!isPanoptesError(err) || (err.code !== 'PANOPTES_LLM' && err.code !== 'PANOPTES_RETRIES_EXHAUSTED')) throw err;
        lastError = err;
        this.failures.push(`${label(q.a)} / ${label(q.b)} repeat ${r + 1}: ${err.message}`);
      }
    }
    const total = [...votes.values()].reduce((s, n) => s + n, 0);
    if (total === 0) throw new LlmError(`every one of ${this.opts.repeats} answers failed for ${label(q.a)} / ${label(q.b)}`, { cause: lastError });
    const ranked = [...votes].sort((x, y) => y[1] - x[1]);
    const [best, n] = ranked[0]!;
    const tie = ranked.length > 1 && ranked[1]![1] === n;
    const verdict: Verdict = tie ? 'NONE' : best;
    return {
      verdict,
      confidence: tie ? 0.5 : n / this.opts.repeats,
      reason: tie ? `LLM votes tied (${ranked.map(([v, k]) => `${v} ${k}`).join(', ')}): no edge` : `LLM ${n}/${this.opts.repeats} votes: ${reasons.get(verdict) ?? optionText(q, verdict)}`,
    };
  }
}
