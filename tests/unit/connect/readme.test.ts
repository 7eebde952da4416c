/**
 * The option table of connectors/kafka-connect/README.md is generated from spec.ts; this fails
 * when it is stale. `PANOPTES_WRITE_DOCS=1` rewrites it instead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectSpec } from '../../../connectors/kafka-connect/index.ts';
import { replaceSection } from '../../../pipelines/core/docs.ts';
import { ROOT } from '../../helpers/infra.ts';

test('the kafka-connect README lists the options as spec.ts declares them', () => {
  const file = join(ROOT, 'connectors', 'kafka-connect', 'README.md');
  const text = readFileSync(file, 'utf8');
  const want = replaceSection(text, 'options', connectSpec.markdown());
  if (process.env.PANOPTES_WRITE_DOCS === '1') writeFileSync(file, want);
  else assert.equal(text, want, 'stale option table: PANOPTES_WRITE_DOCS=1 bash tests/run.sh tests/unit/connect/readme.test.ts');
});

test('bad connect options are refused with the flag named, before any request', () => {
  assert.throws(() => connectSpec.fromArgs({ options: { 'wait-ms': -1, 'jdbc-url': 'postgres://x' }, positionals: [] }), /--jdbc-url: expected a JDBC URL[\s\S]*--wait-ms: expected an integer from 0 to 3600000, got -1/);
});
