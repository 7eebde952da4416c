import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderReadme } from '../../../pipelines/core/docs.ts';
import { ROOT } from '../../helpers/infra.ts';

test('the README documents every command option and config key as the code declares them (npm run docs)', async () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  assert.equal(await renderReadme(readme), readme, 'README is stale: run `npm run docs`');
  assert.match(readme, /npm start/);
  assert.match(readme, /npm test/);
});
