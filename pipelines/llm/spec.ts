/**
 * The llm commands' options, declared once (core/spec.ts): `llm replay`, `llm prompt` and
 * `llm check` take their CLI options, typed values, validation and README tables from here. The
 * client's own settings (endpoint, key, models, budgets) are environment and config, in config.ts.
 */
import { defineSpec, f, type Options } from '../core/spec.ts';

export const llmReplaySpec = defineSpec('llm replay', { quiet: f.boolean({ doc: 'Do not print each request as it is answered.' }) }, { summary: 'Serve a replay fixture as a chat-completions endpoint on 127.0.0.1 until interrupted.' });

export const llmPromptSpec = defineSpec(
  'llm prompt',
  {
    version: f.int({ doc: 'Template version. Default: the highest present.', min: 1, placeholder: 'N' }),
    var: f.list({ doc: 'A variable (values cannot contain commas; use --vars for those).', placeholder: 'NAME=VALUE', pattern: { re: /^[^=]+=[\s\S]*$/, says: 'NAME=VALUE' } }),
    vars: f.string({ doc: 'YAML or JSON mapping of variables.', placeholder: 'FILE', nonEmpty: true }),
  },
  { summary: 'Render a versioned prompt template with variables and print its messages.' },
);

export const llmCheckSpec = defineSpec(
  'llm check',
  { agent: f.string({ doc: 'Agent name (selects `PANOPTES_LLM_MODEL_<AGENT>`).', default: 'check', nonEmpty: true }) },
  { summary: 'Make one small call through the configured LLM provider and report model, tokens and latency.' },
);

export type LlmPromptOptions = Options<typeof llmPromptSpec.fields>;
