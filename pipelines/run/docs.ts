/**
 * The stage option tables of pipelines/run/README.md, generated from the specs the stages' own
 * commands read (spec.ts's STAGE_SPECS), so the pipeline file's reference cannot drift from them:
 * `node --import tsx pipelines/run/docs.ts` rewrites them, and tests/unit/run/readme.test.ts fails
 * when they are stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { replaceSection } from '../core/docs.ts';
import { STAGE_NAMES, STAGE_SPECS } from './spec.ts';

export const README = join(dirname(fileURLToPath(import.meta.url)), 'README.md');

export function stagesMarkdown(): string {
  const out: string[] = [];
  for (const name of STAGE_NAMES) {
    const e = STAGE_SPECS[name];
    out.push(`#### \`stages.${name}\``, '', `${e.spec.summary.replace(/\.?$/, '.')} The options of \`panoptes ${e.command}\`, under their config names (the flag column is the command's).`, '', e.spec.markdown(), '');
  }
  return out.join('\n').trimEnd();
}

export function renderReadme(text: string): string {
  return replaceSection(text, 'stages', stagesMarkdown());
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(README, renderReadme(readFileSync(README, 'utf8')));
  console.log(`${README}: stage option tables rewritten`);
}
