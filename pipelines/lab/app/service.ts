/**
 * One lab service process (entry point; spawned by app/index.ts with `node --import tsx`). Which
 * service it is comes from the environment; its dependency addresses from its config file, read once
 * at start (so a changed config takes effect on restart, as in a real deployment).
 *
 * Per service: HTTP on 127.0.0.1 (fastify, through core/http.ts, with body schemas on the admin
 * routes), prom-client metrics on /metrics, JSON logs on stdout (the parent
 * points stdout at runDir/logs/<name>.log), a concurrency limit ("workers") changed live over
 * POST /admin/workers, and in-process faults (latency, errors, CPU hog, memory leak) over
 * POST /admin/fault. Imports are kept few so seven of these start in a few seconds on two cores.
 */
import { readFileSync } from 'node:fs';
import { createHttpServer } from '../../core/http.ts';
import client from 'prom-client';
import type { LabServiceName, ServiceConfig, ServiceFaultState } from '../types.ts';
import { handlersFor, type Handler } from './handlers.ts';
import type { Deps } from './deps.ts';
import { HttpError } from './http-client.ts';

const name = process.env.LAB_SERVICE as LabServiceName;
const port = Number(process.env.LAB_PORT);
const runId = process.env.LAB_RUN_ID ?? 'x';
const config = JSON.parse(readFileSync(process.env.LAB_CONFIG!, 'utf8')) as ServiceConfig;

function log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(JSON.stringify({ ts: Date.now(), level, service: name, msg, ...fields }) + '\n');
}

// --- metrics -------------------------------------------------------------------------------------
const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });
const requests = new client.Counter({ name: 'lab_http_requests_total', help: 'HTTP requests served, by route and status code', labelNames: ['route', 'code'], registers: [registry] });
const duration = new client.Histogram({
  name: 'lab_http_request_duration_seconds',
  help: 'HTTP request latency, by route',
  labelNames: ['route'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});
const errorsTotal = new client.Counter({ name: 'lab_http_errors_total', help: 'HTTP responses with status >= 500, by route', labelNames: ['route'], registers: [registry] });
const depRequests = new client.Counter({ name: 'lab_dependency_requests_total', help: 'Calls to dependencies (services, postgres, redis), by outcome', labelNames: ['dep', 'outcome'], registers: [registry] });
const depDuration = new client.Histogram({
  name: 'lab_dependency_duration_seconds',
  help: 'Latency of calls to dependencies',
  labelNames: ['dep'],
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});
const workersGauge = new client.Gauge({ name: 'lab_workers', help: 'Concurrent request slots (0 = scaled to zero)', registers: [registry] });
const inflightGauge = new client.Gauge({ name: 'lab_inflight_requests', help: 'Requests being handled', registers: [registry] });
const faultGauge = new client.Gauge({ name: 'lab_fault_active', help: 'In-process fault settings (for the lab, never for agents)', labelNames: ['fault'], registers: [registry] });

// --- faults --------------------------------------------------------------------------------------
let fault: ServiceFaultState = {};
let hogTimer: NodeJS.Timeout | undefined;
let leakTimer: NodeJS.Timeout | undefined;
const leaked: Buffer[] = [];

function applyFault(next: ServiceFaultState): void {
  fault = next;
  for (const k of ['latencyMs', 'errorRate', 'cpuHog', 'leakBytesPerS'] as const) faultGauge.set({ fault: k }, fault[k] ?? 0);
  if (hogTimer) clearInterval(hogTimer);
  hogTimer = undefined;
  const share = Math.min(0.98, fault.cpuHog ?? 0);
  if (share > 0) {
    // Busy-loop `share` of every 100 ms slice: the process's CPU rate goes to about `share`.
    hogTimer = setInterval(() => {
      const end = performance.now() + 100 * share;
      let x = 0;
      while (performance.now() < end) x += Math.sqrt(x + 1);
      if (x < 0) log('debug', 'unreachable');
    }, 100);
  }
  if (leakTimer) clearInterval(leakTimer);
  leakTimer = undefined;
  const rate = fault.leakBytesPerS ?? 0;
  if (rate > 0) {
    // Filled buffers (not just allocated) so the pages are resident and RSS grows.
    leakTimer = setInterval(() => leaked.push(Buffer.alloc(Math.ceil(rate / 10), 1)), 100);
  } else {
    leaked.length = 0;
  }
  // Deliberately not logged: agents read these logs, and the lab's own switch would give the answer away.
}

// --- concurrency limit ("workers") ----------------------------------------------------------------
let workers = Math.max(0, Math.floor(config.workers));
let inflight = 0;
const waiting: Array<{ go: () => void; fail: () => void }> = [];
const MAX_QUEUE = 100;
workersGauge.set(workers);

function acquire(): Promise<boolean> {
  if (workers === 0) return Promise.resolve(false);
  if (inflight < workers) {
    inflight++;
    return Promise.resolve(true);
  }
  if (waiting.length >= MAX_QUEUE) return Promise.resolve(false);
  return new Promise((resolve) => {
    const entry = {
      go: () => {
        clearTimeout(timer);
        inflight++;
        resolve(true);
      },
      fail: () => {
        clearTimeout(timer);
        resolve(false);
      },
    };
    const timer = setTimeout(() => {
      const i = waiting.indexOf(entry);
      if (i >= 0) waiting.splice(i, 1);
      resolve(false);
    }, 2000);
    waiting.push(entry);
  });
}

function release(): void {
  inflight--;
  while (inflight < workers && waiting.length) waiting.shift()!.go();
}

function setWorkers(n: number): void {
  workers = Math.max(0, Math.floor(n));
  workersGauge.set(workers);
  while (inflight < workers && waiting.length) waiting.shift()!.go();
  if (workers === 0) while (waiting.length) waiting.shift()!.fail();
  log('warn', 'workers changed', { workers });
}

// --- dependencies ----------------------------------------------------------------------------------
const deps: Deps = await (async () => {
  const timed = async <T>(dep: string, fn: () => Promise<T>): Promise<T> => {
    const end = depDuration.startTimer({ dep });
    try {
      const v = await fn();
      depRequests.inc({ dep, outcome: 'ok' });
      return v;
    } catch (e) {
      depRequests.inc({ dep, outcome: 'error' });
      throw e;
    } finally {
      end();
    }
  };
  const { makeDeps } = await import('./deps.ts');
  return makeDeps(name, config, runId, timed);
})();

const handlers: Partial<Record<string, Handler>> = handlersFor(name, deps, Number(process.env.LAB_SEED ?? 1));

// --- server ----------------------------------------------------------------------------------------
const app = createHttpServer({ name: `lab ${name}`, bodyLimit: 64 * 1024, metrics: { registry }, requestTimeoutMs: 30_000 });
app.server.keepAliveTimeout = 5000;

app.get('/health', async () => ({ ok: true, service: name, workers }));
app.post('/admin/fault', {
  schema: {
    body: {
      type: 'object',
      additionalProperties: false,
      properties: { latencyMs: { type: 'number', minimum: 0 }, errorRate: { type: 'number', minimum: 0, maximum: 1 }, cpuHog: { type: 'number', minimum: 0, maximum: 1 }, leakBytesPerS: { type: 'number', minimum: 0 } },
    },
  },
  handler: async (req) => {
    applyFault(req.body as ServiceFaultState);
    return { fault };
  },
});
app.post('/admin/workers', {
  schema: { body: { type: 'object', additionalProperties: false, required: ['workers'], properties: { workers: { type: 'integer', minimum: 0, maximum: 64 } } } },
  handler: async (req) => {
    setWorkers((req.body as { workers: number }).workers);
    return { workers };
  },
});

let served = 0;
/** One application request: workers, the in-process faults, the handler; metrics and logs. */
async function serve(route: string, handler: Handler, input: Record<string, unknown>): Promise<{ code: number; body: unknown }> {
  const end = duration.startTimer({ route });
  let code = 200;
  let body: unknown;
  let slot = false;
  try {
    slot = await acquire();
    if (!slot) throw new HttpError(503, workers === 0 ? 'no workers (scaled to zero)' : 'overloaded');
    inflightGauge.set(inflight);
    if (fault.latencyMs) await new Promise((r) => setTimeout(r, fault.latencyMs));
    if (fault.errorRate && Math.random() < fault.errorRate) throw new HttpError(500, 'internal error');
    body = await handler(input);
  } catch (e) {
    code = e instanceof HttpError ? e.status : 500;
    body = { error: e instanceof Error ? e.message : String(e) };
  } finally {
    if (slot) release();
    inflightGauge.set(inflight);
  }
  requests.inc({ route, code: String(code) });
  if (code >= 500) errorsTotal.inc({ route });
  const seconds = end();
  served++;
  // Every failure is logged; successes are sampled so the log stays readable under load.
  if (code >= 500) log('error', 'request failed', { route, code, ms: Math.round(seconds * 1000), error: (body as { error?: string }).error });
  else if (code >= 400) log('warn', 'request rejected', { route, code, error: (body as { error?: string }).error });
  else if (served % 50 === 1) log('info', 'request served', { route, code, ms: Math.round(seconds * 1000) });
  return { code, body };
}

for (const [key, handler] of Object.entries(handlers)) {
  if (!handler) continue;
  const [method, path] = key.split(' ') as ['GET' | 'POST', string];
  app.route({
    method,
    url: path,
    ...(method === 'POST' ? { schema: { body: { type: 'object' } } } : {}),
    handler: async (req, reply) => {
      const input = (method === 'POST' ? req.body : req.query) as Record<string, unknown>;
      const { code, body } = await serve(path, handler, input ?? {});
      return reply.code(code).send(body);
    },
  });
}

await app.listen({ host: '127.0.0.1', port });
log('info', 'listening', { port, workers, deps: config.deps });
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    log('info', 'stopping', { signal: sig });
    void app.close();
    deps.close().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  });
}
