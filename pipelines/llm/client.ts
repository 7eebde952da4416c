/**
 * The entry point agents use: `createLlmClient({ registry, offline })` picks the provider from the
 * environment (`openai` when OPENAI_API_KEY is set, else `offline`), and owns the run's budget and
 * token accounting.
 */

import type { Registry } from 'prom-client';
import type { RetryOptions } from '../core/retry.ts';
import { TokenAccounting } from './accounting.ts';
import type { CallRecord, UsageSnapshot } from './accounting.ts';
import { Budget } from './budget.ts';
import type { BudgetState } from './budget.ts';
import { loadLlmConfig } from './config.ts';
import type { LlmConfig } from './config.ts';
import { OfflineProvider } from './offline-provider.ts';
import type { OfflineHandler } from './offline-provider.ts';
import { OpenAiProvider } from './openai-provider.ts';
import type { FormatSupport } from './openai-provider.ts';
import type { ChatMessage, ChatOptions, ChatResult, JsonOptions, JsonResult, JsonSchema, LlmProvider } from './types.ts';

export interface LlmClientOptions {
  registry: Registry;
  /** Deterministic handlers per agent name for the offline provider. */
  offline?: Record<string, OfflineHandler>;
  env?: NodeJS.ProcessEnv;
  /** Applied over the environment's values (tests, CLI flags). */
  config?: Partial<LlmConfig>;
  retry?: Partial<RetryOptions>;
  formatSupport?: FormatSupport;
}

export class LlmClient implements LlmProvider {
  readonly name: 'openai' | 'offline';
  /** The effective configuration, API key redacted (safe to log). */
  readonly config: LlmConfig;

  constructor(
    config: LlmConfig,
    private readonly provider: LlmProvider,
    private readonly accounting: TokenAccounting,
    private readonly budget: Budget,
  ) {
    this.name = provider.name;
    this.config = { ...config, ...(config.apiKey !== undefined ? { apiKey: '(redacted)' } : {}) };
  }

  chat(agent: string, messages: ChatMessage[], opts?: ChatOptions): Promise<ChatResult> {
    return this.provider.chat(agent, messages, opts);
  }

  chatJson<T = unknown>(agent: string, messages: ChatMessage[], schema: JsonSchema, opts?: JsonOptions): Promise<JsonResult<T>> {
    return this.provider.chatJson<T>(agent, messages, schema, opts);
  }

  /** Same as chatJson (the name the design issue uses). */
  completeJson<T = unknown>(agent: string, messages: ChatMessage[], schema: JsonSchema, opts?: JsonOptions): Promise<JsonResult<T>> {
    return this.provider.chatJson<T>(agent, messages, schema, opts);
  }

  /** Per-agent token accounting as a plain object, for training reports. */
  usage(): UsageSnapshot {
    return this.accounting.snapshot();
  }

  /** Recent calls with their prompt template name and version. */
  calls(): CallRecord[] {
    return this.accounting.calls();
  }

  budgetState(): BudgetState {
    return this.budget.state();
  }
}

export function createLlmClient(o: LlmClientOptions): LlmClient {
  const config = loadLlmConfig(o.env ?? process.env, o.config);
  const accounting = new TokenAccounting(o.registry);
  const budget = new Budget(config.budget);
  const provider: LlmProvider =
    config.provider === 'openai'
      ? new OpenAiProvider({
          config,
          accounting,
          budget,
          ...(o.formatSupport ? { formatSupport: o.formatSupport } : {}),
          ...(o.retry ? { retry: o.retry } : {}),
        })
      : new OfflineProvider(o.offline ?? {}, accounting);
  return new LlmClient(config, provider, accounting, budget);
}
