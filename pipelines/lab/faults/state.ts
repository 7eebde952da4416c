/**
 * The lab state file: every app, Prometheus and fault a run starts is written here BEFORE it takes
 * effect and removed after it is undone, so a later run (or `cleanupLeftovers`) can undo what a
 * crashed orchestrator left. Several test processes may share it: updates take a lock (mkdir is
 * atomic) and replace the file by rename.
 *
 * The file is trusted by a process that kills processes and deletes folders, often as root, so
 * (issue 15):
 * - it lives in a private directory of the user: `$PANOPTES_LAB_STATE`, else
 *   `$XDG_RUNTIME_DIR/panoptes-lab/state.json`, else `~/.local/state/panoptes-lab/state.json`; the
 *   directory is created with mode 0700, and one owned by someone else (or a symlink) is refused;
 *   a state file that is a symlink or not the user's is ignored;
 * - entries are only hints: cleanup acts on a process only when its start time (from /proc) is the
 *   one recorded, it is the user's, and its environment carries the run's random token
 *   (`PANOPTES_LAB_TOKEN=<token>`, given to every process the lab starts); it deletes a folder only
 *   under the lab's own root (the state directory), owned by the user, holding the lab's marker
 *   file with the same token (`labDirOwned`); ids, table names and key prefixes must have the
 *   lab's own shapes. An entry that is not well-formed is dropped.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readFileSync, renameSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { ConfigError } from '../../core/errors.ts';
import type { LabState } from '../types.ts';

/** The environment variable every process the lab starts carries (value: its run's token). */
export const TOKEN_ENV = 'PANOPTES_LAB_TOKEN';
/** The marker file in every folder the lab may delete later (content: the run's token). */
export const MARKER_FILE = '.panoptes-lab';
const TOKEN_RE = /^[0-9a-f]{32}$/;
const RUN_ID_RE = /^r[a-z0-9]{5}[0-9a-f]{4}$/;

export function newToken(): string {
  return randomBytes(16).toString('hex');
}

const uid = () => (typeof process.getuid === 'function' ? process.getuid() : -1);

export function labStateFile(): string {
  if (process.env.PANOPTES_LAB_STATE) return resolve(process.env.PANOPTES_LAB_STATE);
  const xdg = process.env.XDG_RUNTIME_DIR;
  if (xdg && isAbsolute(xdg)) {
    try {
      const st = lstatSync(xdg);
      if (st.isDirectory() && st.uid === uid() && (st.mode & 0o077) === 0) return join(xdg, 'panoptes-lab', 'state.json');
    } catch {
      /* not there: fall back to the home directory */
    }
  }
  return join(homedir(), '.local', 'state', 'panoptes-lab', 'state.json');
}

/** The lab's own root: the state file's directory (Prometheus data folders live under it). */
export function labRoot(file = labStateFile()): string {
  return dirname(file);
}

/**
 * Makes `dir` (and missing parents) with mode 0700 and checks it is a real directory of this user;
 * tightens its mode when it is the user's but open to others. Throws a ConfigError otherwise.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const fix = 'set PANOPTES_LAB_STATE to a file in a directory of yours';
  if (st.isSymbolicLink() || !st.isDirectory()) throw new ConfigError([{ path: 'PANOPTES_LAB_STATE', message: `${dir} is not a directory but a ${st.isSymbolicLink() ? 'symlink' : 'file'}: the lab will not trust it (${fix})` }]);
  if (uid() >= 0 && st.uid !== uid()) throw new ConfigError([{ path: 'PANOPTES_LAB_STATE', message: `${dir} belongs to uid ${st.uid}, not to you (uid ${uid()}): someone else could plant lab state there, so the lab will not use it (${fix})` }]);
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

const empty = (): LabState => ({ apps: [], faults: [], prometheus: [] });

const isInt = (x: unknown): x is number => Number.isInteger(x) && (x as number) > 0;
const isProc = (x: unknown): x is { pid: number; start: number } => typeof x === 'object' && x !== null && isInt((x as { pid: unknown }).pid) && Number.isInteger((x as { start: unknown }).start);

/** Only well-formed entries of the lab's own shapes survive; anything else is dropped. */
export function sanitizeState(raw: unknown): LabState {
  const s = (raw && typeof raw === 'object' ? raw : {}) as Partial<Record<keyof LabState, unknown>>;
  const arr = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);
  const apps = arr(s.apps).filter((a): a is LabState['apps'][number] => {
    const x = a as Record<string, unknown>;
    if (!x || typeof x.runId !== 'string' || !RUN_ID_RE.test(x.runId) || typeof x.token !== 'string' || !TOKEN_RE.test(x.token)) return false;
    if (!Array.isArray(x.procs) || !x.procs.every(isProc) || !isInt(x.ownerPid)) return false;
    const tables = x.tables;
    if (!Array.isArray(tables) || !tables.every((t) => typeof t === 'string' && t.startsWith(`lab_${x.runId}_`) && /^lab_[a-z0-9]+_[a-z]+$/.test(t))) return false;
    return x.redisPrefix === `lab:${x.runId}:` && typeof x.runDir === 'string' && typeof x.postgres === 'object' && typeof x.redis === 'object';
  });
  const faults = arr(s.faults).filter((f): f is LabState['faults'][number] => {
    const x = f as Record<string, unknown>;
    return !!x && typeof x.runId === 'string' && RUN_ID_RE.test(x.runId) && typeof x.spec === 'object' && x.spec !== null && typeof x.since === 'number';
  });
  const prometheus = arr(s.prometheus).filter((p): p is LabState['prometheus'][number] => {
    const x = p as Record<string, unknown>;
    return !!x && isInt(x.pid) && Number.isInteger(x.start) && typeof x.token === 'string' && TOKEN_RE.test(x.token) && typeof x.dataDir === 'string' && isInt(x.ownerPid);
  });
  return { apps, faults, prometheus };
}

export function readState(file = labStateFile()): LabState {
  ensurePrivateDir(dirname(file));
  try {
    const st = lstatSync(file);
    // A symlink or someone else's file in the private directory is not the lab's.
    if (!st.isFile() || (uid() >= 0 && st.uid !== uid())) return empty();
    return sanitizeState(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return empty();
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Read-modify-write under the lock. Synchronous on purpose: signal handlers and exits use it too. */
export function updateState(fn: (s: LabState) => void, file = labStateFile()): LabState {
  ensurePrivateDir(dirname(file));
  const lock = `${file}.lock`;
  const deadline = Date.now() + 3000;
  for (;;) {
    try {
      mkdirSync(lock, { mode: 0o700 });
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
    writeFileSync(tmp, JSON.stringify(s, null, 1), { mode: 0o600 });
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

/** The process's start time (clock ticks since boot, /proc/<pid>/stat field 22), or null. */
export function procStart(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the command: state is field 3, starttime field 22.
    const v = Number(f[22 - 3]);
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
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

/**
 * The recorded process is still the one the lab started: alive, the user's, started at the recorded
 * time (a reused pid has another), and carrying `PANOPTES_LAB_TOKEN=<token>` in its environment.
 */
export function procIsOurs(p: { pid: number; start: number }, token: string): boolean {
  if (!TOKEN_RE.test(token) || !isInt(p.pid) || p.pid === process.pid || !pidAlive(p.pid)) return false;
  if (procStart(p.pid) !== p.start) return false;
  try {
    if (uid() >= 0 && statSync(`/proc/${p.pid}`).uid !== uid()) return false;
    return readFileSync(`/proc/${p.pid}/environ`, 'utf8').split('\0').includes(`${TOKEN_ENV}=${token}`);
  } catch {
    return false;
  }
}

/** Marks a folder the lab created as deletable later by its cleanup. */
export function markLabDir(dir: string, token: string): void {
  writeFileSync(join(dir, MARKER_FILE), token, { mode: 0o600 });
}

/**
 * The folder may be deleted by the lab: an absolute path strictly under `root`, no symlink on the
 * way, a directory of this user, holding the marker file (a regular file of this user) with `token`.
 */
export function labDirOwned(dir: string, token: string, root = labRoot()): boolean {
  if (!TOKEN_RE.test(token) || !isAbsolute(dir) || !isAbsolute(root)) return false;
  const d = normalize(dir);
  const rel = relative(normalize(root), d);
  if (!rel || rel.startsWith('..') || isAbsolute(rel)) return false;
  try {
    // Every step below the root must be a real directory of this user (no symlink to elsewhere).
    let cur = normalize(root);
    for (const part of rel.split(sep)) {
      cur = join(cur, part);
      const st = lstatSync(cur);
      if (st.isSymbolicLink() || !st.isDirectory() || (uid() >= 0 && st.uid !== uid())) return false;
    }
    const m = lstatSync(join(d, MARKER_FILE));
    if (!m.isFile() || (uid() >= 0 && m.uid !== uid())) return false;
    return readFileSync(join(d, MARKER_FILE), 'utf8').trim() === token;
  } catch {
    return false;
  }
}
