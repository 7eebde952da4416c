/**
 * The training loop's LLM path against the replay server (real `openai` package, real prompts,
 * schemas, compiler and review), one fixture per behaviour: a good rule, a syntax error the repair
 * agent fixes, an answer that is not a rule, a 429 then success, timeouts, and a rule that lowers
 * F1 and is rejected.
 */
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { startReplayServer } from '../../../pipelines/llm/replay/server.ts';
import type { ReplayServer } from '../../../pipelines/llm/replay/server.ts';
import { replayClient } from '../../../pipelines/llm/replay/client.ts';
import type { ReplayClientOptions } from '../../../pipelines/llm/replay/client.ts';
import { fromClient } from '../../../pipelines/train/argos/run.ts';
import { trainSeries } from '../../../pipelines/train/argos/trainer.ts';
import type { SeriesTrainingResult, TrainOptions } from '../../../pipelines/train/argos/trainer.ts';
import { syntheticSeries } from '../../unit/train/argos/synthetic.ts';

const FIXTURES = join(import.meta.dirname, '../../helpers/llm-replay/fixtures');
const servers: ReplayServer[] = [];
afterEach(async () => {
  while (servers.length > 0) await servers.pop()!.close();
});

/** Long, tall spikes the base detector never flags: `value > mean(1d) + 4 * std(1d)` helps. */
type Base = 'none' | 'false-alarms' | 'partial';
function spiky(base: Base = 'none') {
  const baseRecall = { none: 0, 'false-alarms': 1, partial: 0.5 }[base];
  const s = syntheticSeries(5, { spikes: 10, spikeLength: 5, height: 40, baseRecall, falseAlarms: base === 'false-alarms' ? 25 : 0 });
  return { name: 'cpu', timestamps: s.timestamps, values: s.values, truth: s.truth, base: s.base, trainEnd: s.values.length };
}

async function train(
  fixture: string,
  o: Partial<TrainOptions> = {},
  client: Partial<ReplayClientOptions> = {},
  base: Base = 'none',
): Promise<{ s: ReplayServer; r: SeriesTrainingResult }> {
  const s = await startReplayServer(join(FIXTURES, `${fixture}.yaml`));
  servers.push(s);
  const llm = replayClient(s, { registry: new Registry(), ...client });
  // Range rules are off: these scenarios are about what the agents' answers lead to (range rules do
  // not depend on the provider and have their own unit tests).
  const r = await trainSeries(spiky(base), fromClient(llm), { iterations: 1, candidates: 1, patience: 1, minSupport: 1, rangeRules: 'off', ...o });
  return { s, r };
}

const candidates = (r: SeriesTrainingResult) => r.report.iterations.flatMap((it) => it.candidates);

test('good rule: detection answers a valid rule, review keeps it, it is kept with its token usage', async () => {
  const { s, r } = await train('argos-good-rule');
  assert.deepEqual(s.unusedSteps(), []);
  const [c] = candidates(r);
  assert.equal(c!.outcome, 'accepted', c!.reason);
  assert.equal(c!.review?.decision, 'keep');
  assert.equal(r.trained[0]!.canonical, c!.expr);
  assert.ok(c!.fit!.deltaF1 > 0);
  assert.equal(r.report.usage.agents['argos-detection']!.promptTokens, 1850);
  assert.equal(r.report.usage.agents['argos-detection']!.completionTokens, 96);
  assert.equal(r.report.usage.agents['argos-review']!.promptTokens, 1420);
  assert.ok(r.report.agentTimeMs['argos-detection']! >= 0);
  assert.match(r.report.provider, /^openai/);
  // The detection prompt carried the labelled chunk and the base detector's misses.
  const det = s.requests.find((q) => q.agent === 'argos-detection')!;
  assert.match(det.lastUser ?? "", /Write one FN rule/);
  assert.match(det.lastUser ?? "", /FN \d+-\d+ \(labelled anomaly not detected\)/);
  assert.equal(det.prompt, 'argos-detection@v1');
});

test('syntax error: the compiler message goes to the repair agent, whose fix is scored and kept', async () => {
  const { s, r } = await train('argos-syntax-repair');
  assert.deepEqual(s.unusedSteps(), []);
  const [c] = candidates(r);
  assert.equal(c!.repairs.length, 1);
  assert.match(c!.repairs[0]!.errors, /expected '\)'/);
  assert.equal(c!.repairs[0]!.expr, 'value > mean(1d) + 4 * std(1d)');
  assert.equal(c!.outcome, 'accepted', c!.reason);
  assert.deepEqual(r.report.repairs, { attempted: 1, fixed: 1 });
  const rep = s.requests.find((q) => q.agent === 'argos-repair')!;
  assert.match(rep.lastUser ?? "", /value > mean\(1d\) \+ 4 \* std\(1d$/m);
});

test('not a rule: an answer that is not JSON goes to the repair agent with the raw text', async () => {
  const { s, r } = await train('argos-not-a-rule');
  const [c] = candidates(r);
  assert.match(c!.error ?? '', /LlmOutputError/);
  assert.equal(c!.repairs.length, 1);
  assert.match(c!.repairs[0]!.errors, /not a rule in the Panoptes rule language/);
  assert.equal(c!.outcome, 'accepted', c!.reason);
  const repair = s.requests.find((q) => q.agent === 'argos-repair')!;
  assert.match(repair.lastUser ?? "", /def detect\(window\)/);
  // The second detection step (the alternative of asking detection again) is the one left.
  assert.deepEqual(s.unusedSteps(), [1]);
  assert.equal(r.report.usage.agents['argos-detection']!.failedCalls, 1);
});

test('429 then success: the client retries after Retry-After and training goes on', async () => {
  const { s, r } = await train('argos-429-then-success');
  assert.deepEqual(s.unusedSteps(), []);
  assert.equal(r.report.usage.agents['argos-detection']!.retries, 1);
  assert.equal(candidates(r)[0]!.outcome, 'accepted');
  assert.equal(s.requests.filter((q) => q.agent === 'argos-detection').length, 2);
});

test('timeout then success: the retried call answers an FP rule that is scored against the base alarms', async () => {
  const { s, r } = await train('argos-timeout-then-success', {}, { config: { timeoutMs: 200 } }, 'false-alarms');
  assert.deepEqual(s.unusedSteps(), []);
  const [c] = candidates(r);
  assert.equal(c!.kind, 'FP');
  assert.ok(c!.fit, 'scored on the fit split');
  assert.equal(r.report.usage.agents['argos-detection']!.retries, 1);
});

test('timeout on every attempt: the candidate is recorded as an error and nothing is published', async () => {
  const { s, r } = await train('argos-timeout', { iterations: 1 }, { config: { timeoutMs: 100, maxRetries: 2 } });
  const [c] = candidates(r);
  assert.equal(c!.outcome, 'error');
  assert.match(c!.reason, /gave up after 3 attempts/);
  assert.equal(s.requests.length, 3);
  assert.deepEqual(r.published, []);
  assert.equal(r.report.validation.reason, 'no rule was kept');
  assert.equal(r.report.usage.agents['argos-detection']!.failedCalls, 1);
});

test('a rule that lowers F1 is rejected (review reverts), the next candidate is kept', async () => {
  // The base already finds most spikes, so an always-true rule drowns it in false alarms.
  const { s, r } = await train('argos-f1-drop', { candidates: 2 }, {}, 'partial');
  assert.deepEqual(s.unusedSteps(), []);
  const [bad, good] = candidates(r);
  assert.equal(bad!.expr, 'value >= min(1h)');
  assert.ok(bad!.fit!.deltaF1 < 0, `F1 delta ${bad!.fit!.deltaF1}`);
  assert.equal(bad!.outcome, 'rejected');
  assert.match(bad!.reason, /lowers fit event F1/);
  assert.equal(bad!.review?.decision, 'revert');
  assert.equal(good!.outcome, 'accepted', good!.reason);
  assert.deepEqual(r.trained.map((x) => x.canonical), ['value > mean(1d) + 4 * std(1d)']);
});

test('budget: a call that would not fit the token budget is not sent and training stops', async () => {
  const { s, r } = await train('argos-good-rule', { iterations: 3 }, { config: { budget: { maxTokens: 500, prices: {} } } });
  assert.equal(s.requests.length, 0, 'nothing was sent');
  assert.match(r.report.stoppedBecause, /^budget: /);
  assert.equal(r.report.iterations.length, 1);
  assert.deepEqual(r.published, []);
});

test('review may revise a threshold: the revised rule is scored and kept in place of the candidate', async () => {
  const s = await startReplayServer({
    name: 'argos-review-revise',
    steps: [
      { match: { agent: 'argos-detection' }, reply: { json: { kind: 'FN', expr: 'value > mean(1d) + 0.5 * std(1d)', description: 'above the daily mean', rationale: 'spikes' } } },
      { match: { agent: 'argos-review' }, reply: { json: { decision: 'revise', expr: 'value > mean(1d) + 4 * std(1d)', reason: 'too many false alarms at 0.5 std' } } },
    ],
  });
  servers.push(s);
  const llm = replayClient(s, { registry: new Registry() });
  const r = await trainSeries(spiky(), fromClient(llm), { iterations: 1, candidates: 1, patience: 1, rangeRules: 'off' });
  assert.deepEqual(s.unusedSteps(), []);
  const [c] = candidates(r);
  assert.equal(c!.review?.decision, 'revise');
  assert.equal(c!.source, 'review');
  assert.equal(c!.expr, 'value > mean(1d) + 4 * std(1d)');
  assert.equal(c!.outcome, 'accepted', c!.reason);
  assert.deepEqual(r.trained.map((x) => x.canonical), ['value > mean(1d) + 4 * std(1d)']);
});
