/**
 * Replay fixtures: scripted transcripts for the chat-completions replay server (format in
 * pipelines/llm/README.md). Parsed from JSON or YAML and validated with every problem named by
 * its path, since fixture authors are other engineers writing tests.
 */

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { InputError } from '../../core/errors.ts';

export interface StepMatch {
  /** The `x-panoptes-agent` header the client sends. */
  agent?: string;
  model?: string;
  /** Substring of the last user message. */
  contains?: string;
  /** Whether the request carries `response_format`. */
  responseFormat?: boolean;
}

export interface ErrorReply {
  status: number;
  message?: string;
  type?: string;
  param?: string;
  /** Retry-After header: seconds, or an HTTP date string. */
  retryAfter?: number | string;
}

export interface Reply {
  content?: string;
  /** Shorthand for `content: JSON.stringify(json)`. */
  json?: unknown;
  usage?: { prompt_tokens: number; completion_tokens: number };
  finishReason?: string;
  refusal?: string;
  error?: ErrorReply;
  /** Never answers: the client's timeout fires. */
  hang?: boolean;
  /** A raw HTTP 200 body, e.g. not JSON at all. */
  body?: string;
}

export interface Step {
  match: StepMatch;
  reply: Reply;
  /** Requests this step answers before it is used up; 0 means unlimited. */
  times: number;
  delayMs: number;
}

export interface ReplayFixture {
  name: string;
  /** False: every request carrying response_format gets a 400, without using a step. */
  responseFormat: boolean;
  steps: Step[];
}

const REPLY_KINDS = ['content', 'json', 'refusal', 'error', 'hang', 'body'] as const;

export function loadFixture(path: string): ReplayFixture {
  let raw: unknown;
  const text = readFileSync(path, 'utf8');
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new InputError(`replay fixture ${path}: cannot parse: ${(e as Error).message}`, { cause: e });
  }
  return parseFixture(raw, path);
}

export function parseFixture(raw: unknown, source = 'fixture'): ReplayFixture {
  const issues: string[] = [];
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(raw)) throw new InputError(`replay fixture ${source}: expected an object with 'steps'`);
  const unknownKeys = (obj: Record<string, unknown>, allowed: readonly string[], path: string) => {
    for (const k of Object.keys(obj)) if (!allowed.includes(k)) issues.push(`${path}.${k}: unknown key (expected one of ${allowed.join(', ')})`);
  };
  unknownKeys(raw, ['name', 'responseFormat', 'steps'], '$');
  if (raw.name !== undefined && typeof raw.name !== 'string') issues.push('$.name: expected a string');
  if (raw.responseFormat !== undefined && typeof raw.responseFormat !== 'boolean') issues.push('$.responseFormat: expected true or false');
  if (!Array.isArray(raw.steps)) issues.push('$.steps: expected a list of steps');
  const steps: Step[] = [];
  (Array.isArray(raw.steps) ? raw.steps : []).forEach((s: unknown, i: number) => {
    const p = `$.steps[${i}]`;
    if (!isObj(s)) {
      issues.push(`${p}: expected an object with 'reply'`);
      return;
    }
    unknownKeys(s, ['match', 'reply', 'times', 'delayMs'], p);
    const match = s.match ?? {};
    if (!isObj(match)) issues.push(`${p}.match: expected an object`);
    else {
      unknownKeys(match, ['agent', 'model', 'contains', 'responseFormat'], `${p}.match`);
      for (const k of ['agent', 'model', 'contains'] as const) if (match[k] !== undefined && typeof match[k] !== 'string') issues.push(`${p}.match.${k}: expected a string`);
      if (match.responseFormat !== undefined && typeof match.responseFormat !== 'boolean') issues.push(`${p}.match.responseFormat: expected true or false`);
    }
    const times = s.times ?? 1;
    if (typeof times !== 'number' || !Number.isInteger(times) || times < 0) issues.push(`${p}.times: expected an integer >= 0 (0 = unlimited)`);
    const delayMs = s.delayMs ?? 0;
    if (typeof delayMs !== 'number' || delayMs < 0) issues.push(`${p}.delayMs: expected a number >= 0`);
    const reply = s.reply;
    if (!isObj(reply)) {
      issues.push(`${p}.reply: expected an object with one of ${REPLY_KINDS.join(', ')}`);
      return;
    }
    unknownKeys(reply, [...REPLY_KINDS, 'usage', 'finishReason'], `${p}.reply`);
    const kinds = REPLY_KINDS.filter((k) => reply[k] !== undefined);
    if (kinds.length !== 1) issues.push(`${p}.reply: expected exactly one of ${REPLY_KINDS.join(', ')}, got ${kinds.length === 0 ? 'none' : kinds.join(', ')}`);
    for (const k of ['content', 'refusal', 'body', 'finishReason'] as const) if (reply[k] !== undefined && typeof reply[k] !== 'string') issues.push(`${p}.reply.${k}: expected a string`);
    if (reply.hang !== undefined && reply.hang !== true) issues.push(`${p}.reply.hang: expected true`);
    if (reply.usage !== undefined) {
      const u = reply.usage as Record<string, unknown>;
      if (!isObj(u) || !Number.isInteger(u.prompt_tokens) || !Number.isInteger(u.completion_tokens)) {
        issues.push(`${p}.reply.usage: expected {prompt_tokens: integer, completion_tokens: integer}`);
      }
    }
    if (reply.error !== undefined) {
      const e = reply.error;
      if (!isObj(e) || typeof e.status !== 'number' || e.status < 400 || e.status > 599) issues.push(`${p}.reply.error.status: expected an HTTP error status 400..599`);
      else {
        unknownKeys(e, ['status', 'message', 'type', 'param', 'retryAfter'], `${p}.reply.error`);
        if (e.retryAfter !== undefined && typeof e.retryAfter !== 'number' && typeof e.retryAfter !== 'string') issues.push(`${p}.reply.error.retryAfter: expected seconds or an HTTP date`);
      }
    }
    steps.push({ match: (isObj(match) ? match : {}) as StepMatch, reply: reply as Reply, times: times as number, delayMs: delayMs as number });
  });
  if (issues.length > 0) {
    throw new InputError(`replay fixture ${source}:\n${issues.map((i) => `  - ${i}`).join('\n')}`, { details: { issues } });
  }
  return { name: typeof raw.name === 'string' ? raw.name : source, responseFormat: raw.responseFormat !== false, steps };
}
