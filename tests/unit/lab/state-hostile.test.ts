/**
 * The lab state file is trusted by a cleanup that kills processes and deletes folders (issue 15):
 * a planted state file naming `/`, an unrelated folder or an unrelated process must lead to no
 * deletion and no kill; a state directory of someone else is refused; and the same cleanup does
 * remove what the lab itself started (so the checks are not vacuous).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cleanupLeftovers } from '../../../pipelines/lab/faults/cleanup.ts';
import { labDirOwned, labStateFile, markLabDir, newToken, procStart, readState, TOKEN_ENV, updateState } from '../../../pipelines/lab/faults/state.ts';

const base = mkdtempSync(join(tmpdir(), 'lab-state-hostile-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
});

function sleeper(env: Record<string, string> = {}): Promise<ChildProcess> {
  const c = spawn('sleep', ['30'], { env: { ...process.env, ...env }, stdio: 'ignore' });
  children.push(c);
  return new Promise((r) => setTimeout(() => r(c), 50));
}
const alive = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;
/** An owner pid that is surely dead, so every entry counts as a leftover. */
const DEAD_OWNER = 2 ** 22 - 3;

describe('lab state: hostile entries', () => {
  it('the default state file is under a private directory of the user, never a shared /tmp path', () => {
    const saved = { s: process.env.PANOPTES_LAB_STATE, x: process.env.XDG_RUNTIME_DIR };
    try {
      delete process.env.PANOPTES_LAB_STATE;
      delete process.env.XDG_RUNTIME_DIR;
      assert.match(labStateFile(), /\/\.local\/state\/panoptes-lab\/state\.json$/);
      const xdg = mkdtempSync(join(base, 'xdg-'));
      process.env.XDG_RUNTIME_DIR = xdg;
      assert.equal(labStateFile(), join(xdg, 'panoptes-lab', 'state.json'));
    } finally {
      if (saved.s === undefined) delete process.env.PANOPTES_LAB_STATE;
      else process.env.PANOPTES_LAB_STATE = saved.s;
      if (saved.x === undefined) delete process.env.XDG_RUNTIME_DIR;
      else process.env.XDG_RUNTIME_DIR = saved.x;
    }
  });

  it('a state directory created by the lab is mode 0700', () => {
    const file = join(base, 'fresh', 'sub', 'state.json');
    updateState(() => undefined, file);
    assert.equal(statSync(join(base, 'fresh', 'sub')).mode & 0o777, 0o700);
    assert.equal(statSync(file).mode & 0o077, 0);
  });

  it('a pre-created state directory of another user is refused, not trusted', { skip: process.getuid?.() !== 0 ? 'needs root to chown' : false }, () => {
    const dir = join(base, 'planted-by-other');
    mkdirSync(dir, { mode: 0o777 });
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ prometheus: [{ pid: 1, start: 0, token: 'a'.repeat(32), dataDir: '/', ownerPid: DEAD_OWNER }] }));
    chownSync(dir, 65534, 65534);
    assert.throws(() => readState(join(dir, 'state.json')), /belongs to uid 65534, not to you/);
  });

  it('a symlinked state file is ignored', () => {
    const dir = mkdtempSync(join(base, 'sym-'));
    const real = join(base, 'elsewhere.json');
    writeFileSync(real, JSON.stringify({ prometheus: [{ pid: 1, start: 0, token: 'a'.repeat(32), dataDir: '/', ownerPid: DEAD_OWNER }] }));
    symlinkSync(real, join(dir, 'state.json'));
    assert.deepEqual(readState(join(dir, 'state.json')), { apps: [], faults: [], prometheus: [] });
  });

  it('planted entries naming an unrelated process, an unrelated folder and / kill nothing and delete nothing', async () => {
    const dir = mkdtempSync(join(base, 'planted-'));
    const file = join(dir, 'state.json');
    const victim = await sleeper();
    const start = procStart(victim.pid!)!;
    // An unrelated folder with a file in it, even under the lab's root, even with a marker of another token.
    const canary = join(dir, 'prometheus', 'canary');
    mkdirSync(canary, { recursive: true });
    writeFileSync(join(canary, 'keep.txt'), 'keep');
    markLabDir(canary, newToken());
    const outside = mkdtempSync(join(base, 'outside-'));
    writeFileSync(join(outside, 'keep.txt'), 'keep');
    const token = newToken();
    markLabDir(outside, token); // marked, but not under the lab's root
    const planted = {
      apps: [
        // The old format: a pid list and an empty run id (the marker `LAB_RUN_ID=` matched any lab process).
        { runId: '', runDir: '/', ownerPid: DEAD_OWNER, pids: [victim.pid], tables: ['pg_authid'], redisPrefix: '', postgres: {}, redis: {} },
        // Well-formed, the right start time, but the process does not carry the token.
        { runId: 'rabcde0123', token: newToken(), runDir: '/', ownerPid: DEAD_OWNER, procs: [{ pid: victim.pid, start }], tables: [], redisPrefix: 'lab:rabcde0123:', postgres: { host: '127.0.0.1', port: 1, database: 'x' }, redis: { host: '127.0.0.1', port: 1 } },
      ],
      faults: [],
      prometheus: [
        { pid: victim.pid, dir: '/', ownerPid: DEAD_OWNER },
        { pid: victim.pid, start, token, dataDir: '/', ownerPid: DEAD_OWNER },
        { pid: victim.pid, start: start + 1, token, dataDir: canary, ownerPid: DEAD_OWNER },
        { pid: victim.pid, start, token, dataDir: outside, ownerPid: DEAD_OWNER },
        { pid: victim.pid, start, token, dataDir: join(dir, 'prometheus', 'canary', '..', '..', '..'), ownerPid: DEAD_OWNER },
      ],
    };
    writeFileSync(file, JSON.stringify(planted), { mode: 0o600 });
    const report = await cleanupLeftovers({ stateFile: file });
    assert.deepEqual(report.killed, []);
    assert.deepEqual(report.tablesDropped, []);
    assert.ok(alive(victim), 'the unrelated process is alive');
    assert.equal(readFileSync(join(canary, 'keep.txt'), 'utf8'), 'keep');
    assert.equal(readFileSync(join(outside, 'keep.txt'), 'utf8'), 'keep');
    assert.ok(existsSync(dir) && existsSync('/etc') && existsSync(base));
    assert.equal(labDirOwned('/', token, dir), false);
    assert.equal(labDirOwned(outside, token, dir), false);
  });

  it('what the lab itself started is still cleaned up: its process (start time + token) and its marked folder', async () => {
    const dir = mkdtempSync(join(base, 'own-'));
    const file = join(dir, 'state.json');
    const token = newToken();
    const ours = await sleeper({ [TOKEN_ENV]: token });
    const other = await sleeper({ [TOKEN_ENV]: newToken() });
    const data = join(dir, 'prometheus', 'tsdb-1');
    mkdirSync(data, { recursive: true });
    markLabDir(data, token);
    updateState((s) => {
      s.prometheus.push({ pid: ours.pid!, start: procStart(ours.pid!)!, token, dataDir: data, ownerPid: DEAD_OWNER });
      s.prometheus.push({ pid: other.pid!, start: procStart(other.pid!)!, token, dataDir: data, ownerPid: DEAD_OWNER });
    }, file);
    const report = await cleanupLeftovers({ stateFile: file });
    assert.deepEqual(report.killed, [ours.pid]);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(alive(ours), false);
    assert.ok(alive(other), 'a process with another token is left alone');
    assert.equal(existsSync(data), false, 'the marked folder under the root is gone');
    assert.deepEqual(readState(file).prometheus, []);
  });
});
