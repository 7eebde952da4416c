import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commands } from '../../../pipelines/llm/cli.ts';
import type { CliIo, ParsedArgs } from '../../../pipelines/core/cli-types.ts';
import { startReplayServer } from '../../../pipelines/llm/replay/server.ts';
import { InputError, UsageError } from '../../../pipelines/core/errors.ts';
import { join } from 'node:path';

function cmd(name: string) {
  const c = commands.find((x) => x.name === name);
  assert.ok(c, name);
  return c;
}

function io(json: boolean, signal = new AbortController().signal) {
  const out: string[] = [];
  const err: string[] = [];
  const value: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), json, signal };
  return { out, err, io: value };
}

const args = (positionals: string[], options: ParsedArgs['options'] = {}): ParsedArgs => ({ positionals, options });

test('llm prompt renders a template; a missing variable is named', async () => {
  const o = io(true);
  const vars = { kind: 'FN', expr: 'value > mean(1h', errors: "1:15: expected ')'", intent: 'spikes', attempt: '1' };
  const code = await cmd('llm prompt').run(args(['argos-repair'], { var: Object.entries(vars).map(([k, v]) => `${k}=${v}`) }), o.io);
  assert.equal(code, 0);
  const msgs = o.out.map((l) => JSON.parse(l));
  assert.deepEqual(msgs.map((m) => [m.prompt, m.role]), [['argos-repair@v1', 'system'], ['argos-repair@v1', 'user']]);
  assert.match(msgs[1].content, /value > mean\(1h\n/);
  await assert.rejects(cmd('llm prompt').run(args(['argos-repair'], { var: ['kind=FN'] }), io(false).io), (e) => e instanceof InputError && /\{\{expr\}\}/.test(e.message));
  await assert.rejects(cmd('llm prompt').run(args(['argos-repair'], { var: ['novalue'] }), io(false).io), UsageError);
});

test('llm replay serves a fixture until the signal fires', async () => {
  const ac = new AbortController();
  const o = io(true, ac.signal);
  const fixture = join(import.meta.dirname, '../../helpers/llm-replay/fixtures/argos-good-rule.yaml');
  const running = cmd('llm replay').run(args([fixture], {}), o.io);
  while (o.out.length === 0) await new Promise((r) => setTimeout(r, 10));
  const { url } = JSON.parse(o.out[0]!) as { url: string };
  const r = await fetch(`${url}/chat/completions`, {
    method: 'POST',
    headers: { 'x-panoptes-agent': 'argos-detection' },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'go' }] }),
  });
  assert.equal(r.status, 200);
  ac.abort();
  assert.equal(await running, 0);
  assert.match(o.err.at(-1)!, /served 1 request\(s\); unused steps: 1/);
});

test('llm check calls the configured endpoint; offline is a usage error', async () => {
  const s = await startReplayServer({ steps: [{ match: { agent: 'check', model: 'tiny' }, reply: { content: 'OK', usage: { prompt_tokens: 9, completion_tokens: 1 } } }] });
  const saved = { ...process.env };
  try {
    Object.assign(process.env, { OPENAI_API_KEY: 'k', OPENAI_BASE_URL: s.url, PANOPTES_LLM_MODEL: 'tiny' });
    const o = io(true);
    assert.equal(await cmd('llm check').run(args([], { agent: 'check' }), o.io), 0);
    const out = JSON.parse(o.out[0]!);
    assert.equal(out.text, 'OK');
    assert.equal(out.model, 'tiny');
    assert.deepEqual(out.usage, { promptTokens: 9, completionTokens: 1, totalTokens: 10 });
    delete process.env.OPENAI_API_KEY;
    await assert.rejects(cmd('llm check').run(args([], { agent: 'check' }), io(false).io), /provider is offline/);
  } finally {
    process.env = saved;
    await s.close();
  }
});
