/**
 * The lab state file: every app, Prometheus and fault a run starts is written here BEFORE it takes
 * effect and removed after it is undone, so a later run (or `cleanupLeftovers`) can undo what a
 * crashed orchestrator left. Several test processes may share it: updates take a lock (mkdir is
 * atomic) and replace the file by rename.
 */
import { mkdirSync, readFileSync, renameSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LabState } from '../types.ts';

export function labStateFile(): string {
  return process.env.PANOPTES_LAB_STATE ?? '/tmp/panoptes-lab/state.json';
}

const empty = (): LabState => ({ apps: [], faults: [], prometheus: [] });

export function readState(file = labStateFile()): LabState {
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as Partial<LabState>;
    return { apps: s.apps ?? [], faults: s.faults ?? [], prometheus: s.prometheus ?? [] };
  } catch {
    return empty();
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Read-modify-write under the lock. Synchronous on purpose: signal handlers and exits use it too. */
export function updateState(fn: (s: LabState) => void, file = labStateFile()): LabState {
  mkdirSync(dirname(file), { recursive: true });
  const lock = `${file}.lock`;
  const deadline = Date.now() + 3000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than 10 s belongs to a process that died holding it.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 10_000) rmdirSync(lock);
      } catch {
        /* gone meanwhile */
      }
      if (Date.now() > deadline) {
        try {
          rmdirSync(lock);
        } catch {
          /* gone */
        }
      }
      sleepSync(10);
    }
  }
  try {
    const s = readState(file);
    fn(s);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(s, null, 1));
    renameSync(tmp, file);
    return s;
  } finally {
    try {
      rmdirSync(lock);
    } catch {
      /* already released */
    }
  }
}

export function pidAlive(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed orphan stays a zombie until init reaps it: it answers signal 0 but is gone.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** The pid is alive AND its command line mentions `marker` (guards against reused pids). */
export function pidIsOurs(pid: number, marker: string): boolean {
  if (!pidAlive(pid)) return false;
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    const env = (() => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'utf8');
      } catch {
        return '';
      }
    })();
    return cmd.includes(marker) || env.includes(marker);
  } catch {
    return false;
  }
}
