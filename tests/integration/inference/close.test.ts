/** Closing a pool while onnxruntime loads a model ends cleanly (it used to abort the process with Napi::Error). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../fixtures/inference/close-during-load.ts', import.meta.url));

test('closing a pool during cold model loads: every request answered, no abort, workers exit on their own', () => {
  const rounds = 5;
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, String(rounds)], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.signal, null, `killed by ${r.signal}: ${r.stderr}`);
  assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /Napi::Error|terminate called/);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, rounds, r.stdout);
  for (const l of lines) {
    const m = /closed in (\d+) ms: (.*)$/.exec(l);
    assert.ok(m, l);
    // Each request gets an answer (refused while cold, or cancelled by the close); the close waits for the load, not the 5 s fallback.
    for (const s of m[2]!.split(',')) assert.ok(['rejected', 'error', 'ok'].includes(s), l);
    assert.ok(Number(m[1]) < 4_000, `close took ${m[1]} ms (the terminate fallback is 5 s): ${l}`);
  }
});
