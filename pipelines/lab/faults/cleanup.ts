/**
 * Leftovers of runs whose orchestrator died (SIGKILL, crash, power cut): their service and proxy
 * processes hold the faults (in-process faults, cut or slowed proxies, wrong configs, zero scale), so
 * killing them undoes every fault; their tables and Redis keys are dropped; their Prometheus is
 * stopped. Every entry is checked first (faults/state.ts): a process is signalled only if it is the
 * one the lab started (start time and token), a folder deleted only under the lab's root with its
 * marker; a planted entry naming `/` or an unrelated process does nothing. Runs whose owner is alive are left alone (another test or run may be using them), unless
 * `includeOwn` asks to clean this process's own runs too (the signal handlers do).
 */
import { existsSync, rmSync } from 'node:fs';
import { silentLogger, type Logger } from '../../core/logger.ts';
import { deleteKeys, dropTables, killProcs } from '../app/teardown.ts';
import type { CleanupReport, FaultSpec, LabState } from '../types.ts';
import { labDirOwned, labRoot, labStateFile, pidAlive, readState, updateState } from './state.ts';

export async function cleanupLeftovers(opts: { includeOwn?: boolean; log?: Logger; stateFile?: string } = {}): Promise<CleanupReport> {
  const log = opts.log ?? silentLogger;
  const state = readState(opts.stateFile);
  const leftover = (ownerPid: number) => !pidAlive(ownerPid) || (opts.includeOwn === true && ownerPid === process.pid);
  const report: CleanupReport = { killed: [], faultsRecovered: [], tablesDropped: [], keysDeleted: 0 };
  const doneApps = new Set<string>();
  for (const a of state.apps.filter((x) => leftover(x.ownerPid))) {
    report.killed.push(...(await killProcs(a.procs, a.token)));
    try {
      report.tablesDropped.push(...(await dropTables(a.postgres, a.tables)));
      report.keysDeleted += await deleteKeys(a.redis, a.redisPrefix);
    } catch (e) {
      // The processes (and so the faults) are gone; tables/keys stay recorded for the next try.
      log.warn('lab cleanup: could not drop tables/keys', { runId: a.runId, error: e });
      continue;
    }
    doneApps.add(a.runId);
    log.info("lab cleanup: removed leftover app", { runId: a.runId, pids: a.procs.map((p) => p.pid) });
  }
  const doneProms: number[] = [];
  for (const p of state.prometheus.filter((x) => leftover(x.ownerPid))) {
    report.killed.push(...(await killProcs([{ pid: p.pid, start: p.start }], p.token)));
    // Only a folder under the lab's own root that carries its marker with this token.
    if (labDirOwned(p.dataDir, p.token, labRoot(opts.stateFile ?? labStateFile()))) rmSync(p.dataDir, { recursive: true, force: true });
    else if (existsSync(p.dataDir)) log.warn('lab cleanup: not deleting a folder the lab did not mark as its own', { dir: p.dataDir });
    doneProms.push(p.pid);
  }
  const liveRuns = new Set(state.apps.filter((a) => !doneApps.has(a.runId)).map((a) => a.runId));
  updateState((s: LabState) => {
    const gone = s.faults.filter((f) => !liveRuns.has(f.runId) || doneApps.has(f.runId));
    report.faultsRecovered.push(...gone.map((f) => f.spec));
    s.faults = s.faults.filter((f) => !gone.includes(f));
    s.apps = s.apps.filter((a) => !doneApps.has(a.runId));
    s.prometheus = s.prometheus.filter((p) => !doneProms.includes(p.pid));
  }, opts.stateFile);
  return report;
}

/** Faults currently recorded (all runs, or one). */
export function activeFaults(runId?: string, stateFile?: string): Array<{ runId: string; spec: FaultSpec; since: number }> {
  return readState(stateFile).faults.filter((f) => runId === undefined || f.runId === runId);
}

/**
 * On SIGINT/SIGTERM: run `cleanup` (default: everything this process started, via cleanupLeftovers
 * with includeOwn), then exit with 128+signal. A second signal exits at once. Returns the uninstaller.
 */
export function installSignalHandlers(cleanup?: () => Promise<unknown>, opts: { timeoutMs?: number; log?: Logger } = {}): () => void {
  let running = false;
  const handler = (sig: NodeJS.Signals) => {
    const code = sig === 'SIGINT' ? 130 : 143;
    if (running) process.exit(code);
    running = true;
    opts.log?.warn('lab: interrupted, recovering faults', { signal: sig });
    const work = (cleanup ?? (() => cleanupLeftovers({ includeOwn: true, ...(opts.log ? { log: opts.log } : {}) })))();
    const timer = setTimeout(() => process.exit(code), opts.timeoutMs ?? 15_000);
    Promise.resolve(work)
      .catch((e) => opts.log?.error('lab: cleanup after signal failed', { error: e }))
      .finally(() => {
        clearTimeout(timer);
        process.exit(code);
      });
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
