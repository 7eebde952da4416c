/**
 * The option table of connectors/remote-write/README.md, generated from spec.ts so the README
 * cannot drift from the options the code runs on: `node --import tsx connectors/remote-write/docs.ts`
 * rewrites it, and tests/unit/remote-write/readme.test.ts fails when it is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { replaceSection } from '../../pipelines/core/docs.ts';
import { ingestSpec } from './spec.ts';

export const README = join(dirname(fileURLToPath(import.meta.url)), 'README.md');

export function renderReadme(text: string): string {
  return replaceSection(text, 'ingest-options', ingestSpec.markdown());
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(README, renderReadme(readFileSync(README, 'utf8')));
  console.log(`${README}: option table rewritten`);
}
