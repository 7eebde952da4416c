import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commands } from '../../../pipelines/inference/cli.ts';
import type { CliIo } from '../../../pipelines/core/cli-types.ts';
import { UsageError } from '../../../pipelines/core/errors.ts';

function io(json: boolean, signal: AbortSignal, out: string[]): CliIo {
  return { out: (l) => out.push(l), err: () => undefined, json, signal };
}
const cmd = (name: string) => commands.find((c) => c.name === name)!;

test('models build writes the models; serve answers KServe v2 until aborted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'panoptes-cli-'));
  try {
    const out: string[] = [];
    assert.equal(await cmd('models build').run({ options: { out: dir }, positionals: [] }, io(true, new AbortController().signal, out)), 0);
    assert.deepEqual(out.map((l) => JSON.parse(l).name), ['mlp-s', 'mlp-m', 'mlp-l', 'zscore-w64']);
    assert.equal(JSON.parse(readFileSync(join(dir, 'models.json'), 'utf8')).models.length, 4);

    const ac = new AbortController();
    const lines: string[] = [];
    const running = cmd('serve').run({ options: { models: dir, listen: '127.0.0.1:0', workers: 1 }, positionals: [] }, io(true, ac.signal, lines));
    while (lines.length === 0) await new Promise((r) => setTimeout(r, 20));
    const { listening } = JSON.parse(lines[0]!) as { listening: string };
    // The model is cold: its first request may be refused (429) while it loads.
    let res: Response | undefined;
    for (let i = 0; i < 50 && res?.status !== 200; i++) {
      if (res) await new Promise((r) => setTimeout(r, 50));
      res = await fetch(`${listening}/v2/models/mlp-s/infer`, { method: 'POST', body: JSON.stringify({ inputs: [{ name: 'input', shape: [1, 32], datatype: 'FP32', data: new Array(32).fill(0.5) }] }) });
      assert.ok(res.status === 200 || res.status === 429, `status ${res.status}`);
      await res.arrayBuffer();
    }
    assert.equal(res!.status, 200);
    ac.abort();
    assert.equal(await running, 0);
    await assert.rejects(fetch(`${listening}/v2/health/live`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await assert.rejects(cmd('serve').run({ options: { models: '/nonexistent', listen: 'nope' }, positionals: [] }, io(false, new AbortController().signal, [])), UsageError);
});

test('usage errors are one line: models build --out under a file, a bad serve option, a missing token file; a warning beyond loopback without auth', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'panoptes-cli-'));
  try {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    await assert.rejects(cmd('models build').run({ options: { out: join(file, 'models') }, positionals: [] }, io(false, new AbortController().signal, [])), (e: Error) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, /^--out .*a part of the path is a file, not a folder \(ENOTDIR\)$/);
      return true;
    });
    await assert.rejects(cmd('serve').run({ options: { models: dir, workers: 0 }, positionals: [] }, io(false, new AbortController().signal, [])), /--workers: expected an integer from 1 to 256, got 0/);
    await assert.rejects(cmd('serve').run({ options: { models: dir, 'bearer-token-file': join(dir, 'missing') }, positionals: [] }, io(false, new AbortController().signal, [])), /cannot read .*missing/);

    assert.equal(await cmd('models build').run({ options: { out: dir }, positionals: [] }, io(false, new AbortController().signal, [])), 0);
    const ac = new AbortController();
    const lines: string[] = [];
    const errs: string[] = [];
    const running = cmd('serve').run({ options: { models: dir, listen: '0.0.0.0:0', kafka: 'off', 'parse-workers': 0 }, positionals: [] }, { out: (l) => lines.push(l), err: (l) => errs.push(l), json: true, signal: ac.signal });
    while (lines.length === 0) await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    assert.equal(await running, 0);
    assert.ok(errs.some((l) => /^warning: serving on 0\.0\.0\.0, beyond loopback, without authentication/.test(l)), errs.join('\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
