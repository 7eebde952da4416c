/**
 * Token accounting per agent: prom-client metrics on the injected registry (for dashboards) and
 * the same numbers as a plain object plus a call log (for training reports, which must say what a
 * rule cost and which prompt version produced it).
 */

import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { PromptRef, Usage } from './types.ts';

export interface AgentUsage {
  promptTokens: number;
  completionTokens: number;
  /** Logical calls (retries of one call count once). */
  calls: number;
  /** Logical calls that finally failed. */
  failedCalls: number;
  /** Failed attempts, including ones a retry recovered from. */
  errors: number;
  retries: number;
  cost: number;
}

export interface CallRecord {
  agent: string;
  model: string;
  provider: 'openai' | 'offline';
  prompt?: PromptRef;
  usage: Usage;
  attempts: number;
  durationMs: number;
  outcome: 'ok' | 'error';
  /** Error code or class when outcome is 'error'. */
  error?: string;
  via?: 'response_format' | 'text';
}

export interface UsageSnapshot {
  agents: Record<string, AgentUsage>;
  total: AgentUsage;
}

/** Error kinds used as the `kind` label; kept small so label cardinality stays bounded. */
export type ErrorKind = 'rate_limit' | 'server' | 'timeout' | 'connection' | 'bad_request' | 'response_format' | 'refusal' | 'invalid_output' | 'bad_response' | 'budget' | 'other';

const MAX_CALL_LOG = 10_000;

function emptyUsage(): AgentUsage {
  return { promptTokens: 0, completionTokens: 0, calls: 0, failedCalls: 0, errors: 0, retries: 0, cost: 0 };
}

function counter(registry: Registry, name: string, help: string, labelNames: string[]): Counter<string> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<string>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

export class TokenAccounting {
  private readonly agents = new Map<string, AgentUsage>();
  private readonly log: CallRecord[] = [];
  private readonly m: {
    prompt: Counter<string>;
    completion: Counter<string>;
    calls: Counter<string>;
    errors: Counter<string>;
    retries: Counter<string>;
    cost: Counter<string>;
    duration: Histogram<string>;
  };

  constructor(registry: Registry) {
    const durName = 'panoptes_llm_call_duration_seconds';
    this.m = {
      prompt: counter(registry, 'panoptes_llm_prompt_tokens_total', 'Prompt tokens used, by agent and model', ['agent', 'model']),
      completion: counter(registry, 'panoptes_llm_completion_tokens_total', 'Completion tokens used, by agent and model', ['agent', 'model']),
      calls: counter(registry, 'panoptes_llm_calls_total', 'Logical LLM calls, by agent and outcome', ['agent', 'outcome']),
      errors: counter(registry, 'panoptes_llm_errors_total', 'Failed LLM attempts, by agent and error kind', ['agent', 'kind']),
      retries: counter(registry, 'panoptes_llm_retries_total', 'LLM attempts retried, by agent', ['agent']),
      cost: counter(registry, 'panoptes_llm_cost_total', 'LLM cost in configured price units, by agent', ['agent']),
      duration:
        (registry.getSingleMetric(durName) as Histogram<string> | undefined) ??
        new Histogram({
          name: durName,
          help: 'LLM call duration including retries, by agent',
          labelNames: ['agent'],
          buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
          registers: [registry],
        }),
    };
  }

  recordCall(rec: CallRecord, cost = 0): void {
    const a = this.agent(rec.agent);
    a.calls++;
    if (rec.outcome === 'error') a.failedCalls++;
    a.promptTokens += rec.usage.promptTokens;
    a.completionTokens += rec.usage.completionTokens;
    a.cost += cost;
    this.m.calls.inc({ agent: rec.agent, outcome: rec.outcome });
    if (rec.usage.promptTokens > 0) this.m.prompt.inc({ agent: rec.agent, model: rec.model }, rec.usage.promptTokens);
    if (rec.usage.completionTokens > 0) this.m.completion.inc({ agent: rec.agent, model: rec.model }, rec.usage.completionTokens);
    if (cost > 0) this.m.cost.inc({ agent: rec.agent }, cost);
    this.m.duration.observe({ agent: rec.agent }, rec.durationMs / 1000);
    if (this.log.length >= MAX_CALL_LOG) this.log.shift();
    this.log.push(rec);
  }

  recordError(agent: string, kind: ErrorKind): void {
    this.agent(agent).errors++;
    this.m.errors.inc({ agent, kind });
  }

  recordRetry(agent: string): void {
    this.agent(agent).retries++;
    this.m.retries.inc({ agent });
  }

  snapshot(): UsageSnapshot {
    const agents: Record<string, AgentUsage> = {};
    const total = emptyUsage();
    for (const [name, u] of [...this.agents].sort(([a], [b]) => a.localeCompare(b))) {
      agents[name] = { ...u };
      for (const k of Object.keys(total) as (keyof AgentUsage)[]) total[k] += u[k];
    }
    return { agents, total };
  }

  /** The most recent calls (up to 10,000), oldest first. */
  calls(): CallRecord[] {
    return [...this.log];
  }

  private agent(name: string): AgentUsage {
    let a = this.agents.get(name);
    if (!a) {
      a = emptyUsage();
      this.agents.set(name, a);
    }
    return a;
  }
}
