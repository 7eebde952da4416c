/**
 * The `offline` provider: no model. Each agent name maps to a deterministic function the caller
 * supplies (the offline rule synthesizer, the docs-and-data graph builder, a scripted lab agent),
 * so the whole pipeline runs, and is tested, on machines that reach no LLM. Calls are counted like
 * real ones, with zero tokens.
 */

import { LlmError } from '../core/errors.ts';
import type { TokenAccounting } from './accounting.ts';
import { parseJsonAnswer } from './json-answer.ts';
import type { ChatMessage, ChatOptions, ChatResult, JsonOptions, JsonResult, JsonSchema, LlmProvider, Usage } from './types.ts';

export interface OfflineRequest {
  agent: string;
  messages: ChatMessage[];
  /** Set for chatJson calls. */
  schema?: JsonSchema;
  opts: ChatOptions;
}

/** Returns the answer text, or (for chatJson) the value itself. */
export type OfflineHandler = (req: OfflineRequest) => string | unknown | Promise<string | unknown>;

const ZERO: Usage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };

export class OfflineProvider implements LlmProvider {
  readonly name = 'offline' as const;

  constructor(
    private readonly handlers: Record<string, OfflineHandler>,
    private readonly accounting: TokenAccounting,
  ) {}

  async chat(agent: string, messages: ChatMessage[], opts: ChatOptions = {}): Promise<ChatResult> {
    const out = await this.run(agent, { agent, messages, opts });
    const text = typeof out === 'string' ? out : JSON.stringify(out);
    return { text, usage: ZERO, model: 'offline', attempts: 1 };
  }

  async chatJson<T = unknown>(agent: string, messages: ChatMessage[], schema: JsonSchema, opts: JsonOptions = {}): Promise<JsonResult<T>> {
    const out = await this.run(agent, { agent, messages, schema, opts }, true);
    const text = typeof out === 'string' ? out : JSON.stringify(out);
    try {
      // Validated like a model's answer: an offline handler that drifts from the schema is a bug
      // the agent's callers should see the same way.
      const value = parseJsonAnswer<T>(text, schema, agent);
      this.record(agent, opts, 'ok');
      return { text, usage: ZERO, model: 'offline', attempts: 1, value, via: 'text' };
    } catch (err) {
      this.accounting.recordError(agent, 'invalid_output');
      this.record(agent, opts, 'error', 'invalid_output');
      throw err;
    }
  }

  private async run(agent: string, req: OfflineRequest, deferRecord = false): Promise<unknown> {
    const handler = this.handlers[agent];
    if (handler === undefined) {
      this.accounting.recordError(agent, 'other');
      this.record(agent, req.opts, 'error', 'no_handler');
      const known = Object.keys(this.handlers);
      throw new LlmError(
        `offline provider has no handler for agent '${agent}'` + (known.length > 0 ? ` (handlers: ${known.join(', ')})` : '') +
          '; register one, or configure an endpoint with OPENAI_API_KEY',
        { details: { kind: 'other', agent } },
      );
    }
    let out: unknown;
    try {
      out = await handler(req);
    } catch (err) {
      this.accounting.recordError(agent, 'other');
      this.record(agent, req.opts, 'error', err instanceof Error ? err.name : 'unknown');
      throw err;
    }
    if (!deferRecord) this.record(agent, req.opts, 'ok');
    return out;
  }

  private record(agent: string, opts: ChatOptions, outcome: 'ok' | 'error', error?: string): void {
    this.accounting.recordCall({
      agent,
      model: 'offline',
      provider: 'offline',
      ...(opts.prompt ? { prompt: { name: opts.prompt.name, version: opts.prompt.version } } : {}),
      usage: ZERO,
      attempts: 1,
      durationMs: 0,
      outcome,
      ...(error ? { error } : {}),
    });
  }
}
