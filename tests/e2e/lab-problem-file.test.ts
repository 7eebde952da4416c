/**
 * `panoptes lab run --problems FILE` end to end on the embedded transport, from outside (the CLI in
 * its own process): a two-problem file, one with a fault (geo crashes) and one fault-free. Both are
 * scored; the fault-free one is scored on "no fault" and counted in the false-alarm rate; the
 * progress shows the score so far; nothing is left behind. A wrong file is refused before anything
 * starts, with every error and its line. About 2 minutes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { RunReport } from '../../pipelines/lab/index.ts';
import { ROOT, childEnv } from '../helpers/infra.ts';

const dir = mkdtempSync(join(tmpdir(), 'panoptes-lab-file-'));
const STATE = join(dir, 'state', 'state.json');

function panoptes(args: string[], timeoutMs: number): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'panoptes.js'), ...args], { cwd: ROOT, env: childEnv({ PANOPTES_LAB_STATE: STATE }), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const t = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    child.once('exit', (code) => (clearTimeout(t), resolve({ code, out, err })));
  });
}

describe('lab run --problems FILE', { timeout: 240_000 }, () => {
  it('refuses a wrong file before anything starts: exit 2, every error with its path and line', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'problems:\n  - id: x\n    task: localization\n    fault: {kind: misconfig, target: geo}\n    workload: {shape: poisson, seed: 1}\n  - id: y\n    task: rca\n    fault: none\n    workload: {shape: square, seed: 2}\n');
    const r = await panoptes(['lab', 'run', '--problems', bad, '--all', '--base-port', '19200', '--out', dir], 30_000);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /problems\[0\]\.fault\.target \(line 4\): fault misconfig cannot apply to geo/);
    assert.match(r.err, /problems\[1\]\.fault \(line 8\): a fault-free problem must be a detection problem/);
    assert.match(r.err, /problems\[1\]\.workload\.shape \(line 9\): expected one of poisson, diurnal, burst, got "square"/);
    assert.doesNotMatch(r.err, /starting the app/);
  });

  it('runs a fault problem and a fault-free one, scores both and counts the false-alarm rate', async () => {
    const file = join(dir, 'two.yaml');
    writeFileSync(
      file,
      [
        'problems:',
        '  - id: crash-geo-detection',
        '    task: detection',
        '    fault: {kind: crash, target: geo}',
        '    workload: {shape: poisson, rps: 12, seed: 21}',
        '  - id: quiet-detection',
        '    task: detection',
        '    fault: none',
        '    workload: {shape: diurnal, rps: 12, seed: 22}',
        '',
      ].join('\n'),
    );
    const r = await panoptes(['lab', 'run', '--problems', file, '--all', '--warmup-ms', '20000', '--budget-ms', '15000', '--base-port', '19100', '--out', dir, '--json'], 220_000);
    assert.equal(r.code, 0, r.err.slice(-3000));
    const report = JSON.parse(r.out.trim().split('\n').at(-1)!) as RunReport;
    assert.equal(report.transport, 'embedded');
    assert.equal(report.problemsFile, file);
    assert.equal(report.problems.length, 2);
    const [crash, quiet] = report.problems;
    assert.equal(crash!.status, 'scored', crash!.error);
    assert.equal(crash!.score?.detection?.correct, true, JSON.stringify(crash!.observed));
    assert.equal(crash!.recovered, true);
    assert.equal(quiet!.status, 'scored', quiet!.error);
    assert.equal(quiet!.fault.kind, 'none');
    assert.equal(quiet!.injectedAt !== null, true);
    assert.equal(typeof quiet!.answer?.detected, 'boolean', 'the agent said yes or no');
    assert.equal(quiet!.score?.detection?.faultFree, true);
    assert.equal(quiet!.score?.detection?.falseAlarm, quiet!.answer?.detected === true);
    assert.equal(quiet!.score?.score, quiet!.answer?.detected === false ? 1 : 0);
    assert.equal(quiet!.ttdMs, null, 'no time to detect without a fault');
    assert.deepEqual({ faulty: report.summary.detection.faulty, faultFree: report.summary.detection.faultFree }, { faulty: 1, faultFree: 1 });
    assert.equal(report.summary.detection.falseAlarmRate, quiet!.answer?.detected ? 1 : 0);
    assert.match(r.err, /\[1\/2 crash-geo-detection\] score so far: detection 1\/1/);
    assert.match(r.err, /\[2\/2 quiet-detection\] score so far: detection \d\/2 \(false alarms [01]\/1\)/);
    const md = readFileSync(join(dir, report.runId, 'report.md'), 'utf8');
    assert.match(md, /\| detection: faults reported \/ false-alarm rate \| 1 with a fault, 1 fault-free \|/);
    assert.match(md, /No fault injected \(fault-free problem\)/);
    const { activeFaults, readState } = await import('../../pipelines/lab/faults/index.ts');
    assert.deepEqual(activeFaults(undefined, STATE), []);
    const st = readState(STATE);
    assert.deepEqual([st.apps, st.prometheus], [[], []]);
  });
});
