/**
 * runWorkload: open-loop load on the lab app's frontend. Requests leave at their scheduled arrival
 * times whether or not earlier ones answered (a slow service must not slow the load down, or faults
 * would hide themselves), bounded in time, in count and in requests in flight. Loopback only.
 */
import { Agent, request } from 'node:http';
import { mulberry32 } from '../../core/random.ts';
import { ConfigError, InputError } from '../../core/errors.ts';
import type { LabApp, WorkloadSpec, WorkloadStats } from '../types.ts';
import { arrivals } from './arrivals.ts';

export { arrivals, rateAt } from './arrivals.ts';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const MAX_IN_FLIGHT = 256;

/** Throws unless the URL is http on a loopback address. */
export function assertLoopback(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InputError(`workload target ${url} is not a URL`);
  }
  if (u.protocol !== 'http:' || !LOOPBACK.has(u.hostname)) throw new InputError(`workload refused: ${url} is not an http address on 127.0.0.1 (workloads only target the local lab)`);
  return u;
}

function validate(spec: WorkloadSpec): void {
  const issues: Array<{ path: string; message: string }> = [];
  if (!['poisson', 'diurnal', 'burst'].includes(spec.shape)) issues.push({ path: 'shape', message: 'poisson | diurnal | burst' });
  if (!(spec.rps > 0 && spec.rps <= 2000)) issues.push({ path: 'rps', message: 'a rate in (0, 2000]' });
  if (!(spec.durationMs > 0 && spec.durationMs <= 3_600_000)) issues.push({ path: 'durationMs', message: 'in (0, 1 h]' });
  if (!Number.isInteger(spec.seed)) issues.push({ path: 'seed', message: 'an integer' });
  if (issues.length) throw new ConfigError(issues.map((i) => ({ ...i, path: `workload.${i.path}` })));
}

interface Req {
  route: string;
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
}

/** The request mix: browse hotels (60%), reserve (25%), log in (15%). */
function nextRequest(rnd: () => number): Req {
  const r = rnd();
  if (r < 0.6) return { route: '/hotels', method: 'GET', path: `/hotels?lat=${(37.7 + rnd() * 0.2).toFixed(4)}&lon=${(-122.5 + rnd() * 0.2).toFixed(4)}` };
  const user = `user_${Math.floor(rnd() * 50)}`;
  if (r < 0.85) return { route: '/reservation', method: 'POST', path: '/reservation', body: { user, hotelId: 1 + Math.floor(rnd() * 60), rooms: 1 } };
  return { route: '/login', method: 'POST', path: '/login', body: { user } };
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export async function runWorkload(app: Pick<LabApp, 'frontendUrl'>, spec: WorkloadSpec, signal?: AbortSignal): Promise<WorkloadStats> {
  const base = assertLoopback(app.frontendUrl);
  validate(spec);
  const max = spec.maxRequests ?? Math.ceil(spec.rps * (spec.durationMs / 1000) * 3) + 10;
  const times = arrivals(spec, max);
  const rnd = mulberry32(spec.seed ^ 0x5bd1e995);
  const timeoutMs = spec.timeoutMs ?? 2000;
  const agent = new Agent({ keepAlive: true, maxSockets: 128 });
  const stats: WorkloadStats = { sent: 0, ok: 0, errors: 0, dropped: 0, p50Ms: 0, p99Ms: 0, byRoute: {}, durationMs: 0 };
  const lat: number[] = [];
  const inflight = new Set<Promise<void>>();
  const start = Date.now();

  const fire = (r: Req): Promise<void> =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const route = (stats.byRoute[r.route] ??= { sent: 0, errors: 0 });
      stats.sent++;
      route.sent++;
      const done = (ok: boolean) => {
        lat.push(performance.now() - t0);
        if (ok) stats.ok++;
        else {
          stats.errors++;
          route.errors++;
        }
        resolve();
      };
      const payload = r.body === undefined ? undefined : JSON.stringify(r.body);
      const req = request(
        { host: base.hostname.replace(/^\[|\]$/g, ''), port: Number(base.port || 80), method: r.method, path: r.path, agent, headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {} },
        (res) => {
          res.resume();
          res.on('end', () => done((res.statusCode ?? 500) < 500));
          res.on('error', () => done(false));
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
      req.on('error', () => done(false));
      req.end(payload);
    });

  for (const at of times) {
    if (signal?.aborted) break;
    const wait = start + at - Date.now();
    if (wait > 0) {
      await new Promise<void>((r) => {
        const onAbort = () => (clearTimeout(t), r());
        const t = setTimeout(() => (signal?.removeEventListener('abort', onAbort), r()), wait);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      if (signal?.aborted) break;
    }
    if (inflight.size >= MAX_IN_FLIGHT) {
      stats.dropped++;
      continue;
    }
    const p = fire(nextRequest(rnd)).finally(() => inflight.delete(p));
    inflight.add(p);
  }
  await Promise.all(inflight);
  agent.destroy();
  lat.sort((a, b) => a - b);
  stats.p50Ms = quantile(lat, 0.5);
  stats.p99Ms = quantile(lat, 0.99);
  stats.durationMs = Date.now() - start;
  return stats;
}
