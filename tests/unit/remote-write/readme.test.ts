import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { README, renderReadme } from '../../../connectors/remote-write/docs.ts';
import { ingestSpec } from '../../../connectors/remote-write/spec.ts';
import { rejectReasons } from '../../../connectors/remote-write/wire/reject.ts';

test('the README lists every option as spec.ts declares it (node --import tsx connectors/remote-write/docs.ts)', () => {
  const text = readFileSync(README, 'utf8');
  assert.equal(renderReadme(text), text, 'README option table is stale: run node --import tsx connectors/remote-write/docs.ts');
  for (const k of Object.keys(ingestSpec.fields)) assert.ok(text.includes(`| \`${k}\` |`), k);
});

test('the README explains every reason a request can be refused with', () => {
  const text = readFileSync(README, 'utf8');
  for (const r of rejectReasons) assert.ok(text.includes(`\`${r}\``), r);
});
