/** A client wired to a replay server, for tests of code that uses the LLM path. */

import type { Registry } from 'prom-client';
import type { RetryOptions } from '../../core/retry.ts';
import { createLlmClient } from '../client.ts';
import type { LlmClient } from '../client.ts';
import type { LlmConfig } from '../config.ts';
import { FormatSupport } from '../openai-provider.ts';
import type { ReplayServer } from './server.ts';

export interface ReplayClientOptions {
  registry: Registry;
  /** Default `replay-model`. */
  model?: string;
  config?: Partial<LlmConfig>;
  retry?: Partial<RetryOptions>;
}

/**
 * The real `openai` provider against `server`, with its own response_format memory (so tests do
 * not leak what one fixture's endpoint supports into another) and the environment ignored.
 */
export function replayClient(server: ReplayServer, o: ReplayClientOptions): LlmClient {
  return createLlmClient({
    registry: o.registry,
    env: {},
    config: {
      provider: 'openai',
      baseURL: server.url,
      apiKey: 'replay',
      defaultModel: o.model ?? 'replay-model',
      timeoutMs: 2_000,
      ...o.config,
    },
    formatSupport: new FormatSupport(),
    retry: { initialDelayMs: 5, maxDelayMs: 50, maxHintDelayMs: 2_000, ...o.retry },
  });
}
