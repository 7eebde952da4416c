/**
 * LLM commands: `llm replay` (serve a replay fixture for manual runs against the pipeline),
 * `llm prompt` (render a versioned template, to read exactly what an agent will send) and
 * `llm check` (one tiny call through the configured provider: key, URL, model, latency).
 */

import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../core/errors.ts';
import type { CliCommand, ParsedArgs, ReadmeSections } from '../core/cli-types.ts';
import { loadPrompt, renderPrompt } from './prompts.ts';
import type { PromptVars } from './prompts.ts';
import { startReplayServer } from './replay/server.ts';
import { llmCheckSpec, llmPromptSpec, llmReplaySpec } from './spec.ts';

function positional(args: ParsedArgs, what: string): string {
  const v = args.positionals[0];
  if (v === undefined) throw new UsageError(`missing ${what}`);
  return v;
}

export function parseVars(pairs: string[] | undefined, file: string | undefined): PromptVars {
  const vars: PromptVars = {};
  if (file !== undefined) {
    const raw: unknown = file.endsWith('.json') ? JSON.parse(readFileSync(file, 'utf8')) : parseYaml(readFileSync(file, 'utf8'));
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UsageError(`--vars ${file}: expected a mapping of variable names to values`);
    Object.assign(vars, raw);
  }
  for (const p of pairs ?? []) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`--var: expected NAME=VALUE, got "${p}"`);
    vars[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return vars;
}

export const commands: CliCommand[] = [
  {
    name: 'llm replay',
    summary: llmReplaySpec.summary,
    usage: 'FIXTURE',
    options: llmReplaySpec.cliOptions(),
    help: 'Point OPENAI_BASE_URL at the printed URL (and set OPENAI_API_KEY to any value). Fixture format: pipelines/llm/README.md.',
    async run(args, io) {
      const o = llmReplaySpec.fromArgs(args);
      const server = await startReplayServer(positional(args, 'FIXTURE (a .yaml or .json replay fixture)'));
      io.out(io.json ? JSON.stringify({ url: server.url, port: server.port, steps: server.fixture.steps.length }) : `replaying '${server.fixture.name}' at ${server.url}`);
      let seen = 0;
      const timer = setInterval(() => {
        for (; seen < server.requests.length; seen++) {
          const r = server.requests[seen]!;
          if (!o.quiet) io.err(`request ${seen + 1}: agent=${r.agent ?? '-'} model=${r.model ?? '-'} step=${r.step ?? '-'} status=${r.status || 'hang'}`);
        }
      }, 200);
      await new Promise<void>((resolve) => {
        if (io.signal.aborted) resolve();
        else io.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      clearInterval(timer);
      await server.close();
      io.err(`served ${server.requests.length} request(s); unused steps: ${server.unusedSteps().join(', ') || 'none'}`);
      return 0;
    },
  },
  {
    name: 'llm prompt',
    summary: llmPromptSpec.summary,
    usage: 'NAME [--version N] [--var NAME=VALUE ...] [--vars FILE]',
    options: llmPromptSpec.cliOptions(),
    async run(args, io) {
      const o = llmPromptSpec.fromArgs(args);
      const name = positional(args, 'NAME (a template in pipelines/llm/prompts, e.g. argos-detection)');
      const tpl = loadPrompt(name, o.version);
      const messages = renderPrompt(tpl, parseVars(o.var, o.vars));
      for (const m of messages) io.out(io.json ? JSON.stringify({ prompt: `${tpl.name}@v${tpl.version}`, ...m }) : `--- ${m.role} (${tpl.name}.v${tpl.version}) ---\n${m.content}`);
      return 0;
    },
  },
  {
    name: 'llm check',
    summary: llmCheckSpec.summary,
    options: llmCheckSpec.cliOptions(),
    help: 'Uses OPENAI_BASE_URL, OPENAI_API_KEY and PANOPTES_LLM_MODEL[_<AGENT>]. Without a key the provider is offline and there is nothing to check.',
    async run(args, io) {
      const { agent } = llmCheckSpec.fromArgs(args);
      // Imported here: the openai package takes over a second to load, and --help needs none of it.
      const { createLlmClient } = await import('./client.ts');
      const llm = createLlmClient({ registry: new Registry() });
      if (llm.name === 'offline') {
        throw new UsageError('the LLM provider is offline (OPENAI_API_KEY is unset): set OPENAI_API_KEY, OPENAI_BASE_URL and PANOPTES_LLM_MODEL to check an endpoint');
      }
      const t0 = performance.now();
      const r = await llm.chat(agent, [{ role: 'user', content: 'Reply with the single word OK.' }], { maxTokens: 5, ...(io.signal ? { signal: io.signal } : {}) });
      const ms = Math.round(performance.now() - t0);
      const out = { provider: llm.name, endpoint: llm.config.baseURL ?? null, model: r.model, attempts: r.attempts, latencyMs: ms, usage: r.usage, text: r.text };
      io.out(io.json ? JSON.stringify(out) : `ok: ${r.model} answered ${JSON.stringify(r.text)} in ${ms} ms (${r.attempts} attempt(s), ${r.usage.totalTokens} tokens)`);
      return 0;
    },
  },
];

export const readmeSections: ReadmeSections = {
  'llm-replay-options': () => llmReplaySpec.markdown(),
  'llm-prompt-options': () => llmPromptSpec.markdown(),
  'llm-check-options': () => llmCheckSpec.markdown(),
};
