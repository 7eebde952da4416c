/**
 * The `openai` provider: any OpenAI-compatible chat-completions endpoint through the `openai`
 * package. The package's own retries are off (maxRetries 0) so that every retry goes through the
 * project's policy, is counted per agent and respects the run's budget.
 */

import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { LlmError, LlmOutputError } from '../core/errors.ts';
import { retry } from '../core/retry.ts';
import type { RetryOptions } from '../core/retry.ts';
import type { TokenAccounting, ErrorKind } from './accounting.ts';
import { estimateTokens } from './budget.ts';
import type { Budget, Reservation } from './budget.ts';
import { modelFor } from './config.ts';
import type { LlmConfig } from './config.ts';
import { parseJsonAnswer } from './json-answer.ts';
import { parseRetryAfter } from './retry-after.ts';
import type { ChatMessage, ChatOptions, ChatResult, JsonOptions, JsonResult, JsonSchema, LlmProvider, Usage } from './types.ts';

/**
 * Whether an endpoint accepts `response_format: json_schema`, learnt from its first refusal and
 * remembered for the process (shared by every client talking to the same base URL).
 */
export class FormatSupport {
  private readonly known = new Map<string, boolean>();
  get(endpoint: string): boolean | undefined {
    return this.known.get(endpoint);
  }
  set(endpoint: string, supported: boolean): void {
    this.known.set(endpoint, supported);
  }
}

export const sharedFormatSupport = new FormatSupport();

export interface OpenAiProviderOptions {
  config: LlmConfig;
  accounting: TokenAccounting;
  budget: Budget;
  formatSupport?: FormatSupport;
  /** Overrides of the retry policy (delays, sleep) on top of `retries: config.maxRetries`. */
  retry?: Partial<RetryOptions>;
  fetch?: typeof fetch;
}

interface Answer {
  text: string;
  usage: Usage;
  model: string;
  attempts: number;
  started: number;
  reservation: Reservation;
}

export class OpenAiProvider implements LlmProvider {
  readonly name = 'openai' as const;
  private readonly client: OpenAI;
  private readonly endpoint: string;
  private readonly formats: FormatSupport;

  constructor(private readonly o: OpenAiProviderOptions) {
    this.client = new OpenAI({
      apiKey: o.config.apiKey ?? '',
      ...(o.config.baseURL !== undefined ? { baseURL: o.config.baseURL } : {}),
      maxRetries: 0,
      timeout: o.config.timeoutMs,
      ...(o.fetch ? { fetch: o.fetch } : {}),
    });
    this.endpoint = this.client.baseURL;
    this.formats = o.formatSupport ?? sharedFormatSupport;
  }

  async chat(agent: string, messages: ChatMessage[], opts: ChatOptions = {}): Promise<ChatResult> {
    const a = await this.call(agent, messages, opts, undefined);
    this.book(agent, a, opts, 'ok');
    return { text: a.text, usage: a.usage, model: a.model, attempts: a.attempts };
  }

  async chatJson<T = unknown>(agent: string, messages: ChatMessage[], schema: JsonSchema, opts: JsonOptions = {}): Promise<JsonResult<T>> {
    let a: Answer;
    let via: JsonResult['via'] = 'text';
    if (this.formats.get(this.endpoint) !== false) {
      const responseFormat = {
        type: 'json_schema' as const,
        json_schema: { name: opts.schemaName ?? 'answer', schema, strict: opts.strict ?? false },
      };
      try {
        a = await this.call(agent, messages, opts, responseFormat);
        via = 'response_format';
        this.formats.set(this.endpoint, true);
      } catch (err) {
        if (!(err instanceof LlmError && err.details.kind === 'response_format')) throw err;
        // "Invalid schema" means the endpoint supports response_format but not this schema (a
        // strict-mode rule, say): fall back for this call without writing the endpoint off.
        if (!/invalid schema/i.test(err.message)) this.formats.set(this.endpoint, false);
        a = await this.call(agent, withSchemaInstruction(messages, schema), opts, undefined);
      }
    } else {
      a = await this.call(agent, withSchemaInstruction(messages, schema), opts, undefined);
    }
    try {
      const value = parseJsonAnswer<T>(a.text, schema, agent);
      this.book(agent, a, opts, 'ok', via);
      return { text: a.text, usage: a.usage, model: a.model, attempts: a.attempts, value, via };
    } catch (err) {
      this.o.accounting.recordError(agent, 'invalid_output');
      this.book(agent, a, opts, 'error', via, 'invalid_output');
      throw err;
    }
  }

  /** One logical call with retries; books usage against the budget. Records failures itself. */
  private async call(agent: string, messages: ChatMessage[], opts: ChatOptions, responseFormat: OpenAI.ResponseFormatJSONSchema | undefined): Promise<Answer> {
    const { accounting, budget, config } = this.o;
    const model = modelFor(config, agent);
    const started = Date.now();
    let reservation: Reservation;
    try {
      reservation = budget.beforeCall(agent, model, messages, opts.maxTokens);
    } catch (err) {
      accounting.recordError(agent, 'budget');
      throw err;
    }
    let attempts = 0;
    const headers: Record<string, string> = { 'x-panoptes-agent': agent };
    if (opts.prompt) headers['x-panoptes-prompt'] = `${opts.prompt.name}@v${opts.prompt.version}`;
    let resp: OpenAI.ChatCompletion;
    try {
      resp = await retry({
        retries: config.maxRetries,
        name: `LLM call by '${agent}' to ${model}`,
        shouldRetry: (e) => e instanceof LlmError && e.retriable,
        delayHint: (e) => (e instanceof LlmError ? (e.details.retryAfterMs as number | undefined) : undefined),
        onRetry: () => accounting.recordRetry(agent),
        signal: opts.signal,
        ...this.o.retry,
      })(async (bail, attempt) => {
        attempts = attempt;
        try {
          return await this.client.chat.completions.create(
            {
              model,
              messages,
              ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}),
              ...(opts.maxTokens !== undefined ? { max_tokens: opts.maxTokens } : {}),
              ...(responseFormat ? { response_format: responseFormat } : {}),
            },
            { timeout: opts.timeoutMs ?? config.timeoutMs, headers, ...(opts.signal ? { signal: opts.signal } : {}) },
          );
        } catch (err) {
          const le = classify(err, agent, model);
          if (le === undefined) throw err;
          accounting.recordError(agent, le.details.kind as ErrorKind);
          if (!le.retriable) bail(le);
          throw le;
        }
      });
    } catch (err) {
      budget.release(reservation);
      const responseFormatRejected = err instanceof LlmError && err.details.kind === 'response_format';
      if (!responseFormatRejected) {
        accounting.recordCall({ agent, model, provider: 'openai', ...promptOf(opts), usage: ZERO, attempts, durationMs: Date.now() - started, outcome: 'error', error: errorName(err) });
      }
      throw err;
    }
    const choice = resp.choices[0];
    const usage: Usage = resp.usage
      ? { promptTokens: resp.usage.prompt_tokens, completionTokens: resp.usage.completion_tokens, totalTokens: resp.usage.total_tokens }
      : estimatedUsage(messages, choice?.message.content ?? '');
    const answer: Answer = { text: choice?.message.content ?? '', usage, model: resp.model || model, attempts, started, reservation };
    if (choice?.message.refusal) {
      accounting.recordError(agent, 'refusal');
      this.book(agent, answer, opts, 'error', undefined, 'refusal');
      throw new LlmError(`model refused the request of '${agent}': ${choice.message.refusal}`, {
        details: { kind: 'refusal', agent, model, refusal: choice.message.refusal },
      });
    }
    if (choice === undefined || choice.message.content === null || choice.message.content === '') {
      accounting.recordError(agent, 'invalid_output');
      this.book(agent, answer, opts, 'error', undefined, 'empty_answer');
      throw new LlmOutputError(`empty answer from ${model} for '${agent}' (finish_reason ${choice?.finish_reason ?? 'none'})`, '', ['empty answer'], {
        details: { kind: 'invalid_output', agent, model },
      });
    }
    return answer;
  }

  /** Records a finished call and books it against the budget (which may then throw). */
  private book(agent: string, a: Answer, opts: ChatOptions, outcome: 'ok' | 'error', via?: 'response_format' | 'text', error?: string): void {
    const model = a.model;
    let cost = 0;
    let over: unknown;
    try {
      cost = this.o.budget.afterCall(agent, model, a.usage, a.reservation);
    } catch (err) {
      over = err;
      cost = this.o.budget.costOf(model, a.usage.promptTokens, a.usage.completionTokens) ?? 0;
    }
    this.o.accounting.recordCall(
      { agent, model, provider: 'openai', ...promptOf(opts), usage: a.usage, attempts: a.attempts, durationMs: Date.now() - a.started, outcome, ...(error ? { error } : {}), ...(via ? { via } : {}) },
      cost,
    );
    if (over !== undefined) {
      this.o.accounting.recordError(agent, 'budget');
      throw over;
    }
  }
}

const ZERO: Usage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };

function promptOf(opts: ChatOptions): { prompt?: { name: string; version: number } } {
  return opts.prompt ? { prompt: { name: opts.prompt.name, version: opts.prompt.version } } : {};
}

function errorName(err: unknown): string {
  if (err instanceof LlmError) return `${err.code}:${String(err.details.kind)}`;
  if (err && typeof err === 'object' && 'code' in err) return String((err as { code: unknown }).code);
  return err instanceof Error ? err.name : 'unknown';
}

function estimatedUsage(messages: ChatMessage[], text: string): Usage {
  const p = estimateTokens(messages);
  const c = Math.ceil(text.length / 4);
  return { promptTokens: p, completionTokens: c, totalTokens: p + c };
}

/** When the endpoint cannot enforce the schema, the model at least gets to read it. */
export function withSchemaInstruction(messages: ChatMessage[], schema: JsonSchema): ChatMessage[] {
  return [
    ...messages,
    { role: 'system', content: `Answer with a single JSON object (no prose) that matches this JSON Schema:\n${JSON.stringify(schema)}` },
  ];
}

/**
 * Maps the package's errors onto ours: 429, 5xx, timeouts and connection failures are retriable;
 * every other 4xx is not (retrying a bad request only burns budget). Returns undefined for
 * errors that are not the endpoint's (our own bugs), which propagate untouched.
 */
export function classify(err: unknown, agent: string, model: string): LlmError | undefined {
  const base = { agent, model };
  if (err instanceof APIUserAbortError) {
    return new LlmError(`LLM call by '${agent}' aborted`, { cause: err, details: { ...base, kind: 'other' } });
  }
  if (err instanceof APIConnectionTimeoutError) {
    return new LlmError(`LLM call by '${agent}' to ${model} timed out`, { cause: err, retriable: true, details: { ...base, kind: 'timeout' } });
  }
  if (err instanceof APIConnectionError) {
    return new LlmError(`LLM endpoint unreachable for '${agent}': ${err.message}`, { cause: err, retriable: true, details: { ...base, kind: 'connection' } });
  }
  if (err instanceof APIError) {
    const status = err.status ?? 0;
    const retryAfterMs = parseRetryAfter(err.headers);
    const details = { ...base, status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    if (status === 429) return new LlmError(`LLM rate limited (429) for '${agent}': ${err.message}`, { cause: err, retriable: true, details: { ...details, kind: 'rate_limit' } });
    if (status >= 500) return new LlmError(`LLM server error (${status}) for '${agent}': ${err.message}`, { cause: err, retriable: true, details: { ...details, kind: 'server' } });
    if ((status === 400 || status === 422) && mentionsResponseFormat(err)) {
      return new LlmError(`endpoint rejected response_format: ${err.message}`, { cause: err, details: { ...details, kind: 'response_format' } });
    }
    return new LlmError(`LLM request rejected (${status}) for '${agent}': ${err.message}`, { cause: err, details: { ...details, kind: 'bad_request' } });
  }
  if (err instanceof SyntaxError) {
    // Only the response parse can throw this inside the create() call: a 200 whose body is not
    // JSON (a proxy's HTML page). Not retried: nothing says the next answer will differ.
    return new LlmError(`LLM endpoint answered '${agent}' with a body that is not JSON: ${err.message}`, { cause: err, details: { ...base, kind: 'bad_response' } });
  }
  return undefined;
}

function mentionsResponseFormat(err: APIError): boolean {
  return err.param === 'response_format' || /response_format|json_schema/i.test(err.message);
}
