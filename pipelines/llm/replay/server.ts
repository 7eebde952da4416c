/**
 * A local chat-completions server that replays scripted transcripts, so the LLM path (the real
 * `openai` package, retries, timeouts, fallbacks) is tested without a model. Listens on
 * 127.0.0.1 on a free port; records every request for assertions.
 *
 * On fastify, but not through pipelines/core/http.ts's `createHttpServer`: this server imitates
 * OpenAI's API, so its errors must be OpenAI's (`{"error": {message, type, param, code}}`), not
 * Panoptes' one-line shape. Bodies are taken as text whatever their media type (a body that is
 * not JSON is answered and recorded as OpenAI would see it, not refused by a parser).
 */

import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { AddressInfo } from 'node:net';
import { loadFixture, parseFixture } from './fixture.ts';
import type { ReplayFixture, Step } from './fixture.ts';

export interface RecordedRequest {
  path: string;
  agent?: string;
  prompt?: string;
  model?: string;
  lastUser?: string;
  hasResponseFormat: boolean;
  body: unknown;
  /** Index of the step that answered, or null (unmatched, or rejected response_format). */
  step: number | null;
  status: number;
}

export interface ReplayServer {
  /** Base URL for OPENAI_BASE_URL, ending in /v1. */
  url: string;
  port: number;
  requests: RecordedRequest[];
  fixture: ReplayFixture;
  /** Steps with a finite `times` not yet used up, by index. */
  unusedSteps(): number[];
  close(): Promise<void>;
}

const PATHS = new Set(['/v1/chat/completions', '/chat/completions']);

export async function startReplayServer(fixture: ReplayFixture | string | object): Promise<ReplayServer> {
  const fx: ReplayFixture = typeof fixture === 'string' ? loadFixture(fixture) : isParsed(fixture) ? fixture : parseFixture(fixture);
  const used = fx.steps.map(() => 0);
  const requests: RecordedRequest[] = [];
  let counter = 0;

  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024, forceCloseConnections: true, return503OnClosing: false });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.setErrorHandler((err: { statusCode?: number; message: string }, _req, reply) => {
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
    sendError(reply, status, status >= 500 ? `replay server bug: ${err.message}` : err.message, status >= 500 ? 'server_error' : 'invalid_request_error');
  });
  for (const path of PATHS) app.post(path, (req, reply) => handle(req, reply));
  app.setNotFoundHandler(async (req, reply) => {
    const path = req.url.split('?')[0]!;
    requests.push({ path, hasResponseFormat: false, body: typeof req.body === 'string' ? req.body : '', step: null, status: 404 });
    return sendError(reply, 404, `replay: no route ${req.method} ${path} (POST /v1/chat/completions)`, 'invalid_request_error');
  });

  async function handle(req: FastifyRequest, res: FastifyReply): Promise<FastifyReply> {
    const path = req.url.split('?')[0]!;
    const bodyText = typeof req.body === 'string' ? req.body : '';
    let body: { model?: string; messages?: { role: string; content: unknown }[]; response_format?: unknown };
    try {
      body = JSON.parse(bodyText);
    } catch {
      requests.push({ path, hasResponseFormat: false, body: bodyText, step: null, status: 400 });
      return sendError(res, 400, 'replay: request body is not JSON', 'invalid_request_error');
    }
    const agent = header(req, 'x-panoptes-agent');
    const prompt = header(req, 'x-panoptes-prompt');
    const lastUser = [...(body.messages ?? [])].reverse().find((m) => m.role === 'user');
    const lastUserText = lastUser === undefined ? undefined : contentText(lastUser.content);
    const hasResponseFormat = body.response_format !== undefined;
    const rec: RecordedRequest = {
      path,
      ...(agent !== undefined ? { agent } : {}),
      ...(prompt !== undefined ? { prompt } : {}),
      ...(body.model !== undefined ? { model: body.model } : {}),
      ...(lastUserText !== undefined ? { lastUser: lastUserText } : {}),
      hasResponseFormat,
      body,
      step: null,
      status: 0,
    };
    requests.push(rec);

    if (hasResponseFormat && !fx.responseFormat) {
      rec.status = 400;
      return sendError(res, 400, "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.", 'invalid_request_error', 'response_format');
    }
    const idx = fx.steps.findIndex((s, i) => (s.times === 0 || used[i]! < s.times) && matches(s, agent, body.model, lastUserText, hasResponseFormat));
    if (idx < 0) {
      rec.status = 404;
      return sendError(
        res,
        404,
        `replay fixture '${fx.name}': no step left for agent=${agent ?? '-'} model=${body.model ?? '-'} responseFormat=${hasResponseFormat} lastUser=${JSON.stringify((lastUserText ?? '').slice(0, 80))}`,
        'replay_unmatched',
      );
    }
    used[idx]!++;
    rec.step = idx;
    const step = fx.steps[idx]!;
    if (step.delayMs > 0) await new Promise((r) => setTimeout(r, step.delayMs));
    const r = step.reply;
    if (r.hang) {
      rec.status = 0;
      // The socket stays open until the client aborts or the server closes (which destroys it).
      return res.hijack();
    }
    if (r.error) {
      rec.status = r.error.status;
      const headers: Record<string, string> = {};
      if (r.error.retryAfter !== undefined) headers['retry-after'] = String(r.error.retryAfter);
      return sendError(res, r.error.status, r.error.message ?? defaultMessage(r.error.status), r.error.type ?? defaultType(r.error.status), r.error.param, headers);
    }
    rec.status = 200;
    if (r.body !== undefined) return res.code(200).type('application/json').send(r.body);
    const content = r.refusal !== undefined ? null : r.json !== undefined ? JSON.stringify(r.json) : (r.content ?? '');
    const promptTokens = r.usage?.prompt_tokens ?? Math.ceil((body.messages ?? []).reduce((n, m) => n + contentText(m.content).length, 0) / 4);
    const completionTokens = r.usage?.completion_tokens ?? Math.ceil((content ?? r.refusal ?? '').length / 4);
    counter++;
    const out = {
      id: `chatcmpl-replay-${counter}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model ?? 'replay',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content, refusal: r.refusal ?? null },
          finish_reason: r.finishReason ?? 'stop',
          logprobs: null,
        },
      ],
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    };
    return res.code(200).type('application/json').send(JSON.stringify(out));
  }

  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    fixture: fx,
    unusedSteps: () => fx.steps.flatMap((s, i) => (s.times > 0 && used[i]! < s.times ? [i] : [])),
    close: () => app.close(),
  };
}

function isParsed(f: object): f is ReplayFixture {
  const steps = (f as { steps?: unknown }).steps;
  return typeof (f as { responseFormat?: unknown }).responseFormat === 'boolean' && Array.isArray(steps) && steps.every((s) => typeof s?.times === 'number' && typeof s?.match === 'object');
}

function matches(s: Step, agent: string | undefined, model: string | undefined, lastUser: string | undefined, hasRf: boolean): boolean {
  const m = s.match;
  if (m.agent !== undefined && m.agent !== agent) return false;
  if (m.model !== undefined && m.model !== model) return false;
  if (m.contains !== undefined && !(lastUser ?? '').includes(m.contains)) return false;
  if (m.responseFormat !== undefined && m.responseFormat !== hasRf) return false;
  return true;
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function contentText(c: unknown): string {
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((p) => (typeof p?.text === 'string' ? p.text : '')).join('');
  return '';
}

function sendError(res: FastifyReply, status: number, message: string, type: string, param?: string, headers: Record<string, string> = {}): FastifyReply {
  return res.code(status).headers(headers).type('application/json').send(JSON.stringify({ error: { message, type, param: param ?? null, code: null } }));
}

function defaultMessage(status: number): string {
  if (status === 429) return 'Rate limit reached, please retry later.';
  if (status >= 500) return 'The server had an error while processing your request.';
  return `Request failed with status ${status}.`;
}

function defaultType(status: number): string {
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}
