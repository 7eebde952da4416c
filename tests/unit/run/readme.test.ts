/**
 * The stage option tables of pipelines/run/README.md are generated from the stages' specs; this
 * fails when they are stale. `node --import tsx pipelines/run/docs.ts` rewrites them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { README, renderReadme } from '../../../pipelines/run/docs.ts';

test('the run README lists every stage with the options its spec declares', () => {
  const text = readFileSync(README, 'utf8');
  assert.equal(text, renderReadme(text), 'stale stage tables: node --import tsx pipelines/run/docs.ts');
});
