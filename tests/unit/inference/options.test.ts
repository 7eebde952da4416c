import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../pipelines/inference/../core/errors.ts';
import { validatePoolOptions } from '../../../pipelines/inference/options.ts';

test('reports every bad option with its key', () => {
  assert.throws(
    () => validatePoolOptions({ workers: 0, policy: 'lifo' as 'fifo', deadlineBufferMs: -1 }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.issues.map((i) => i.path), ['workers', 'deadlineBufferMs', 'policy']);
      assert.match(e.message, /workers: expected a positive integer, got 0/);
      return true;
    },
  );
  assert.equal(validatePoolOptions({}).policy, 'clockwork');
});
