import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { serveSpec } from '../../../pipelines/inference/spec.ts';
import { defaultPoolOptions } from '../../../pipelines/inference/options.ts';

test("the README's serve option table is the one spec.ts generates", () => {
  const readme = readFileSync(new URL('../../../pipelines/inference/README.md', import.meta.url), 'utf8');
  const m = /<!-- serve-options:start -->\n([\s\S]*?)\n<!-- serve-options:end -->/.exec(readme);
  assert.ok(m, 'README has the serve-options markers');
  assert.equal(m[1], serveSpec.markdown(), 'regenerate the table with serveSpec.markdown()');
});

test('serve options: defaults shared with the pool, every bad value reported with its flag', () => {
  assert.equal(defaultPoolOptions.maxBatch, serveSpec.defaults().maxBatch);
  assert.equal(defaultPoolOptions.memoryBudgetBytes, serveSpec.defaults().memoryBudgetMb * 1024 * 1024);
  assert.throws(() => serveSpec.fromArgs({ options: { models: 'm', workers: 0, policy: 'lifo', listen: 'nope' }, positionals: [] }), (e: Error) => {
    assert.match(e.message, /--workers: expected an integer from 1 to 256, got 0/);
    assert.match(e.message, /--policy: expected one of clockwork, fifo, got "lifo"/);
    assert.match(e.message, /--listen: expected host:port/);
    return true;
  });
  assert.throws(() => serveSpec.fromArgs({ options: {}, positionals: [] }), /--models: is required/);
  const r = serveSpec.check({ models: 'm', maxBatchh: 3 }, 'inference');
  assert.deepEqual(r.issues.map((i) => i.path), ['inference.maxBatchh']);
  assert.match(r.issues[0]!.message, /did you mean maxBatch/);
});
