/**
 * Generates the README's command reference and configuration table from the declarations the
 * code runs on (every CliCommand's options, CONFIG_SPEC), so the README cannot drift from them:
 * `npm run docs` rewrites the marked sections, and a unit test fails when they are stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CliCommand } from './cli-types.ts';
import { commandOptions, GLOBAL_OPTIONS, loadCommands } from './cli.ts';
import { CONFIG_SPEC } from './config.ts';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function commandsMarkdown(commands: CliCommand[]): string {
  const out: string[] = [];
  for (const c of commands) {
    out.push(`#### \`panoptes ${c.name}${c.usage ? ` ${c.usage}` : ''}\``, '', cell(c.summary.endsWith('.') ? c.summary : `${c.summary}.`), '');
    const options = commandOptions(c);
    if (options.length > 0) {
      out.push('| option | description | default |', '|---|---|---|');
      for (const o of options) {
        const flag = `--${o.name}${o.type === 'boolean' ? '' : ` ${o.placeholder ?? (o.type === 'number' ? 'N' : 'VALUE')}`}`;
        const def = o.required ? '(required)' : o.default === undefined ? '' : Array.isArray(o.default) ? o.default.join(', ') : String(o.default);
        out.push(`| \`${flag}\` | ${cell(o.description)} | ${cell(def)} |`);
      }
      out.push('');
    }
  }
  out.push(`Every command also takes ${GLOBAL_OPTIONS.map((o) => `\`--${o.name}\``).join(', ')}.`);
  return out.join('\n');
}

export function configMarkdown(): string {
  const rows = CONFIG_SPEC.map((s) => `| \`${s.key}\` | \`${s.env}\` | ${s.kind === 'enum' ? s.values!.map((v) => `\`${v}\``).join(', ') : s.kind === 'int-or-auto' ? '`auto`, int' : s.kind} | ${cell(s.doc)} |`);
  return ['| key (file) | environment | type | meaning and default |', '|---|---|---|---|', ...rows].join('\n');
}

export function replaceSection(text: string, name: string, body: string): string {
  const start = `<!-- generated:${name} -->`;
  const end = `<!-- /generated:${name} -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`README has no ${start} … ${end} section`);
  return `${text.slice(0, i + start.length)}\n${body}\n${text.slice(j)}`;
}

export async function renderReadme(readme: string): Promise<string> {
  const commands = await loadCommands();
  return replaceSection(replaceSection(readme, 'commands', commandsMarkdown(commands)), 'config', configMarkdown());
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\/pipelines\//, 'pipelines/'))) {
  const file = join(process.cwd(), 'README.md');
  const next = await renderReadme(readFileSync(file, 'utf8'));
  writeFileSync(file, next);
  console.log('README.md: generated sections rewritten');
}
