/**
 * An interrupted `panoptes lab run` leaves nothing behind: SIGINT right after the fault is
 * injected makes the orchestrator recover it in its `finally`, stop Prometheus, the pipeline and
 * the services, and exit; the lab state file then lists no fault, app or Prometheus. About 30 s.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { ROOT, childEnv } from '../helpers/infra.ts';

const dir = mkdtempSync(join(tmpdir(), 'panoptes-lab-interrupt-'));
const STATE = join(dir, 'state.json');
process.env.PANOPTES_LAB_STATE = STATE;
const { activeFaults, cleanupLeftovers, readState } = await import('../../pipelines/lab/faults/index.ts');

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

it('SIGINT after the injection recovers the fault and stops everything', { timeout: 120_000 }, async () => {
  const base = 18950;
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'panoptes.js'), 'lab', 'run', '--problem', 'scale-zero-rate-rca', '--warmup-ms', '8000', '--base-port', String(base), '--out', dir], {
    cwd: ROOT,
    env: childEnv({ PANOPTES_LAB_STATE: STATE }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const injected = new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/injecting scale-zero into rate/.test(stderr)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`exited (${code}) before injecting:\n${stderr}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Never injecting (a loaded machine, a port taken): kill it and clean up, so a failed test leaves
  // nothing running that would keep the whole test run alive.
  const slow = setTimeout(() => {
    child.kill('SIGKILL');
    void cleanupLeftovers();
  }, 90_000);
  try {
    await injected;
  } finally {
    clearTimeout(slow);
  }
  // The fault is on record (and in effect) once the injector returned.
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(activeFaults(undefined, STATE).length, 1, stderr);
  child.kill('SIGINT');
  const stuck = setTimeout(() => child.kill('SIGKILL'), 60_000); // the assertions below then say what was left
  const code = await exited;
  clearTimeout(stuck);
  assert.notEqual(code, 0, 'an interrupted run does not exit 0');
  assert.match(stderr, /recovered and stopped/);
  assert.deepEqual(activeFaults(undefined, STATE), []);
  if (existsSync(STATE)) {
    const st = readState(STATE);
    assert.deepEqual(st.faults, []);
    assert.deepEqual(st.apps, []);
    assert.deepEqual(st.prometheus, []);
  }
  for (const port of [base, base + 3, base + 20, base + 21]) assert.equal(await listening(port), false, `port ${port} still listening`);
});
