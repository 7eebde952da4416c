/**
 * The Argos replay fixtures (tests/helpers/llm-replay/fixtures) walked through the real client
 * with the real prompt templates and answer schemas, the way a training loop will call them, and
 * the rules checked by the real rule compiler. This proves each fixture scripts what its comment
 * says; the training loop's own tests reuse the fixtures.
 */
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { startReplayServer } from '../../../pipelines/llm/replay/server.ts';
import type { ReplayServer } from '../../../pipelines/llm/replay/server.ts';
import { replayClient } from '../../../pipelines/llm/replay/client.ts';
import type { ReplayClientOptions } from '../../../pipelines/llm/replay/client.ts';
import { prompt } from '../../../pipelines/llm/prompts.ts';
import { detectionAnswerSchema, repairAnswerSchema, reviewAnswerSchema } from '../../../pipelines/llm/argos-answers.ts';
import type { DetectionAnswer, RepairAnswer, ReviewAnswer } from '../../../pipelines/llm/argos-answers.ts';
import type { LlmClient } from '../../../pipelines/llm/client.ts';
import { LlmError, LlmOutputError, RetriesExhaustedError } from '../../../pipelines/core/errors.ts';
import { prepareRule } from '../../../pipelines/detect/rules/rule.ts';
import { formatDiagnostic } from '../../../pipelines/detect/rules/diagnostics.ts';
import { compileProgram } from '../../../pipelines/detect/rules/compiler.ts';
import { pointAdjustedMetrics } from '../../../pipelines/train/metrics/event.ts';

const FIXTURES = join(import.meta.dirname, '../../helpers/llm-replay/fixtures');

const servers: ReplayServer[] = [];
afterEach(async () => {
  while (servers.length > 0) await servers.pop()!.close();
});

async function setup(name: string, o: Partial<ReplayClientOptions> = {}): Promise<{ s: ReplayServer; llm: LlmClient }> {
  const s = await startReplayServer(join(FIXTURES, `${name}.yaml`));
  servers.push(s);
  return { s, llm: replayClient(s, { registry: new Registry(), ...o }) };
}

const check = (expr: string, kind: 'FN' | 'FP' = 'FN') => prepareRule({ id: 'r', kind, severity: 'warning', description: '', expr });

function detect(llm: LlmClient, kind = 'FN') {
  const { messages, ref } = prompt('argos-detection', {
    series: 'cpu_utilization (percent, one host)',
    interval: '5m',
    kind,
    stats: 'count 500, min 2.1, max 97.0, mean 31.4, std 8.2',
    data: '0,2026-01-01T00:00:00Z,30.1,0\n1,2026-01-01T00:05:00Z,31.0,0',
    base_errors: 'FN 120-124 (missed spike)',
    rules: 'none',
  });
  return llm.chatJson<DetectionAnswer>('argos-detection', messages, detectionAnswerSchema, { prompt: ref, temperature: 0.5 });
}

function review(llm: LlmClient, expr: string) {
  const { messages, ref } = prompt('argos-review', {
    kind: 'FN',
    series: 'cpu_utilization',
    previous: 'none',
    expr,
    diff: `+ ${expr}`,
    metrics_before: 'event F1 0.62',
    metrics_after: 'event F1 (measured by the loop)',
    changed_segments: 'none listed',
  });
  return llm.chatJson<ReviewAnswer>('argos-review', messages, reviewAnswerSchema, { prompt: ref });
}

function repair(llm: LlmClient, expr: string, errors: string) {
  const { messages, ref } = prompt('argos-repair', { kind: 'FN', expr, errors, intent: 'catch CPU spikes', attempt: 1 });
  return llm.chatJson<RepairAnswer>('argos-repair', messages, repairAnswerSchema, { prompt: ref, temperature: 0.75 });
}

test('argos-good-rule: a rule that compiles, kept by review', async () => {
  const { s, llm } = await setup('argos-good-rule');
  const d = await detect(llm);
  assert.deepEqual(check(d.value.expr).diagnostics, []);
  assert.equal((await review(llm, d.value.expr)).value.decision, 'keep');
  assert.deepEqual(s.unusedSteps(), []);
  assert.deepEqual(s.requests.map((r) => r.prompt), ['argos-detection@v1', 'argos-review@v1']);
  assert.equal(llm.usage().total.promptTokens, 1850 + 1420);
});

test('argos-syntax-repair: the compiler message reaches repair, whose rule compiles', async () => {
  const { s, llm } = await setup('argos-syntax-repair');
  const d = await detect(llm);
  const diags = check(d.value.expr).diagnostics;
  assert.equal(diags.length, 1);
  const errors = diags.map((x) => formatDiagnostic(x)).join('\n');
  assert.match(errors, /expected '\)'/);
  const r = await repair(llm, d.value.expr, errors);
  assert.deepEqual(check(r.value.expr).diagnostics, []);
  assert.equal((await review(llm, r.value.expr)).value.decision, 'keep');
  assert.deepEqual(s.unusedSteps(), []);
});

test('argos-not-a-rule: a typed error with the raw answer, then a valid rule', async () => {
  const { s, llm } = await setup('argos-not-a-rule');
  await assert.rejects(detect(llm), (err) => err instanceof LlmOutputError && err.raw.includes('def detect(window)'));
  const again = await detect(llm);
  assert.deepEqual(check(again.value.expr).diagnostics, []);
  const r = await repair(llm, 'def detect(window): ...', 'the answer was Python, not a rule');
  assert.deepEqual(check(r.value.expr).diagnostics, []);
  assert.equal((await review(llm, r.value.expr)).value.decision, 'keep');
  assert.deepEqual(s.unusedSteps(), []);
  assert.equal(llm.usage().agents['argos-detection']!.failedCalls, 1);
});

test('argos-429-then-success: one retry after the server-given delay', async () => {
  const sleeps: number[] = [];
  const { llm } = await setup('argos-429-then-success', { retry: { sleep: async (ms) => void sleeps.push(ms) } });
  const d = await detect(llm);
  assert.equal(d.attempts, 2);
  assert.deepEqual(sleeps, [1000]);
  assert.deepEqual(check(d.value.expr).diagnostics, []);
  assert.equal(llm.usage().agents['argos-detection']!.retries, 1);
});

test('argos-timeout-then-success: an FP rule after one timeout', async () => {
  const { llm } = await setup('argos-timeout-then-success', { config: { timeoutMs: 200 } });
  const d = await detect(llm, 'FP');
  assert.equal(d.attempts, 2);
  assert.equal(d.value.kind, 'FP');
  assert.deepEqual(check(d.value.expr, 'FP').diagnostics, []);
});

test('argos-timeout: exhaustion after every attempt timed out', async () => {
  const { s, llm } = await setup('argos-timeout', { config: { timeoutMs: 100, maxRetries: 2 } });
  await assert.rejects(detect(llm), (err) => err instanceof RetriesExhaustedError && err.cause instanceof LlmError && err.cause.details.kind === 'timeout');
  assert.equal(s.requests.length, 3);
});

/** Labels from a compiled rule over a series (unknown counts as not firing). */
function labels(expr: string, ts: number[], vs: number[]): Uint8Array {
  const rule = check(expr).rule;
  assert.ok(rule, expr);
  const p = compileProgram(rule);
  return Uint8Array.from(ts.map((t, i) => (p.step(t, vs[i]!) === 1 ? 1 : 0)));
}

test('argos-f1-drop: the first candidate really lowers F1 on a series with rare spikes; review reverts', async () => {
  const { s, llm } = await setup('argos-f1-drop');
  const first = await detect(llm);
  // A deterministic 5-minute series: noise around 30 with three labelled spikes.
  const n = 2000;
  const ts = Array.from({ length: n }, (_, i) => Date.UTC(2026, 0, 1) + i * 300_000);
  let x = 7;
  const noise = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 4;
  const vs = ts.map(() => 30 + noise());
  const truth = new Uint8Array(n);
  for (const at of [500, 1100, 1700]) for (let i = at; i < at + 4; i++) (vs[i] = 90), (truth[i] = 1);
  const f1Bad = pointAdjustedMetrics(labels(first.value.expr, ts, vs), truth).f1 ?? 0;
  const r1 = await review(llm, first.value.expr);
  assert.equal(r1.value.decision, 'revert');
  const second = await detect(llm);
  const f1Good = pointAdjustedMetrics(labels(second.value.expr, ts, vs), truth).f1 ?? 0;
  assert.ok(f1Bad < 0.1, `always-true rule F1 ${f1Bad}`);
  assert.ok(f1Good > 0.9, `4-sigma rule F1 ${f1Good}`);
  assert.equal((await review(llm, second.value.expr)).value.decision, 'keep');
  assert.deepEqual(s.unusedSteps(), []);
});
