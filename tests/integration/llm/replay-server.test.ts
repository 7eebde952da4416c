import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startReplayServer } from '../../../pipelines/llm/replay/server.ts';

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: r.status, headers: r.headers, json: (await r.json()) as Record<string, any> };
}

test('YAML fixture: steps matched in order by agent and substring, both paths, requests recorded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'replay-'));
  const file = join(dir, 'f.yaml');
  writeFileSync(
    file,
    [
      'name: demo',
      'steps:',
      '  - match: { agent: review, contains: "F1 dropped" }',
      '    reply: { content: "revert" }',
      '  - match: { agent: detect }',
      '    reply: { error: { status: 429, retryAfter: 3 } }',
      '  - match: { agent: detect }',
      '    reply: { json: { rule: "value > 1" }, usage: { prompt_tokens: 7, completion_tokens: 2 } }',
    ].join('\n'),
  );
  const s = await startReplayServer(file);
  try {
    const msgs = (u: string) => ({ model: 'm', messages: [{ role: 'user', content: u }] });
    const a = await post(`${s.url}/chat/completions`, msgs('first'), { 'x-panoptes-agent': 'detect' });
    assert.equal(a.status, 429);
    assert.equal(a.headers.get('retry-after'), '3');
    assert.equal(a.json.error.type, 'rate_limit_error');
    const b = await post(`http://127.0.0.1:${s.port}/chat/completions`, msgs('again'), { 'x-panoptes-agent': 'detect' });
    assert.equal(b.status, 200);
    assert.equal(b.json.choices[0].message.content, '{"rule":"value > 1"}');
    assert.deepEqual(b.json.usage, { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 });
    const c = await post(`${s.url}/chat/completions`, msgs('the F1 dropped by 0.1'), { 'x-panoptes-agent': 'review', 'x-panoptes-prompt': 'argos-review@v1' });
    assert.equal(c.json.choices[0].message.content, 'revert');
    assert.equal(c.json.usage.prompt_tokens, Math.ceil('the F1 dropped by 0.1'.length / 4));
    const d = await post(`${s.url}/chat/completions`, msgs('more'), { 'x-panoptes-agent': 'detect' });
    assert.equal(d.status, 404);
    assert.match(d.json.error.message, /no step left for agent=detect/);
    assert.deepEqual(
      s.requests.map((r) => [r.agent, r.step, r.status]),
      [['detect', 1, 429], ['detect', 2, 200], ['review', 0, 200], ['detect', null, 404]],
    );
    assert.equal(s.requests[2]!.prompt, 'argos-review@v1');
    assert.equal(s.requests[2]!.lastUser, 'the F1 dropped by 0.1');
    assert.deepEqual(s.unusedSteps(), []);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true });
  }
});

test('an endpoint without response_format support rejects it without using a step', async () => {
  const s = await startReplayServer({ responseFormat: false, steps: [{ reply: { content: 'x' } }] });
  try {
    const r = await post(`${s.url}/chat/completions`, { model: 'm', messages: [], response_format: { type: 'json_schema' } });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.param, 'response_format');
    assert.deepEqual(s.unusedSteps(), [0]);
  } finally {
    await s.close();
  }
});

test('close() ends hanging requests', async () => {
  const s = await startReplayServer({ steps: [{ reply: { hang: true } }] });
  const pending = fetch(`${s.url}/chat/completions`, { method: 'POST', body: '{"model":"m","messages":[]}' }).then(
    () => 'answered',
    () => 'dropped',
  );
  while (s.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
  await s.close();
  assert.equal(await pending, 'dropped');
});
