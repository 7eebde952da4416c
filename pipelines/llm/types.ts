/**
 * The small contract every agent codes against. Two providers implement it: `openai` (any
 * OpenAI-compatible endpoint) and `offline` (a deterministic function per agent, no model).
 */

export type Role = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: Role;
  content: string;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/** Which versioned template produced a call's messages (recorded with the call). */
export interface PromptRef {
  name: string;
  version: number;
}

export interface ChatOptions {
  temperature?: number;
  /** Upper bound on completion tokens; also used by the budget's pre-call estimate. */
  maxTokens?: number;
  /** Per-call timeout, ms (default from config). */
  timeoutMs?: number;
  prompt?: PromptRef;
  signal?: AbortSignal;
}

export interface JsonOptions extends ChatOptions {
  /** Name given to the schema in `response_format.json_schema.name` (default `answer`). */
  schemaName?: string;
  /** `response_format.json_schema.strict` (default false: many endpoints reject strict schemas). */
  strict?: boolean;
}

export interface ChatResult {
  text: string;
  usage: Usage;
  /** Model that answered (`offline` for the offline provider). */
  model: string;
  /** Attempts the call took (1 without retries). */
  attempts: number;
}

export interface JsonResult<T = unknown> extends ChatResult {
  value: T;
  /** How the JSON was obtained: the endpoint enforced the schema, or we parsed free text. */
  via: 'response_format' | 'text';
}

/** A JSON Schema (the subset `validate-schema.ts` checks). */
export type JsonSchema = Record<string, unknown>;

export interface LlmProvider {
  readonly name: 'openai' | 'offline';
  chat(agent: string, messages: ChatMessage[], opts?: ChatOptions): Promise<ChatResult>;
  chatJson<T = unknown>(agent: string, messages: ChatMessage[], schema: JsonSchema, opts?: JsonOptions): Promise<JsonResult<T>>;
}
