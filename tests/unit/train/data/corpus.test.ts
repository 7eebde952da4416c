import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { datasetsRoot, loadCorpus } from '../../../../pipelines/train/data/corpus.ts';

async function fixture(labels: unknown, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'panoptes-corpus-'));
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(join(dir, 'data', rel, '..'), { recursive: true });
    await writeFile(join(dir, 'data', rel), text);
  }
  await writeFile(join(dir, 'labels.json'), JSON.stringify(labels));
  return dir;
}

const csv = 'timestamp,value\n2014-01-01 00:00:00,1\n2014-01-01 00:05:00,2\n2014-01-01 00:10:00,3\n';

test('loads every csv under the folder keyed by relative path', async () => {
  const dir = await fixture({ 'a/x.csv': [['2014-01-01 00:05:00', '2014-01-01 00:10:00']], 'b/y.csv': [] }, { 'a/x.csv': csv, 'b/y.csv': csv });
  try {
    const c = await loadCorpus(join(dir, 'data'), join(dir, 'labels.json'));
    assert.deepEqual(c.map((s) => [s.name, s.windows]), [['a/x.csv', [{ start: 1, end: 2 }]], ['b/y.csv', []]]);
    const only = await loadCorpus(join(dir, 'data'), join(dir, 'labels.json'), { filter: ['y.csv'] });
    assert.deepEqual(only.map((s) => s.name), ['b/y.csv']);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('unlabelled series and orphan labels are errors unless allowed', async () => {
  const dir = await fixture({ 'a/x.csv': [], 'a/gone.csv': [] }, { 'a/x.csv': csv, 'a/new.csv': csv });
  try {
    await assert.rejects(loadCorpus(join(dir, 'data'), join(dir, 'labels.json')), { code: 'PANOPTES_INPUT', message: /no labels for series "a\/new\.csv"/ });
    await assert.rejects(loadCorpus(join(dir, 'data'), join(dir, 'labels.json'), { missingLabels: 'unlabelled' }), { message: /labels name series not found.*a\/gone\.csv/ });
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('a bad row deep in a file names the file and line', async () => {
  const dir = await fixture({ 'a/x.csv': [] }, { 'a/x.csv': csv + '2014-01-01 00:15:00,oops\n' });
  try {
    await assert.rejects(loadCorpus(join(dir, 'data'), join(dir, 'labels.json')), { message: /a\/x\.csv:5: bad value 'oops'/ });
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('missing folder and label file are not-found errors', async () => {
  await assert.rejects(loadCorpus('/nonexistent/data', '/nonexistent/labels.json'), { code: 'PANOPTES_NOT_FOUND' });
});

test('datasets root honours PANOPTES_DATASETS and defaults beside the repo', () => {
  assert.equal(datasetsRoot({ PANOPTES_DATASETS: '/x/y' }), '/x/y');
  assert.match(datasetsRoot({}), /\/shared\/datasets$/);
});
