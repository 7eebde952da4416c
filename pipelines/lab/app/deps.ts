/**
 * A service's dependencies as the handlers see them: other services over HTTP, PostgreSQL through a
 * pg pool, Redis through ioredis (app/redis.ts), every call timed and counted by dependency. Only the
 * clients a service needs are loaded (pg is the heaviest import).
 */
import type { LabServiceName, ServiceConfig } from '../types.ts';
import { callJson, HttpError } from './http-client.ts';
import { STORES, tableNames } from './topology.ts';

export type Timed = <T>(dep: string, fn: () => Promise<T>) => Promise<T>;

export interface Deps {
  call(service: LabServiceName, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown>;
  sql<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  redis(...args: Array<string | number>): Promise<unknown>;
  tables: ReturnType<typeof tableNames>;
  /** Redis key prefix of this run */
  prefix: string;
  close(): Promise<void>;
}

function addr(config: ServiceConfig, dep: string): string {
  const a = (config.deps as Record<string, string | undefined>)[dep];
  if (!a) throw new HttpError(500, `no address configured for ${dep}`);
  return a;
}

export async function makeDeps(name: LabServiceName, config: ServiceConfig, runId: string, timed: Timed): Promise<Deps> {
  const timeoutMs = config.timeoutMs;
  let pool: import('pg').Pool | undefined;
  if (STORES[name].includes('postgres')) {
    const pg = (await import('pg')).default;
    const [host, port] = addr(config, 'postgres').split(':');
    pool = new pg.Pool({
      host,
      port: Number(port),
      database: process.env.LAB_PG_DB ?? 'test',
      user: process.env.LAB_PG_USER ?? 'postgres',
      max: 4,
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
      idleTimeoutMillis: 10_000,
    });
    // A cut proxy kills idle clients too; the pool reports it here and drops them.
    pool.on('error', () => undefined);
  }
  let redis: import('ioredis').Redis | undefined;
  let ready: (r: import('ioredis').Redis) => Promise<void> = async () => undefined;
  if (STORES[name].includes('redis')) {
    const [host, port] = addr(config, 'redis').split(':');
    const { serviceRedis, whenReady } = await import('./redis.ts');
    redis = await serviceRedis(host!, Number(port), timeoutMs);
    ready = whenReady;
  }
  return {
    call: (service, method, path, body) =>
      timed(service, async () => {
        try {
          return await callJson(addr(config, service), method, path, body, timeoutMs);
        } catch (e) {
          // Name the callee, as a real client library would: logs then say whom a failure came from.
          throw e instanceof HttpError ? new HttpError(e.status, `calling ${service}: ${e.message}`) : e;
        }
      }),
    sql: async <R>(text: string, params: unknown[] = []) => {
      if (!pool) throw new HttpError(500, 'postgres not configured');
      const p = pool;
      return timed('postgres', async () => {
        try {
          return (await p.query(text, params)).rows as R[];
        } catch (e) {
          throw new HttpError(500, `postgres: ${(e as Error).message}`);
        }
      });
    },
    redis: (...args) => {
      if (!redis) throw new HttpError(500, 'redis not configured');
      const r = redis;
      return timed('redis', async () => {
        try {
          const [cmd, ...rest] = args;
          await ready(r);
          return await r.call(String(cmd), ...rest);
        } catch (e) {
          throw new HttpError(500, `redis: ${(e as Error).message}`);
        }
      });
    },
    tables: tableNames(runId),
    prefix: `lab:${runId}:`,
    close: async () => {
      redis?.disconnect();
      await pool?.end().catch(() => undefined);
    },
  };
}
