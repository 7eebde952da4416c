/** `panoptes start`'s options (pipelines/start/spec.ts, through the stage's front door). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SERIES, START_PROBLEM, startSpec, startUsageProblems } from '../../../pipelines/start/index.ts';

test('start: defaults as before, every bad value reported with its flag', () => {
  const d = startSpec.defaults();
  assert.deepEqual(
    { problem: d.problem, transport: d.transport, out: d.out, series: d.series, rules: d.rules, base: d.base, chunk: d.chunk, show: d.show },
    { problem: START_PROBLEM, transport: undefined, out: 'runs', series: DEFAULT_SERIES, rules: 'pipelines/start/demo-rules.yaml', base: 'ensemble', chunk: 60, show: 8 },
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

test('start: an option the chosen mode would ignore is a usage problem naming it', () => {
  const parse = (options: Record<string, unknown>) => startUsageProblems(startSpec.fromArgs({ options: options as never, positionals: [] }));
  assert.deepEqual(parse({}), []);
  assert.deepEqual(parse({ nab: true, base: 'ewma', show: 3 }), []);
  assert.deepEqual(parse({ base: 'ewma', chunk: 10 }), ['--base applies with --nab', '--chunk applies with --nab']);
  assert.deepEqual(parse({ nab: true, problem: 'latency-search-detection', out: 'x' }), ['--problem applies to a lab problem, not to --nab', '--out applies to a lab problem, not to --nab']);
  // --transport applies to both (with --nab it overrides the configured transport).
  assert.deepEqual(parse({ nab: true, transport: 'kafka' }), []);
});
