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
  /** Estimates held by calls in flight. */
  reservedTokens: number;
  maxTokens?: number;
  maxCost?: number;
}

/** What a call in flight holds against the budget until it is booked or released. */
export interface Reservation {
  tokens: number;
  cost: number;
}

/**
 * Calls in flight hold their estimate (agents run top-k candidates in parallel), so concurrent
 * calls cannot all pass the pre-call check and overshoot together.
 */
export class Budget {
  private tokens = 0;
  private cost = 0;
  private reservedTokens = 0;
  private reservedCost = 0;

  constructor(private readonly limits: BudgetLimits) {}

  /** Cost of a call, or undefined when the model has no configured price. */
  costOf(model: string, promptTokens: number, completionTokens: number): number | undefined {
    const p = this.limits.prices[model];
    if (p === undefined) return undefined;
    return (promptTokens * p.prompt + completionTokens * p.completion) / 1e6;
  }

  /**
   * Throws before a call whose estimated usage would exceed the budget; otherwise reserves the
   * estimate until `afterCall` or `release`.
   */
  beforeCall(agent: string, model: string, messages: ChatMessage[], maxCompletionTokens = 0): Reservation {
    const prompt = estimateTokens(messages);
    const tokens = prompt + maxCompletionTokens;
    const { maxTokens, maxCost } = this.limits;
    if (maxTokens !== undefined && this.tokens + this.reservedTokens + tokens > maxTokens) {
      const left = maxTokens - this.tokens - this.reservedTokens;
      throw new BudgetExceededError(
        `LLM token budget: call by '${agent}' needs ~${tokens} tokens, ${left} of ${maxTokens} left` + (this.reservedTokens > 0 ? ` (${this.reservedTokens} held by calls in flight)` : ''),
        { details: { agent, model, phase: 'before', spentTokens: this.tokens, reservedTokens: this.reservedTokens, maxTokens, estimate: tokens } },
      );
    }
    let cost = 0;
    if (maxCost !== undefined) {
      cost = this.requirePrice(model, prompt, maxCompletionTokens);
      if (this.cost + this.reservedCost + cost > maxCost) {
        throw new BudgetExceededError(
          `LLM cost budget: call by '${agent}' would cost ~${cost.toFixed(6)}, ${(maxCost - this.cost - this.reservedCost).toFixed(6)} of ${maxCost} left`,
          { details: { agent, model, phase: 'before', spentCost: this.cost, reservedCost: this.reservedCost, maxCost, estimate: cost } },
        );
      }
    }
    this.reservedTokens += tokens;
    this.reservedCost += cost;
    return { tokens, cost };
  }

  /** Gives back a reservation whose call failed without usage. Idempotent per reservation. */
  release(r: Reservation | undefined): void {
    if (r === undefined || (r.tokens === 0 && r.cost === 0)) return;
    this.reservedTokens = Math.max(0, this.reservedTokens - r.tokens);
    this.reservedCost = Math.max(0, this.reservedCost - r.cost);
    r.tokens = 0;
    r.cost = 0;
  }

  /** Books a finished call; throws when it took the run over budget. Returns the call's cost (0 if unpriced). */
  afterCall(agent: string, model: string, usage: Usage, reservation?: Reservation): number {
    this.release(reservation);
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
      reservedTokens: this.reservedTokens,
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
