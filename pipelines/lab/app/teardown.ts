/**
 * Undoing what an app run created: its processes, its tables, its Redis keys. Used by LabApp.stop()
 * and by cleanupLeftovers() for runs whose orchestrator died.
 */
import { pidAlive, procIsOurs } from '../faults/state.ts';
import type { LabProc } from '../types.ts';

/** SIGTERM, then SIGKILL whatever is still alive after `graceMs`. Only processes the lab started
 *  are touched: same start time as recorded and `PANOPTES_LAB_TOKEN=<token>` in their environment
 *  (a pid from a crashed run may have been reused by now). Returns the pids signalled. */
export async function killProcs(procs: readonly LabProc[], token: string, graceMs = 1500): Promise<number[]> {
  const ours = procs.filter((p) => procIsOurs(p, token)).map((p) => p.pid);
  for (const p of ours) {
    try {
      process.kill(p, 'SIGTERM');
      process.kill(p, 'SIGCONT'); // a frozen (hang fault) process acts on SIGTERM only once continued
    } catch {
      /* exited */
    }
  }
  const end = Date.now() + graceMs;
  while (Date.now() < end && ours.some(pidAlive)) await new Promise((r) => setTimeout(r, 50));
  for (const p of ours) {
    if (!pidAlive(p)) continue;
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* exited */
    }
  }
  return ours;
}

export async function dropTables(pg: { host: string; port: number; database: string; user?: string }, tables: string[]): Promise<string[]> {
  if (!tables.length) return [];
  const { default: pgm } = await import('pg');
  const c = new pgm.Client({ host: pg.host, port: pg.port, database: pg.database, user: pg.user ?? 'postgres', connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    for (const t of tables) {
      if (!/^lab_[a-z0-9]+_[a-z]+$/.test(t)) continue; // never drop anything that is not a lab table
      await c.query(`DROP TABLE IF EXISTS ${t}`);
    }
    return tables;
  } finally {
    await c.end();
  }
}

export async function deleteKeys(redis: { host: string; port: number }, prefix: string): Promise<number> {
  if (!/^lab:[a-z0-9]+:$/.test(prefix)) return 0;
  const { oneShotRedis } = await import('./redis.ts');
  const r = await oneShotRedis(redis.host, redis.port, 5000);
  let n = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) n += await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
  return n;
}
