/**
 * A run's spending limit. Checked twice: before a call against an estimate (prompt size plus the
 * completion cap), so a run stops before sending a request it cannot afford, and after it with the
 * endpoint's real usage, since estimates can be wrong.
 */

import { BudgetExceededError, ConfigError } from '../core/errors.ts';
import type { BudgetLimits } from './config.ts';
import type { ChatMessage, Usage } from './types.ts';

/** About four characters per token for English and code; only used for the pre-call check. */
export function estimateTokens(messages: ChatMessage[]): number {
  let chars = 0;
  for (const m of messages) chars += m.content.length;
  return Math.ceil(chars / 4) + 4 * messages.length;
}

export interface BudgetState {
  tokens: number;
  cost: number;
  maxTokens?: number;
  maxCost?: number;
}

export class Budget {
  private tokens = 0;
  private cost = 0;

  constructor(private readonly limits: BudgetLimits) {}

  /** Cost of a call, or undefined when the model has no configured price. */
  costOf(model: string, promptTokens: number, completionTokens: number): number | undefined {
    const p = this.limits.prices[model];
    if (p === undefined) return undefined;
    return (promptTokens * p.prompt + completionTokens * p.completion) / 1e6;
  }

  /** Throws before a call whose estimated usage would exceed the budget. */
  beforeCall(agent: string, model: string, messages: ChatMessage[], maxCompletionTokens = 0): void {
    const prompt = estimateTokens(messages);
    const { maxTokens, maxCost } = this.limits;
    if (maxTokens !== undefined && this.tokens + prompt + maxCompletionTokens > maxTokens) {
      throw new BudgetExceededError(
        `LLM token budget: call by '${agent}' needs ~${prompt + maxCompletionTokens} tokens, ${maxTokens - this.tokens} of ${maxTokens} left`,
        { details: { agent, model, phase: 'before', spentTokens: this.tokens, maxTokens, estimate: prompt + maxCompletionTokens } },
      );
    }
    if (maxCost !== undefined) {
      const est = this.requirePrice(model, prompt, maxCompletionTokens);
      if (this.cost + est > maxCost) {
        throw new BudgetExceededError(
          `LLM cost budget: call by '${agent}' would cost ~${est.toFixed(6)}, ${(maxCost - this.cost).toFixed(6)} of ${maxCost} left`,
          { details: { agent, model, phase: 'before', spentCost: this.cost, maxCost, estimate: est } },
        );
      }
    }
  }

  /** Books a finished call; throws when it took the run over budget. Returns the call's cost (0 if unpriced). */
  afterCall(agent: string, model: string, usage: Usage): number {
    this.tokens += usage.totalTokens;
    const c = this.costOf(model, usage.promptTokens, usage.completionTokens) ?? 0;
    this.cost += c;
    const { maxTokens, maxCost } = this.limits;
    if (maxTokens !== undefined && this.tokens > maxTokens) {
      throw new BudgetExceededError(`LLM token budget exceeded by '${agent}': ${this.tokens} of ${maxTokens} tokens used`, {
        details: { agent, model, phase: 'after', spentTokens: this.tokens, maxTokens },
      });
    }
    if (maxCost !== undefined && this.cost > maxCost) {
      throw new BudgetExceededError(`LLM cost budget exceeded by '${agent}': ${this.cost.toFixed(6)} of ${maxCost} spent`, {
        details: { agent, model, phase: 'after', spentCost: this.cost, maxCost },
      });
    }
    return c;
  }

  state(): BudgetState {
    return {
      tokens: this.tokens,
      cost: this.cost,
      ...(this.limits.maxTokens !== undefined ? { maxTokens: this.limits.maxTokens } : {}),
      ...(this.limits.maxCost !== undefined ? { maxCost: this.limits.maxCost } : {}),
    };
  }

  private requirePrice(model: string, prompt: number, completion: number): number {
    const c = this.costOf(model, prompt, completion);
    if (c === undefined) {
      throw new ConfigError([{ path: 'PANOPTES_LLM_PRICES', message: `a cost budget is set but model '${model}' has no price` }]);
    }
    return c;
  }
}
