/**
 * Faults always recover, also when the orchestrator is interrupted: killed with SIGKILL while
 * faults are active, the next run's cleanupLeftovers() kills the orphaned services, proxies and
 * Prometheus, drops the tables and keys, and clears the fault records; with SIGTERM the lab's
 * signal handlers do the same before the orchestrator exits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_STATE_FILE, runDir, sleep } from './helpers.ts';

const STATE = TEST_STATE_FILE;
process.env.PANOPTES_LAB_STATE = STATE;
const { cleanupLeftovers, readState } = await import('../../../pipelines/lab/faults/index.ts');
const { pidAlive } = await import('../../../pipelines/lab/faults/state.ts');
const FIXTURE = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures', 'orchestrator.ts');
const FAULTS = [
  { kind: 'latency', target: 'geo', params: { latencyMs: 300 } },
  { kind: 'redis-down', target: 'redis' },
  { kind: 'misconfig', target: 'user' },
  { kind: 'scale-zero', target: 'profile' },
  { kind: 'hang', target: 'reservation' },
];

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

const alive = pidAlive;

async function startOrchestrator(basePort: number, handlers: boolean): Promise<{ child: ChildProcess; ready: { runId: string; pids: number[]; prometheusPid: number } }> {
  const env: NodeJS.ProcessEnv = { ...process.env, PANOPTES_LAB_STATE: STATE, LAB_BASE_PORT: String(basePort), LAB_RUN_DIR: runDir(`interrupt-${basePort}`), LAB_FAULTS: JSON.stringify(FAULTS), LAB_HANDLERS: handlers ? '1' : '0' };
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const ready = await new Promise<{ runId: string; pids: number[]; prometheusPid: number }>((resolve, reject) => {
    // Not ready in time (a loaded machine): the orchestrator is killed and what it started is
    // cleaned up, so a failed test leaves nothing running that would keep the test run alive.
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      void cleanupLeftovers().finally(() => reject(new Error(`orchestrator not ready in 90 s: ${err}`)));
    }, 90_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (.*)\n/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(JSON.parse(m[1]!));
      }
    });
    child.once('exit', (code) => (clearTimeout(t), reject(new Error(`orchestrator exited ${code}: ${err}`))));
  });
  return { child, ready };
}

/** Nothing of that run is left in the state file (other runs may share it). */
function assertGone(ready: { runId: string; prometheusPid: number }): void {
  const s = readState();
  assert.deepEqual(s.apps.filter((a) => a.runId === ready.runId), []);
  assert.deepEqual(s.faults.filter((f) => f.runId === ready.runId), []);
  assert.deepEqual(s.prometheus.filter((p) => p.pid === ready.prometheusPid), []);
}

async function tableCount(runId: string): Promise<number> {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres' });
  await c.connect();
  try {
    return Number((await c.query('SELECT count(*) AS n FROM pg_tables WHERE tablename LIKE $1', [`lab_${runId}_%`])).rows[0].n);
  } finally {
    await c.end();
  }
}

test('SIGKILL of the orchestrator with five faults active: cleanupLeftovers leaves nothing behind', { timeout: 150_000 }, async () => {
  const base = 18660;
  await cleanupLeftovers(); // runs of test processes that died, holding our ports
  const { child, ready } = await startOrchestrator(base, false);
  assert.equal(readState().faults.filter((f) => f.runId === ready.runId).length, 5, 'faults recorded before the kill');
  assert.ok(ready.pids.every((p) => p > 0 && alive(p)));
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  // Orphans keep running, faults and all: this is what a crashed run leaves.
  assert.ok(ready.pids.every(alive), 'services outlive the killed orchestrator');
  const proxyMetrics = await (await fetch(`http://127.0.0.1:${base + 12}/metrics`)).text();
  assert.match(proxyMetrics, /lab_proxy_up\{resource="redis"\} 0/, 'the Redis proxy is still there, still cut');
  assert.equal(await tableCount(ready.runId), 4);

  // A live owner's runs are never touched: only leftovers of dead owners.
  const report = await cleanupLeftovers();
  assert.equal(report.faultsRecovered.length, 5);
  assert.deepEqual(report.faultsRecovered.map((f) => f.kind).sort(), ['hang', 'latency', 'misconfig', 'redis-down', 'scale-zero']);
  assert.deepEqual(report.tablesDropped.length, 4);
  for (const p of [...ready.pids, ready.prometheusPid]) assert.ok(report.killed.includes(p), `pid ${p} killed`);
  await sleep(200);
  const left = [...ready.pids, ready.prometheusPid].filter(alive);
  assert.deepEqual(left, [], 'no lab process left');
  for (let port = base; port <= base + 15; port++) assert.equal(await listening(port), false, `port ${port} closed`);
  assert.equal(await tableCount(ready.runId), 0);
  assertGone(ready);
  // Idempotent: a second cleanup finds nothing.
  assert.deepEqual(await cleanupLeftovers(), { killed: [], faultsRecovered: [], tablesDropped: [], keysDeleted: 0 });
});

test('SIGTERM: the lab\'s signal handlers recover every fault and stop everything before exiting', { timeout: 150_000 }, async () => {
  const base = 18680;
  await cleanupLeftovers(); // runs of test processes that died, holding our ports
  const { child, ready } = await startOrchestrator(base, true);
  assert.equal(readState().faults.filter((f) => f.runId === ready.runId).length, 5);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  assert.equal(await exited, 143);
  assert.ok(![...ready.pids, ready.prometheusPid].some(alive), 'no lab process left');
  assert.equal(await tableCount(ready.runId), 0);
  assertGone(ready);
});
