/** `panoptes start`'s options (pipelines/start/spec.ts, through the stage's front door). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SERIES, START_PROBLEM, startSpec } from '../../../pipelines/start/index.ts';

test('start: defaults as before, every bad value reported with its flag', () => {
  const d = startSpec.defaults();
  assert.deepEqual(
    { problem: d.problem, transport: d.transport, out: d.out, series: d.series, rules: d.rules, base: d.base, chunk: d.chunk, show: d.show },
    { problem: START_PROBLEM, transport: 'embedded', out: 'runs', series: DEFAULT_SERIES, rules: 'pipelines/start/demo-rules.yaml', base: 'ensemble', chunk: 60, show: 8 },
  );
  assert.equal(startSpec.fromArgs({ options: { nab: true, base: 'none' }, positionals: [] }).base, 'none');
  assert.throws(
    () => startSpec.fromArgs({ options: { transport: 'foo', base: 'htm', chunk: 0, show: -1 }, positionals: [] }),
    (e: Error) => {
      assert.deepEqual(e.message.split('\n').sort(), [
        '--base: expected one of ensemble, ewma, robust-z, none, got "htm"',
        '--chunk: expected an integer from 1 to 100000, got 0',
        '--show: expected an integer ≥ 0, got -1',
        '--transport: expected one of embedded, kafka, got "foo"',
      ]);
      return true;
    },
  );
});
