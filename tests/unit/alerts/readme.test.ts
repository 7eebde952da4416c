/**
 * The option table of connectors/alerts/README.md is generated from spec.ts; this fails when it is
 * stale. `PANOPTES_WRITE_DOCS=1` rewrites it instead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alertsSpec } from '../../../connectors/alerts/spec.ts';
import { replaceSection } from '../../../pipelines/core/docs.ts';
import { ROOT } from '../../helpers/infra.ts';

test('the alerts README lists the options as spec.ts declares them', () => {
  const file = join(ROOT, 'connectors', 'alerts', 'README.md');
  const text = readFileSync(file, 'utf8');
  const want = replaceSection(text, 'options', alertsSpec.markdown());
  if (process.env.PANOPTES_WRITE_DOCS === '1') writeFileSync(file, want);
  else assert.equal(text, want, 'stale option table: PANOPTES_WRITE_DOCS=1 bash tests/run.sh tests/unit/alerts/readme.test.ts');
});
