/**
 * startApp: the hotel-reservation application as real processes (one per service, plus one for the
 * PostgreSQL/Redis proxies), its tables and keys, and the operations agents and faults act through
 * (restart, config + rollback, scale, fault endpoints). Everything it starts is recorded in the lab
 * state file first, so cleanupLeftovers() can undo it if this process dies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, NotFoundError, PanoptesError } from '../../core/errors.ts';
import { silentLogger } from '../../core/logger.ts';
import { newToken, procStart, TOKEN_ENV, updateState } from '../faults/state.ts';
import type { LabApp, LabResourceName, LabServiceName, LogLine, ProxyControl, ScrapeTarget, ServiceConfig, ServiceFaultState, ServiceInfo, StartAppOptions } from '../types.ts';
import { hashPassword } from './handlers.ts';
import { deleteKeys, dropTables, killProcs } from './teardown.ts';
import { CALLS, HOTELS, LAB_RESOURCES, LAB_SERVICES, STORES, USERS, depsOf, portOf, tableNames } from './topology.ts';

export { LAB_RESOURCES, LAB_SERVICES, CALLS, STORES } from './topology.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
/** How long a service or the proxy may take to answer /health after its start: eight processes
 *  loading TypeScript at once on a busy two-core machine can take most of a minute. */
const START_TIMEOUT_MS = 60_000;
const ROOT = resolve(HERE, '..', '..', '..');

/** POST JSON to 127.0.0.1:<port><path>; resolves with the status. */
export function postJson(port: number, path: string, body: unknown, timeoutMs = 2000): Promise<number> {
  return new Promise((res, rej) => {
    const payload = JSON.stringify(body);
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (r) => {
      r.resume();
      r.on('end', () => res(r.statusCode ?? 0));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout POST :${port}${path}`)));
    req.on('error', rej);
    req.end(payload);
  });
}

export function getStatus(port: number, path: string, timeoutMs = 1000): Promise<number> {
  return new Promise((res) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (r) => {
      r.resume();
      r.on('end', () => res(r.statusCode ?? 0));
    });
    req.setTimeout(timeoutMs, () => req.destroy());
    req.on('error', () => res(0));
    req.end();
  });
}

async function waitHealthy(port: number, path: string, timeoutMs: number, what: string, child?: ChildProcess): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (child && child.exitCode !== null) throw new PanoptesError('PANOPTES_INTERNAL', `${what} exited with code ${child.exitCode} during start`);
    if ((await getStatus(port, path, 500)) === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new PanoptesError('PANOPTES_TIMEOUT', `${what} not healthy on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  // A child of `node --test` would otherwise report to the test runner instead of running.
  delete env.NODE_TEST_CONTEXT;
  return env;
}

/** Resolves with the ports (of those given) where something already listens. */
async function portsInUse(ports: number[]): Promise<number[]> {
  const { createServer } = await import('node:net');
  const busy = await Promise.all(
    ports.map(
      (port) =>
        new Promise<boolean>((res) => {
          const s = createServer();
          s.once('error', () => res(true));
          s.listen(port, '127.0.0.1', () => s.close(() => res(false)));
        }),
    ),
  );
  return ports.filter((_, i) => busy[i]);
}

async function checkRedis(rc: { host: string; port: number }): Promise<void> {
  const { oneShotRedis } = await import('./redis.ts');
  let r: import('ioredis').Redis | undefined;
  try {
    r = await oneShotRedis(rc.host, rc.port, 3000);
    const pong = await r.ping();
    if (pong !== 'PONG') throw new Error(`PING answered ${String(pong)}`);
  } catch (e) {
    throw new PanoptesError(
      'PANOPTES_CONNECT',
      `the lab app needs the machine's Redis at ${rc.host}:${rc.port} and cannot reach it: ${(e as Error).message}. Start it (Debian: apt-get install redis-server) or pass startApp({redis: {...}})`,
      { cause: e, retriable: true },
    );
  } finally {
    r?.disconnect();
  }
}

async function createSchema(pgc: { host: string; port: number; database: string; user?: string }, runId: string, seed: number): Promise<void> {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ host: pgc.host, port: pgc.port, database: pgc.database, user: pgc.user ?? 'postgres', connectionTimeoutMillis: 5000 });
  try {
    await c.connect();
  } catch (e) {
    throw new PanoptesError(
      'PANOPTES_CONNECT',
      `the lab app needs the machine's PostgreSQL at ${pgc.host}:${pgc.port} (database ${pgc.database}, user ${pgc.user ?? 'postgres'}, trust auth on 127.0.0.1) and cannot reach it: ${(e as Error).message}. ` +
        `Start it (Debian: apt-get install postgresql, then createdb test and a 'host all all 127.0.0.1/32 trust' line in pg_hba.conf) or pass startApp({postgres: {...}})`,
      { cause: e, retriable: true },
    );
  }
  const t = tableNames(runId);
  try {
    await c.query(`CREATE TABLE ${t.hotels} (id int PRIMARY KEY, name text NOT NULL, city text NOT NULL)`);
    await c.query(`CREATE TABLE ${t.rates} (hotel_id int PRIMARY KEY, price numeric NOT NULL)`);
    await c.query(`CREATE TABLE ${t.reservations} (id serial PRIMARY KEY, hotel_id int NOT NULL, username text NOT NULL, rooms int NOT NULL, at timestamptz DEFAULT now())`);
    await c.query(`CREATE INDEX ON ${t.reservations} (hotel_id)`);
    await c.query(`CREATE TABLE ${t.users} (name text PRIMARY KEY, pw_hash text NOT NULL)`);
    const hotels: string[] = [];
    const rates: string[] = [];
    for (let i = 1; i <= HOTELS; i++) {
      hotels.push(`(${i}, 'Hotel ${i}', 'City ${(i % 7) + 1}')`);
      rates.push(`(${i}, ${80 + ((i * 37 + seed) % 220)})`);
    }
    await c.query(`INSERT INTO ${t.hotels} VALUES ${hotels.join(',')}`);
    await c.query(`INSERT INTO ${t.rates} VALUES ${rates.join(',')}`);
    const users = Array.from({ length: USERS }, (_, i) => `('user_${i}', '${hashPassword(`user_${i}`)}')`);
    await c.query(`INSERT INTO ${t.users} VALUES ${users.join(',')}`);
  } finally {
    await c.end();
  }
}

export async function startApp(opts: StartAppOptions): Promise<LabApp> {
  const log = opts.log ?? silentLogger;
  const basePort = opts.basePort;
  if (!Number.isInteger(basePort) || basePort < 1024 || basePort + 12 > 65535) throw new ConfigError([{ path: 'basePort', message: 'an integer port >= 1024 with 12 free ports above it' }]);
  const seed = opts.seed ?? 1;
  const pgc = { host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres', ...opts.postgres };
  const rc = { host: '127.0.0.1', port: 6379, ...opts.redis };
  const ours = [...LAB_SERVICES.map((n) => portOf(basePort, n)), portOf(basePort, 'postgres-proxy'), portOf(basePort, 'redis-proxy'), portOf(basePort, 'proxy-admin')];
  const busy = await portsInUse(ours);
  if (busy.length) {
    throw new PanoptesError('PANOPTES_CONFIG', `lab ports ${busy.join(', ')} on 127.0.0.1 are in use (a leftover lab run? cleanupLeftovers() stops those of dead orchestrators)`);
  }
  await checkRedis(rc);
  const runId = `r${Date.now().toString(36).slice(-5)}${randomBytes(2).toString('hex')}`;
  const runDir = resolve(opts.runDir);
  // In every process's environment: cleanup acts only on processes that carry it.
  const token = newToken();
  mkdirSync(join(runDir, 'config'), { recursive: true });
  mkdirSync(join(runDir, 'logs'), { recursive: true });
  const tables = Object.values(tableNames(runId));
  const redisPrefix = `lab:${runId}:`;

  // Recorded before anything exists, so a crash from here on is cleaned up.
  updateState((s) => {
    s.apps.push({ runId, token, runDir, ownerPid: process.pid, procs: [], tables, redisPrefix, postgres: pgc, redis: rc });
  });
  const recordPids = () =>
    updateState((s) => {
      const a = s.apps.find((x) => x.runId === runId);
      if (a) a.procs = [...a.procs.filter((p) => !procs.has(p.pid)), ...procs.values()];
    });

  const children = new Map<string, ChildProcess>();
  const workers = new Map<LabServiceName, number>();
  const faults = new Map<LabServiceName, ServiceFaultState>();
  const history = new Map<LabServiceName, ServiceConfig[]>();
  /** Every process started, with its start time (recorded in the state file). */
  const procs = new Map<number, { pid: number; start: number }>();

  const configPath = (name: LabServiceName) => join(runDir, 'config', `${name}.json`);
  const readConfig = (name: LabServiceName): ServiceConfig => JSON.parse(readFileSync(configPath(name), 'utf8')) as ServiceConfig;
  const writeConfig = (name: LabServiceName, c: ServiceConfig) => writeFileSync(configPath(name), JSON.stringify(c, null, 2) + '\n');

  for (const name of LAB_SERVICES) {
    const deps: ServiceConfig['deps'] = {};
    for (const d of depsOf(name)) {
      deps[d] = `127.0.0.1:${d === 'postgres' ? portOf(basePort, 'postgres-proxy') : d === 'redis' ? portOf(basePort, 'redis-proxy') : portOf(basePort, d as LabServiceName)}`;
    }
    writeConfig(name, { deps, workers: 8, timeoutMs: 1500 });
  }

  const spawnLogged = (key: string, file: string, env: Record<string, string>): ChildProcess => {
    const fd = openSync(join(runDir, 'logs', `${key}.log`), 'a');
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, env: childEnv({ ...env, LAB_RUN_ID: runId, [TOKEN_ENV]: token }), stdio: ['ignore', fd, fd] });
      children.set(key, child);
      const start = child.pid ? procStart(child.pid) : null;
      if (child.pid && start !== null) procs.set(child.pid, { pid: child.pid, start });
      child.on('exit', (code, signal) => log.info('lab process exited', { process: key, code, signal }));
      return child;
    } finally {
      closeSync(fd);
    }
  };

  const startService = async (name: LabServiceName): Promise<void> => {
    const c = spawnLogged(name, join(HERE, 'service.ts'), {
      LAB_SERVICE: name,
      LAB_PORT: String(portOf(basePort, name)),
      LAB_CONFIG: configPath(name),
      LAB_SEED: String(seed),
      LAB_PG_DB: pgc.database,
      LAB_PG_USER: pgc.user,
    });
    recordPids();
    await waitHealthy(portOf(basePort, name), '/health', START_TIMEOUT_MS, `lab service ${name}`, c);
    faults.set(name, {});
    workers.set(name, readConfig(name).workers);
  };

  const stopProcess = async (key: string): Promise<void> => {
    const c = children.get(key);
    if (!c?.pid || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    // A frozen (SIGSTOPped) process only acts on SIGTERM once continued.
    c.kill('SIGCONT');
    const t = setTimeout(() => c.kill('SIGKILL'), 1500);
    await exited;
    clearTimeout(t);
  };

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all([...children.keys()].map(stopProcess));
    await killProcs([...procs.values()], token, 200);
    const errs: unknown[] = [];
    await dropTables(pgc, tables).catch((e) => errs.push(e));
    await deleteKeys(rc, redisPrefix).catch((e) => errs.push(e));
    updateState((s) => {
      s.apps = s.apps.filter((a) => a.runId !== runId);
      s.faults = s.faults.filter((f) => f.runId !== runId);
    });
    if (errs.length) log.warn('lab app teardown incomplete', { errors: errs.map(String) });
  };

  try {
    await createSchema(pgc, runId, seed);
    const proxyConf = {
      admin: portOf(basePort, 'proxy-admin'),
      routes: [
        { resource: 'postgres', port: portOf(basePort, 'postgres-proxy'), upstream: `${pgc.host}:${pgc.port}` },
        { resource: 'redis', port: portOf(basePort, 'redis-proxy'), upstream: `${rc.host}:${rc.port}` },
      ],
    };
    const proxy = spawnLogged('proxy', join(HERE, 'proxy.ts'), { LAB_PROXY: JSON.stringify(proxyConf) });
    recordPids();
    await Promise.all([waitHealthy(proxyConf.admin, '/health', START_TIMEOUT_MS, 'lab proxy', proxy), ...LAB_SERVICES.map(startService)]);
    log.info('lab app started', { runId, basePort, services: LAB_SERVICES.length });
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }

  const info = (name: LabServiceName): ServiceInfo => {
    if (!LAB_SERVICES.includes(name)) throw new NotFoundError(`no lab service ${name}`);
    const c = children.get(name);
    const alive = !!c && c.exitCode === null && c.signalCode === null;
    const port = portOf(basePort, name);
    return { name, port, url: `http://127.0.0.1:${port}`, pid: alive ? c.pid ?? 0 : 0, workers: workers.get(name) ?? 0, calls: [...CALLS[name]], stores: [...STORES[name]] };
  };

  const restart = async (name: LabServiceName): Promise<void> => {
    info(name);
    await stopProcess(name);
    await startService(name);
    log.info('lab service restarted', { service: name });
  };

  const proxy = (resource: LabResourceName): ProxyControl => {
    if (!LAB_RESOURCES.includes(resource)) throw new NotFoundError(`no lab resource ${resource}`);
    const admin = portOf(basePort, 'proxy-admin');
    const post = async (body: unknown) => {
      const code = await postJson(admin, `/admin/${resource}`, body);
      if (code !== 200) throw new PanoptesError('PANOPTES_INTERNAL', `lab proxy refused ${JSON.stringify(body)} (${code})`);
    };
    return {
      resource,
      address: `127.0.0.1:${portOf(basePort, resource === 'postgres' ? 'postgres-proxy' : 'redis-proxy')}`,
      setDelay: (ms) => post({ delayMs: ms }),
      setCut: (cut) => post({ cut }),
    };
  };

  const app: LabApp = {
    runId,
    runDir,
    frontendUrl: `http://127.0.0.1:${portOf(basePort, 'frontend')}`,
    services: () => LAB_SERVICES.map(info),
    service: info,
    scrapeTargets: (): ScrapeTarget[] => [...LAB_SERVICES.map((n) => ({ name: n as string, port: portOf(basePort, n) })), { name: 'proxy', port: portOf(basePort, 'proxy-admin') }],
    restart,
    config: (name) => (info(name), readConfig(name)),
    setConfig: (name, patch) => {
      info(name);
      const cur = readConfig(name);
      history.set(name, [...(history.get(name) ?? []), cur]);
      writeConfig(name, { ...cur, ...patch, deps: { ...cur.deps, ...(patch.deps ?? {}) } });
    },
    rollbackConfig: async (name) => {
      info(name);
      const h = history.get(name) ?? [];
      const prev = h.pop();
      if (!prev) throw new NotFoundError(`no earlier config of ${name} to roll back to`);
      history.set(name, h);
      // Workers are runtime scale, not part of what a rollback undoes.
      writeConfig(name, { ...prev, workers: readConfig(name).workers });
      await restart(name);
    },
    scale: async (name, n) => {
      info(name);
      if (!Number.isInteger(n) || n < 0 || n > 64) throw new ConfigError([{ path: 'workers', message: 'an integer 0..64' }]);
      const code = await postJson(portOf(basePort, name), '/admin/workers', { workers: n });
      if (code !== 200) throw new PanoptesError('PANOPTES_INTERNAL', `scale ${name} failed (${code})`);
      workers.set(name, n);
      writeConfig(name, { ...readConfig(name), workers: n });
    },
    healthy: async (name) => info(name).pid > 0 && (await getStatus(portOf(basePort, name), '/health', 1000)) === 200,
    logs: (name, o = {}) => {
      info(name);
      const file = join(runDir, 'logs', `${name}.log`);
      if (!existsSync(file)) return [];
      const out: LogLine[] = [];
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const l = JSON.parse(line) as LogLine;
          if (o.sinceMs === undefined || l.ts >= o.sinceMs) out.push(l);
        } catch {
          /* a partial last line */
        }
      }
      return o.limit ? out.slice(-o.limit) : out;
    },
    proxy,
    setServiceFault: async (name, patch) => {
      info(name);
      const next: ServiceFaultState = { ...(faults.get(name) ?? {}), ...patch };
      for (const k of Object.keys(next) as Array<keyof ServiceFaultState>) if (!next[k]) delete next[k];
      const code = await postJson(portOf(basePort, name), '/admin/fault', next);
      if (code !== 200) throw new PanoptesError('PANOPTES_INTERNAL', `fault endpoint of ${name} answered ${code}`);
      faults.set(name, next);
    },
    stop,
  };
  return app;
}
