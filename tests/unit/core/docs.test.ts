/**
 * The generated sections of the READMEs (`npm run docs`, pipelines/core/docs.ts): every one is
 * fresh, each stage README carries the reference of its own commands (keyed by the directory of its
 * COMMAND_MODULES entry), the root README only the index, and the configuration table lives in
 * pipelines/core/README.md.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCommandModules } from '../../../pipelines/core/cli.ts';
import { commandAnchor, generatedSections, renderDocs } from '../../../pipelines/core/docs.ts';
import { CONFIG_SPEC } from '../../../pipelines/core/config.ts';
import { ROOT } from '../../helpers/infra.ts';

const read = (rel: string) => readFileSync(join(ROOT, rel), 'utf8');
const section = (text: string, name: string): string | null => {
  const i = text.indexOf(`<!-- generated:${name} -->`);
  const j = text.indexOf(`<!-- /generated:${name} -->`);
  return i < 0 || j < i ? null : text.slice(i, j);
};

test('every generated README section is fresh (npm run docs)', async () => {
  const docs = await renderDocs(ROOT);
  for (const [file, { text, next }] of docs) assert.equal(next, text, `${file} is stale: run \`npm run docs\``);
  const root = read('README.md');
  assert.match(root, /npm start/);
  assert.match(root, /npm test/);
});

test('each stage README holds its own commands\' reference; the root README only the index; config in core', async () => {
  const modules = await loadCommandModules();
  assert.ok(modules.length >= 10, 'the command modules load');
  const root = read('README.md');
  const index = section(root, 'command-index');
  assert.ok(index, 'the root README has the command index');
  assert.equal(section(root, 'commands'), null, 'no command reference in the root README');
  assert.equal(section(root, 'config'), null, 'no configuration table in the root README');
  assert.doesNotMatch(root, /^#### `panoptes /m, 'no per-command headings in the root README');
  let commands = 0;
  for (const m of modules) {
    const stage = read(`${m.dir}/README.md`);
    const ref = section(stage, 'commands');
    assert.ok(ref, `${m.dir}/README.md has a generated commands section`);
    for (const c of m.commands) {
      commands++;
      assert.ok(ref.includes(`<a id="${commandAnchor(c)}"></a>`), `${m.dir}/README.md: anchor of ${c.name}`);
      assert.ok(ref.includes(`#### \`panoptes ${c.name}${c.usage ? ` ${c.usage}` : ''}\``), `${m.dir}/README.md: reference of ${c.name}`);
      assert.equal(index.split('\n').filter((l) => l.startsWith(`- [\`panoptes ${c.name}\`](${m.dir}/README.md#${commandAnchor(c)})`)).length, 1, `one index line for ${c.name}`);
      // A command is documented in its own stage only.
      for (const other of modules.filter((o) => o.dir !== m.dir)) {
        assert.ok(!(section(read(`${other.dir}/README.md`), 'commands') ?? '').includes(`id="${commandAnchor(c)}"`), `${c.name} is not in ${other.dir}/README.md`);
      }
    }
  }
  assert.equal(index.split('\n').filter((l) => l.startsWith('- [`panoptes ')).length, commands, 'the index has one line per command, no more');
  const config = section(read('pipelines/core/README.md'), 'config');
  assert.ok(config, 'pipelines/core/README.md has the configuration table');
  for (const s of CONFIG_SPEC) assert.ok(config.includes(`| \`${s.key}\` | \`${s.env}\` |`), s.key);
});

test('a stage\'s option tables are generated from its spec into its own README', async () => {
  const sections = await generatedSections();
  const names = (file: string) => (sections.get(file) ?? []).map((s) => s.name);
  for (const [file, name] of [
    ['pipelines/detect/README.md', 'options'], ['connectors/alerts/README.md', 'options'], ['pipelines/dashboard/README.md', 'options'],
    ['connectors/kafka-connect/README.md', 'options'], ['connectors/remote-write/README.md', 'ingest-options'],
    ['pipelines/lab/README.md', 'lab-run-options'], ['pipelines/lab/README.md', 'lab-list-options'], ['pipelines/run/README.md', 'stages'],
  ] as const) assert.ok(names(file).includes(name), `${file}: ${name}`);
  const detect = sections.get('pipelines/detect/README.md')!.find((s) => s.name === 'options')!.body;
  assert.match(detect, /threshold/, 'the detect table lists --threshold');
});
