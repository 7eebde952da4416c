/**
 * The LLM path end to end: the real `openai` package against the replay server, through our
 * retry policy, budget, accounting and structured-output fallback.
 */
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { startReplayServer } from '../../../pipelines/llm/replay/server.ts';
import type { ReplayServer } from '../../../pipelines/llm/replay/server.ts';
import { replayClient } from '../../../pipelines/llm/replay/client.ts';
import { BudgetExceededError, LlmError, LlmOutputError, RetriesExhaustedError } from '../../../pipelines/core/errors.ts';
import type { ChatMessage } from '../../../pipelines/llm/types.ts';

const servers: ReplayServer[] = [];
afterEach(async () => {
  while (servers.length > 0) await servers.pop()!.close();
});

async function serve(fixture: object): Promise<ReplayServer> {
  const s = await startReplayServer(fixture);
  servers.push(s);
  return s;
}

const ask: ChatMessage[] = [
  { role: 'system', content: 'You write anomaly rules.' },
  { role: 'user', content: 'Write a rule for cpu spikes.' },
];

const ruleSchema = {
  type: 'object',
  required: ['rule', 'kind'],
  additionalProperties: false,
  properties: { rule: { type: 'string', minLength: 1 }, kind: { enum: ['FN', 'FP'] } },
};

async function metric(reg: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const m = (await reg.getMetricsAsJSON()).find((x) => x.name === name);
  if (!m) return NaN;
  const v = (m.values as { labels: Record<string, string | number>; value: number; metricName?: string }[]).find(
    (x) => (x.metricName === undefined || x.metricName === name) && Object.entries(labels).every(([k, val]) => x.labels[k] === val),
  );
  return v?.value ?? 0;
}

test('a good answer: text, usage, headers and the prompt version recorded', async () => {
  const s = await serve({
    steps: [{ match: { agent: 'argos-detection', contains: 'cpu' }, reply: { content: 'value > 3', usage: { prompt_tokens: 21, completion_tokens: 4 } } }],
  });
  const registry = new Registry();
  const c = replayClient(s, { registry });
  const r = await c.chat('argos-detection', ask, { prompt: { name: 'argos-detection', version: 1 }, temperature: 0.2 });
  assert.equal(r.text, 'value > 3');
  assert.deepEqual(r.usage, { promptTokens: 21, completionTokens: 4, totalTokens: 25 });
  assert.equal(r.attempts, 1);
  assert.equal(s.requests.length, 1);
  assert.equal(s.requests[0]!.agent, 'argos-detection');
  assert.equal(s.requests[0]!.prompt, 'argos-detection@v1');
  assert.equal(s.requests[0]!.model, 'replay-model');
  assert.equal((s.requests[0]!.body as { temperature: number }).temperature, 0.2);
  const calls = c.calls();
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0]!.prompt, { name: 'argos-detection', version: 1 });
  assert.equal(calls[0]!.outcome, 'ok');
  assert.deepEqual(s.unusedSteps(), []);
});

test('per-agent model from PANOPTES_LLM_MODEL_<AGENT>', async () => {
  const s = await serve({ steps: [{ match: { model: 'big-model' }, reply: { content: 'ok' } }] });
  const c = replayClient(s, { registry: new Registry(), config: { agentModels: { ARGOS_REVIEW: 'big-model' } } });
  const r = await c.chat('argos-review', ask);
  assert.equal(r.model, 'big-model');
});

test('429 with Retry-After (seconds) then success: waits what the server asked', async () => {
  const s = await serve({
    steps: [
      { match: { agent: 'a' }, reply: { error: { status: 429, retryAfter: 1 } } },
      { match: { agent: 'a' }, reply: { content: 'done' } },
    ],
  });
  const sleeps: number[] = [];
  const registry = new Registry();
  const c = replayClient(s, { registry, retry: { sleep: async (ms) => void sleeps.push(ms) } });
  const r = await c.chat('a', ask);
  assert.equal(r.text, 'done');
  assert.equal(r.attempts, 2);
  assert.deepEqual(sleeps, [1000]);
  assert.deepEqual(s.requests.map((q) => q.status), [429, 200]);
  const u = c.usage().agents.a!;
  assert.equal(u.retries, 1);
  assert.equal(u.errors, 1);
  assert.equal(u.calls, 1);
  assert.equal(await metric(registry, 'panoptes_llm_errors_total', { agent: 'a', kind: 'rate_limit' }), 1);
});

test('429 with Retry-After as an HTTP date, capped by maxHintDelayMs', async () => {
  const later = new Date(Date.now() + 3_600_000).toUTCString();
  const s = await serve({
    steps: [
      { reply: { error: { status: 429, retryAfter: later } } },
      { reply: { content: 'done' } },
    ],
  });
  const sleeps: number[] = [];
  const c = replayClient(s, { registry: new Registry(), retry: { maxHintDelayMs: 1234, sleep: async (ms) => void sleeps.push(ms) } });
  assert.equal((await c.chat('a', ask)).text, 'done');
  assert.deepEqual(sleeps, [1234]);
});

test('500 then success', async () => {
  const s = await serve({ steps: [{ reply: { error: { status: 500 } } }, { reply: { error: { status: 503 } } }, { reply: { content: 'ok' } }] });
  const c = replayClient(s, { registry: new Registry() });
  const r = await c.chat('a', ask);
  assert.equal(r.attempts, 3);
  assert.equal(c.usage().agents.a!.retries, 2);
});

test('a 4xx other than 429 is never retried', async () => {
  const s = await serve({ steps: [{ reply: { error: { status: 401, message: 'bad key' } } }, { reply: { content: 'never' } }] });
  const c = replayClient(s, { registry: new Registry() });
  await assert.rejects(c.chat('a', ask), (err) => {
    assert.ok(err instanceof LlmError);
    assert.equal(err.details.kind, 'bad_request');
    assert.equal(err.details.status, 401);
    assert.equal(err.retriable, false);
    return true;
  });
  assert.equal(s.requests.length, 1);
  assert.equal(c.usage().agents.a!.failedCalls, 1);
});

test('a timeout then success', async () => {
  const s = await serve({ steps: [{ reply: { hang: true } }, { reply: { content: 'late but fine' } }] });
  const c = replayClient(s, { registry: new Registry(), config: { timeoutMs: 200 } });
  const r = await c.chat('a', ask);
  assert.equal(r.text, 'late but fine');
  assert.equal(r.attempts, 2);
  assert.equal(c.usage().agents.a!.errors, 1);
});

test('timeouts to exhaustion: RetriesExhaustedError keeps the timeout as cause', async () => {
  const s = await serve({ steps: [{ reply: { hang: true }, times: 0 }] });
  const registry = new Registry();
  const c = replayClient(s, { registry, config: { timeoutMs: 100, maxRetries: 2 } });
  await assert.rejects(c.chat('a', ask, { timeoutMs: 100 }), (err) => {
    assert.ok(err instanceof RetriesExhaustedError);
    assert.equal(err.attempts, 3);
    assert.ok(err.cause instanceof LlmError);
    assert.equal(err.cause.details.kind, 'timeout');
    return true;
  });
  assert.equal(s.requests.length, 3);
  assert.equal(await metric(registry, 'panoptes_llm_errors_total', { agent: 'a', kind: 'timeout' }), 3);
  assert.equal(await metric(registry, 'panoptes_llm_calls_total', { agent: 'a', outcome: 'error' }), 1);
});

test('structured output via response_format when the endpoint supports it', async () => {
  const s = await serve({ steps: [{ match: { responseFormat: true }, reply: { json: { rule: 'value > 3', kind: 'FN' } } }] });
  const c = replayClient(s, { registry: new Registry() });
  const r = await c.completeJson<{ rule: string; kind: string }>('argos-detection', ask, ruleSchema, { schemaName: 'rule' });
  assert.deepEqual(r.value, { rule: 'value > 3', kind: 'FN' });
  assert.equal(r.via, 'response_format');
  const sent = s.requests[0]!.body as { response_format: { type: string; json_schema: { name: string; schema: unknown } } };
  assert.equal(sent.response_format.type, 'json_schema');
  assert.equal(sent.response_format.json_schema.name, 'rule');
  assert.deepEqual(sent.response_format.json_schema.schema, ruleSchema);
});

test('response_format rejected: falls back to text parsing and remembers it for the endpoint', async () => {
  const s = await serve({
    responseFormat: false,
    steps: [
      { match: { responseFormat: false }, reply: { content: 'Here it is:\n```json\n{"rule": "value > 3", "kind": "FN"}\n```\nHope it helps.' } },
      { match: { responseFormat: false }, reply: { content: 'Sure! {"rule": "value < 1", "kind": "FP"} is the rule.' } },
    ],
  });
  const c = replayClient(s, { registry: new Registry() });
  const r1 = await c.chatJson('argos-detection', ask, ruleSchema);
  assert.deepEqual(r1.value, { rule: 'value > 3', kind: 'FN' });
  assert.equal(r1.via, 'text');
  const r2 = await c.chatJson('argos-detection', ask, ruleSchema);
  assert.deepEqual(r2.value, { rule: 'value < 1', kind: 'FP' });
  // One rejection, then the second call goes straight to text.
  assert.deepEqual(s.requests.map((q) => [q.hasResponseFormat, q.status]), [[true, 400], [false, 200], [false, 200]]);
  const fallback = s.requests[1]!.body as { messages: ChatMessage[] };
  assert.match(fallback.messages.at(-1)!.content, /JSON Schema/);
  const u = c.usage().agents['argos-detection']!;
  assert.equal(u.calls, 2);
  assert.equal(u.errors, 1);
  assert.equal(u.retries, 0);
});

test('a malformed JSON answer is a typed error carrying the raw text', async () => {
  const raw = 'I think the rule is {"rule": "value > 3", kind: FN';
  const s = await serve({ steps: [{ reply: { content: raw } }] });
  const registry = new Registry();
  const c = replayClient(s, { registry });
  await assert.rejects(c.chatJson('argos-detection', ask, ruleSchema), (err) => {
    assert.ok(err instanceof LlmOutputError);
    assert.equal(err.code, 'PANOPTES_LLM');
    assert.equal(err.raw, raw);
    assert.equal(err.problems.length, 1);
    return true;
  });
  assert.equal(s.requests.length, 1);
  assert.equal(await metric(registry, 'panoptes_llm_errors_total', { agent: 'argos-detection', kind: 'invalid_output' }), 1);
});

test('JSON that breaks the schema lists every problem with its path', async () => {
  const raw = '{"rule": "", "kind": "XX", "extra": 1}';
  const s = await serve({ steps: [{ reply: { content: raw } }] });
  const c = replayClient(s, { registry: new Registry() });
  await assert.rejects(c.chatJson('argos-detection', ask, ruleSchema), (err) => {
    assert.ok(err instanceof LlmOutputError);
    assert.equal(err.raw, raw);
    assert.deepEqual(err.problems, [
      '$.rule: expected at least 1 characters, got 0',
      '$.kind: expected one of "FN", "FP", got "XX"',
      '$.extra: unexpected property',
    ]);
    return true;
  });
});

test('a refusal is a non-retried LlmError naming the refusal', async () => {
  const s = await serve({ steps: [{ reply: { refusal: "I can't help with that." } }] });
  const c = replayClient(s, { registry: new Registry() });
  await assert.rejects(c.chat('a', ask), (err) => {
    assert.ok(err instanceof LlmError);
    assert.equal(err.details.kind, 'refusal');
    assert.match(err.message, /can't help/);
    return true;
  });
  assert.equal(s.requests.length, 1);
});

test('a body that is not JSON at all surfaces as an error, never a silent success', async () => {
  const s = await serve({ steps: [{ reply: { body: '<html>gateway</html>' } }] });
  const c = replayClient(s, { registry: new Registry() });
  await assert.rejects(c.chat('a', ask), (err) => {
    assert.ok(err instanceof LlmError);
    assert.equal(err.details.kind, 'bad_response');
    assert.ok(err.cause instanceof SyntaxError);
    return true;
  });
  assert.equal(s.requests.length, 1);
  assert.equal(c.usage().agents.a!.failedCalls, 1);
});

test('token budget: refused before a call whose estimate exceeds it', async () => {
  const s = await serve({ steps: [{ reply: { content: 'x' }, times: 0 }] });
  const c = replayClient(s, { registry: new Registry(), config: { budget: { maxTokens: 30, prices: {} } } });
  await assert.rejects(c.chat('a', ask, { maxTokens: 100 }), (err) => {
    assert.ok(err instanceof BudgetExceededError);
    assert.equal(err.code, 'PANOPTES_LLM_BUDGET');
    assert.equal(err.details.phase, 'before');
    return true;
  });
  assert.equal(s.requests.length, 0);
});

test('token budget: the call that goes over raises after it, the next is refused before', async () => {
  // The prompt is estimated at 21 tokens; each call really uses 28.
  const s = await serve({ steps: [{ reply: { content: 'x', usage: { prompt_tokens: 20, completion_tokens: 8 } }, times: 0 }] });
  const c = replayClient(s, { registry: new Registry(), config: { budget: { maxTokens: 50, prices: {} } } });
  await c.chat('a', ask);
  await assert.rejects(c.chat('a', ask), (err) => err instanceof BudgetExceededError && err.details.phase === 'after');
  assert.equal(c.budgetState().tokens, 56);
  await assert.rejects(c.chat('a', ask), (err) => err instanceof BudgetExceededError && err.details.phase === 'before');
  assert.equal(s.requests.length, 2);
});

test('cost budget with per-model prices', async () => {
  const s = await serve({ steps: [{ reply: { content: 'x', usage: { prompt_tokens: 1000, completion_tokens: 1000 } }, times: 0 }] });
  const prices = { 'replay-model': { prompt: 1, completion: 3 } }; // per million tokens
  const c = replayClient(s, { registry: new Registry(), config: { budget: { maxCost: 0.005, prices } } });
  await c.chat('a', ask);
  assert.equal(c.budgetState().cost, 0.004);
  await assert.rejects(c.chat('a', ask), (err) => err instanceof BudgetExceededError && err.details.phase === 'after');
  assert.equal(c.usage().agents.a!.cost, 0.008);
});

test('token accounting per agent, as plain object and as prom-client metrics', async () => {
  const s = await serve({
    steps: [
      { match: { agent: 'argos-detection' }, reply: { content: 'r1', usage: { prompt_tokens: 100, completion_tokens: 10 } } },
      { match: { agent: 'argos-review' }, reply: { error: { status: 500 } } },
      { match: { agent: 'argos-review' }, reply: { content: 'ok', usage: { prompt_tokens: 50, completion_tokens: 5 } } },
      { match: { agent: 'argos-detection' }, reply: { content: 'r2', usage: { prompt_tokens: 120, completion_tokens: 12 } } },
    ],
  });
  const registry = new Registry();
  const c = replayClient(s, { registry });
  await c.chat('argos-detection', ask);
  await c.chat('argos-review', ask);
  await c.chat('argos-detection', ask);
  const snap = c.usage();
  assert.deepEqual(snap.agents['argos-detection'], { promptTokens: 220, completionTokens: 22, calls: 2, failedCalls: 0, errors: 0, retries: 0, cost: 0 });
  assert.deepEqual(snap.agents['argos-review'], { promptTokens: 50, completionTokens: 5, calls: 1, failedCalls: 0, errors: 1, retries: 1, cost: 0 });
  assert.equal(snap.total.promptTokens, 270);
  assert.equal(snap.total.calls, 3);
  assert.equal(await metric(registry, 'panoptes_llm_prompt_tokens_total', { agent: 'argos-detection', model: 'replay-model' }), 220);
  assert.equal(await metric(registry, 'panoptes_llm_completion_tokens_total', { agent: 'argos-detection', model: 'replay-model' }), 22);
  assert.equal(await metric(registry, 'panoptes_llm_calls_total', { agent: 'argos-detection', outcome: 'ok' }), 2);
  assert.equal(await metric(registry, 'panoptes_llm_retries_total', { agent: 'argos-review' }), 1);
  assert.equal(await metric(registry, 'panoptes_llm_errors_total', { agent: 'argos-review', kind: 'server' }), 1);
  const text = await registry.metrics();
  assert.match(text, /panoptes_llm_call_duration_seconds_count\{agent="argos-review"\} 1/);
});

test('parallel calls cannot overshoot the token budget together', async () => {
  const s = await serve({ steps: [{ reply: { content: 'x', usage: { prompt_tokens: 20, completion_tokens: 5 } }, delayMs: 50, times: 0 }] });
  // Each call is estimated at 21 + 20 = 41 tokens: two fit in 100, the third is refused at once.
  const c = replayClient(s, { registry: new Registry(), config: { budget: { maxTokens: 100, prices: {} } } });
  const results = await Promise.allSettled([0, 1, 2].map(() => c.chat('a', ask, { maxTokens: 20 })));
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected']);
  assert.ok((results[2] as PromiseRejectedResult).reason instanceof BudgetExceededError);
  assert.equal(s.requests.length, 2);
  assert.deepEqual(c.budgetState(), { tokens: 50, cost: 0, reservedTokens: 0, maxTokens: 100 });
});

test('a schema the endpoint cannot enforce falls back for that call only', async () => {
  const s = await serve({
    steps: [
      { match: { responseFormat: true }, reply: { error: { status: 400, param: 'response_format', message: "Invalid schema for response_format 'answer': strict mode needs additionalProperties" } } },
      { match: { responseFormat: false }, reply: { json: { rule: 'value > 3', kind: 'FN' } } },
      { match: { responseFormat: true }, reply: { json: { rule: 'value > 4', kind: 'FN' } } },
    ],
  });
  const c = replayClient(s, { registry: new Registry() });
  assert.equal((await c.chatJson('a', ask, ruleSchema)).via, 'text');
  assert.equal((await c.chatJson('a', ask, ruleSchema)).via, 'response_format');
  assert.deepEqual(s.unusedSteps(), []);
});
