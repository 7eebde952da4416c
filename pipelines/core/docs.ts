/**
 * Generates the READMEs' command reference and configuration table from the declarations the
 * code runs on (every CliCommand's options, CONFIG_SPEC), so the READMEs cannot drift from them.
 * `npm run docs` rewrites the marked sections and a unit test fails when they are stale:
 * - each stage README (`<dir>/README.md`, dir = the directory of a COMMAND_MODULES entry) gets the
 *   full reference of its own commands between `<!-- generated:commands -->` markers;
 * - the root README gets only a command index (`generated:command-index`), one line per command
 *   linking to its stage README;
 * - pipelines/core/README.md gets the configuration table (`generated:config`);
 * - a command module's `readmeSections` (its option tables, from its spec.ts) go to its folder's
 *   README, between `<!-- generated:NAME -->` markers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CliCommand } from './cli-types.ts';
import { commandOptions, flagLabel, GLOBAL_OPTIONS, loadCommandModules, type CommandModule } from './cli.ts';
import { CONFIG_SPEC } from './config.ts';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The HTML anchor of a command's entry in its stage README: `cmd-rules-check`. */
export const commandAnchor = (c: CliCommand): string => `cmd-${c.name.trim().replace(/\s+/g, '-')}`;

const globalLine = () => `Every command also takes ${GLOBAL_OPTIONS.map((o) => `\`--${o.name}\``).join(', ')}.`;

export function commandsMarkdown(commands: CliCommand[]): string {
  const out: string[] = [];
  for (const c of commands) {
    out.push(`<a id="${commandAnchor(c)}"></a>`, '');
    out.push(`#### \`panoptes ${c.name}${c.usage ? ` ${c.usage}` : ''}\``, '', cell(c.summary.endsWith('.') ? c.summary : `${c.summary}.`), '');
    const options = commandOptions(c);
    if (options.length > 0) {
      out.push('| option | description | default |', '|---|---|---|');
      for (const o of options) {
        const flag = flagLabel(o);
        const def = o.required ? '(required)' : o.default === undefined ? '' : Array.isArray(o.default) ? o.default.join(', ') : String(o.default);
        out.push(`| \`${flag}\` | ${cell(o.description)} | ${cell(def)} |`);
      }
      out.push('');
    }
  }
  out.push(globalLine());
  return out.join('\n');
}

/** The root README's index: one line per command, linking to its entry in its stage README. */
export function commandIndexMarkdown(modules: CommandModule[]): string {
  const out: string[] = [];
  for (const m of modules) {
    for (const c of m.commands) {
      const summary = c.summary.endsWith('.') ? c.summary.slice(0, -1) : c.summary;
      out.push(`- [\`panoptes ${c.name}\`](${m.dir}/README.md#${commandAnchor(c)}): ${cell(summary)}`);
    }
  }
  out.push('', globalLine());
  return out.join('\n');
}

export function configMarkdown(): string {
  const rows = CONFIG_SPEC.map((s) => `| \`${s.key}\` | \`${s.env}\` | ${s.kind === 'enum' ? s.values!.map((v) => `\`${v}\``).join(', ') : s.kind === 'int-or-auto' ? '`auto`, int' : s.kind} | ${cell(s.doc)} |`);
  return ['| key (file) | environment | type | meaning and default |', '|---|---|---|---|', ...rows].join('\n');
}

export function replaceSection(text: string, name: string, body: string, file = 'README'): string {
  const start = `<!-- generated:${name} -->`;
  const end = `<!-- /generated:${name} -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`${file} has no ${start} … ${end} section`);
  return `${text.slice(0, i + start.length)}\n${body}\n${text.slice(j)}`;
}

/** The generated sections of each README, by path relative to the repository root. */
export async function generatedSections(): Promise<Map<string, { name: string; body: string }[]>> {
  const modules = await loadCommandModules();
  const files = new Map<string, { name: string; body: string }[]>();
  const add = (file: string, name: string, body: string) => files.set(file, [...(files.get(file) ?? []), { name, body }]);
  add('README.md', 'command-index', commandIndexMarkdown(modules));
  const byDir = new Map<string, CliCommand[]>();
  for (const m of modules) byDir.set(m.dir, [...(byDir.get(m.dir) ?? []), ...m.commands]);
  for (const [dir, commands] of byDir) add(`${dir}/README.md`, 'commands', commandsMarkdown(commands));
  for (const m of modules) for (const [name, render] of Object.entries(m.readmeSections)) add(`${m.dir}/README.md`, name, await render());
  add('pipelines/core/README.md', 'config', configMarkdown());
  return files;
}

/** Every README with generated sections, rendered: path → { current text, text with fresh sections }. */
export async function renderDocs(root: string): Promise<Map<string, { text: string; next: string }>> {
  const out = new Map<string, { text: string; next: string }>();
  for (const [file, sections] of await generatedSections()) {
    const text = readFileSync(join(root, file), 'utf8');
    const next = sections.reduce((t, s) => replaceSection(t, s.name, s.body, file), text);
    out.set(file, { text, next });
  }
  return out;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\/pipelines\//, 'pipelines/'))) {
  for (const [file, { text, next }] of await renderDocs(process.cwd())) {
    if (next === text) continue;
    writeFileSync(join(process.cwd(), file), next);
    console.log(`${file}: generated sections rewritten`);
  }
}
