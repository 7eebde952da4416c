// The Atlas LLM judge through the real `openai` client against pipelines/llm's replay server
// (127.0.0.1, no external network).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { startReplayServer } from '../../../pipelines/llm/replay/server.ts';
import { replayClient } from '../../../pipelines/llm/replay/client.ts';
import { LlmJudge, optionOrder, optionText } from '../../../pipelines/rca/synth/llm-judge.ts';
import type { PairQuestion } from '../../../pipelines/rca/synth/judge.ts';
import { buildCatalog, parseCatalogFile } from '../../../pipelines/rca/catalog.ts';
import { synthesizeGraph } from '../../../pipelines/rca/synth/synthesize.ts';
import { LlmError } from '../../../pipelines/core/errors.ts';

const q: PairQuestion = {
  interaction: 'service→service',
  a: { component: 'web', kind: 'service', type: 'frontend', metric: 'latency', metricDoc: 'page time', componentDoc: 'the web site' },
  b: { component: 'search', kind: 'service', type: 'api', metric: 'latency', metricDoc: 'search time', componentDoc: 'the search API' },
  relation: 'searches pets',
};

/** Steps that answer with whichever letter the shuffled prompt gave the option `text`. */
function answerSteps(text: string, reason: string) {
  return ['A', 'B', 'C'].map((l) => ({ match: { agent: 'atlas-causal-pair', contains: `(${l}) ${text}` }, times: 0, reply: { json: { answer: l, reason } } }));
}

test('repeats the question with shuffled options and maps each letter back to its option', async () => {
  const truth = optionText(q, 'B_CAUSES_A');
  const server = await startReplayServer({ name: 'atlas-consistent', steps: answerSteps(truth, 'the callee latency adds to the caller') });
  try {
    const judge = new LlmJudge(replayClient(server, { registry: new Registry() }), { repeats: 3, seed: 7 });
    const a = await judge.judge(q);
    assert.equal(a.verdict, 'B_CAUSES_A');
    assert.equal(a.confidence, 1);
    assert.match(a.reason, /^LLM 3\/3 votes: the callee latency adds/);
    assert.equal(server.requests.length, 3);
    // The option order really changes between repeats (so a letter bias cannot pass for a verdict).
    const orders = [0, 1, 2].map((r) => optionOrder(q, r, 7).join(','));
    assert.ok(new Set(orders).size > 1, `orders ${orders.join(' | ')}`);
    const lettersUsed = new Set(server.requests.map((r) => r.step));
    assert.ok(lettersUsed.size > 1);
    assert.deepEqual(new Set(server.requests.map((r) => r.prompt)), new Set(['atlas-causal-pair@v1']));
  } finally {
    await server.close();
  }
});

test('a malformed answer and a refusal abstain; the majority of the rest decides', async () => {
  const truth = optionText(q, 'B_CAUSES_A');
  const server = await startReplayServer({
    name: 'atlas-bad-answers',
    steps: [
      { match: { agent: 'atlas-causal-pair' }, times: 1, reply: { content: 'Well, probably B? hard to say' } },
      { match: { agent: 'atlas-causal-pair' }, times: 1, reply: { refusal: "I can't help with that." } },
      ...answerSteps(truth, 'latency propagates to callers'),
    ],
  });
  try {
    const judge = new LlmJudge(replayClient(server, { registry: new Registry() }), { repeats: 3 });
    const a = await judge.judge(q);
    assert.equal(a.verdict, 'B_CAUSES_A');
    assert.equal(Math.round(a.confidence * 100), 33);
    assert.equal(judge.failures.length, 2);
    assert.deepEqual(server.unusedSteps(), []);
  } finally {
    await server.close();
  }
});

test('a question fails when every repeat fails (here: 500s until retries are exhausted)', async () => {
  const server = await startReplayServer({ name: 'atlas-down', steps: [{ times: 0, reply: { error: { status: 500 } } }] });
  try {
    const judge = new LlmJudge(replayClient(server, { registry: new Registry(), retry: { retries: 1 } }), { repeats: 2 });
    await assert.rejects(judge.judge(q), (e: unknown) => e instanceof LlmError && /every one of 2 answers failed/.test(e.message));
  } finally {
    await server.close();
  }
});

test('graph synthesis with the LLM judge: one agent per component, answers cached by component type', async () => {
  const catalog = buildCatalog(
    parseCatalogFile(
      [
        '# web', '- kind: service', '- type: frontend', 'The web site.', '## Calls', '- `db1` — reads', '- `db2` — reads',
        '# db1', '- kind: resource', '- type: table', 'A table.',
        '# db2', '- kind: resource', '- type: table', 'Another table.',
      ].join('\n'),
      'inline',
    ),
  );
  const observed = new Set(['web:latency', 'db1:latency', 'db2:latency']);
  // Any latency pair across a call: the callee causes the caller; everything else: no influence.
  const steps = [
    ...['A', 'B', 'C'].map((l) => ({ match: { agent: 'atlas-causal-pair', contains: `(${l}) db1 latency directly causes web latency` }, times: 0, reply: { json: { answer: l, reason: 'table latency adds to the page' } } })),
    ...['A', 'B', 'C'].map((l) => ({ match: { agent: 'atlas-causal-pair', contains: `(${l}) neither directly influences the other` }, times: 0, reply: { json: { answer: l } } })),
  ];
  const server = await startReplayServer({ name: 'atlas-synth', steps });
  try {
    const judge = new LlmJudge(replayClient(server, { registry: new Registry() }), { repeats: 3 });
    const { graph, report } = await synthesizeGraph({ name: 'tiny', catalog, observed, judge, typicalMetrics: { service: ['latency'], resource: ['latency'], request: ['latency'] } });
    assert.equal(report.agents, 3);
    // web→db1 and web→db2 ask the same typed question: the second is a cache hit.
    assert.equal(report.cacheHits, 1);
    assert.equal(server.requests.length, 3 * (report.questions - report.cacheHits));
    const edges = graph.edges.map((e) => `${e.from}>${e.to}`).sort();
    assert.deepEqual(edges, ['db1:latency>web:latency', 'db2:latency>web:latency']);
    assert.equal(graph.source, 'llm:openai');
  } finally {
    await server.close();
  }
});
