/**
 * Rewrites the generated option tables of pipelines/lab/README.md from the lab's spec
 * (`node --import tsx pipelines/lab/docs.ts`); a unit test fails when they are stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAB_LIST_SPEC, LAB_RUN_SPEC } from './spec.ts';

export const LAB_README = join(dirname(fileURLToPath(import.meta.url)), 'README.md');

function replaceSection(text: string, name: string, body: string): string {
  const start = `<!-- generated:${name} -->`;
  const end = `<!-- /generated:${name} -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`${LAB_README} has no ${start} … ${end} section`);
  return `${text.slice(0, i + start.length)}\n${body}\n${text.slice(j)}`;
}

export function renderLabReadme(text: string): string {
  return replaceSection(replaceSection(text, 'lab-run-options', LAB_RUN_SPEC.markdown()), 'lab-list-options', LAB_LIST_SPEC.markdown());
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\/pipelines\//, 'pipelines/'))) {
  writeFileSync(LAB_README, renderLabReadme(readFileSync(LAB_README, 'utf8')));
  process.stdout.write(`${LAB_README}: option tables rewritten\n`);
}
