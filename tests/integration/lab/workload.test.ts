/**
 * The workload generator: loopback only, seeded (same seed, same arrivals), shaped (bursts and the
 * diurnal curve show in the arrival counts), bounded in time and count, open loop (a slow server
 * does not slow the arrivals), and its stats count what the server saw.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { arrivals, runWorkload, assertLoopback } from '../../../pipelines/lab/workload/index.ts';

const seen: Array<{ method: string; path: string; at: number }> = [];
let delayMs = 0;
const server = createServer((req, res) => {
  seen.push({ method: req.method!, path: req.url!, at: Date.now() });
  req.resume();
  setTimeout(() => {
    const fail = req.url!.startsWith('/login');
    res.writeHead(fail ? 500 : 200).end('{}');
  }, delayMs);
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(() => {
  server.closeAllConnections();
  server.close();
});

test('refuses any target that is not http on loopback, before sending anything', async () => {
  for (const bad of ['http://10.0.0.7:8080', 'http://192.168.1.2', 'http://example.invalid', 'https://127.0.0.1:443', 'http://0.0.0.0:80', 'not a url']) {
    await assert.rejects(runWorkload({ frontendUrl: bad }, { shape: 'poisson', rps: 5, durationMs: 200, seed: 1 }), /refused|not a URL/, bad);
  }
  assert.equal(seen.length, 0);
  assert.equal(assertLoopback('http://localhost:1234').port, '1234');
  await assert.rejects(runWorkload({ frontendUrl: url }, { shape: 'poisson', rps: 0, durationMs: 200, seed: 1 }), /rps/);
  await assert.rejects(runWorkload({ frontendUrl: url }, { shape: 'poisson', rps: 5, durationMs: 7_200_000, seed: 1 }), /durationMs/);
});

test('arrivals are seeded and shaped', () => {
  const spec = { shape: 'poisson' as const, rps: 50, durationMs: 20_000, seed: 7 };
  assert.deepEqual(arrivals(spec, 1e6), arrivals(spec, 1e6));
  assert.notDeepEqual(arrivals(spec, 1e6), arrivals({ ...spec, seed: 8 }, 1e6));
  const n = arrivals(spec, 1e6).length;
  assert.ok(Math.abs(n - 1000) < 120, `poisson count ${n} ~ 1000`);
  const burst = arrivals({ shape: 'burst', rps: 20, durationMs: 20_000, seed: 3, burst: { everyMs: 5000, lengthMs: 1000, factor: 6 } }, 1e6);
  const inBurst = burst.filter((t) => t % 5000 >= 4000).length;
  assert.ok(inBurst / 4 > 80 && (burst.length - inBurst) / 16 < 30, `burst seconds ${inBurst / 4}/s vs base ${(burst.length - inBurst) / 16}/s`);
  const diurnal = arrivals({ shape: 'diurnal', rps: 40, durationMs: 20_000, seed: 4 }, 1e6);
  const trough = diurnal.filter((t) => t < 2000 || t >= 18_000).length;
  const peak = diurnal.filter((t) => t >= 8000 && t < 12_000).length;
  assert.ok(peak > 2.5 * trough, `diurnal peak ${peak} vs trough ${trough}`);
  assert.equal(arrivals(spec, 10).length, 10, 'count bound');
  assert.ok(arrivals(spec, 1e6).every((t) => t >= 0 && t < spec.durationMs));
});

test('runs open loop against a slow server, bounded in time and count, with stats', { timeout: 20_000 }, async () => {
  seen.length = 0;
  delayMs = 300;
  const t0 = Date.now();
  const stats = await runWorkload({ frontendUrl: url }, { shape: 'poisson', rps: 40, durationMs: 1500, seed: 11 });
  assert.ok(Date.now() - t0 < 1500 + 2500, 'bounded in time');
  assert.equal(stats.sent, seen.length);
  assert.equal(stats.sent, arrivals({ shape: 'poisson', rps: 40, durationMs: 1500, seed: 11 }, 1e6).length);
  // Open loop: with 300 ms answers a closed loop of one would send ~5; arrivals kept their pace.
  assert.ok(stats.sent > 35, `sent ${stats.sent}`);
  const logins = seen.filter((s) => s.path === '/login').length;
  assert.equal(stats.errors, logins);
  assert.equal(stats.ok + stats.errors, stats.sent);
  assert.ok(stats.p50Ms >= 290 && stats.p99Ms >= stats.p50Ms, `p50 ${stats.p50Ms} p99 ${stats.p99Ms}`);
  assert.ok(stats.byRoute['/hotels']!.sent > stats.byRoute['/login']!.sent);
  delayMs = 0;

  const capped = await runWorkload({ frontendUrl: url }, { shape: 'burst', rps: 100, durationMs: 2000, seed: 2, maxRequests: 17 });
  assert.equal(capped.sent, 17);

  const ctrl = new AbortController();
  setTimeout(() => ctrl.abort(), 300);
  const t1 = Date.now();
  const aborted = await runWorkload({ frontendUrl: url }, { shape: 'poisson', rps: 20, durationMs: 60_000, seed: 2 }, ctrl.signal);
  assert.ok(Date.now() - t1 < 2000, 'stops on abort');
  assert.ok(aborted.sent < 30);
});
