/**
 * Service fault injectors against the real lab app: each fault shows in the target's (or its
 * caller's) Prometheus metrics, is recorded in the lab state file while active, and recover undoes
 * it (new requests are healthy again, the record is gone).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_STATE_FILE, runDir, hit, metric, scrape, sleep, sum } from './helpers.ts';

process.env.PANOPTES_LAB_STATE = TEST_STATE_FILE;
const { startApp } = await import('../../../pipelines/lab/app/index.ts');
const { injectorFor, activeFaults, cleanupLeftovers } = await import('../../../pipelines/lab/faults/index.ts');
type App = Awaited<ReturnType<typeof startApp>>;
let app: App;

before(async () => {
  await cleanupLeftovers(); // runs of test processes that died, holding our ports
  app = await startApp({ runDir: runDir('svc'), basePort: 18600, seed: 3 });
});
after(async () => {
  await app?.stop();
  assert.deepEqual(activeFaults(app?.runId ?? 'none'), [], 'no fault recorded after stop');
});

function url(name: Parameters<App['service']>[0]): string {
  return app.service(name).url;
}

/** Requests of `svc` slower than 250 ms (from its latency histogram). */
async function slowCount(svc: Parameters<App['service']>[0], route: string): Promise<number> {
  const s = await scrape(url(svc));
  return sum(s, 'lab_http_request_duration_seconds_count', { route }) - sum(s, 'lab_http_request_duration_seconds_bucket', { route, le: '0.25' });
}

test('latency: geo answers 400 ms late, visible in its latency histogram; recover removes it', { timeout: 30_000 }, async () => {
  const spec = { kind: 'latency' as const, target: 'geo' as const, params: { latencyMs: 400 } };
  const inj = injectorFor('latency');
  assert.equal(inj.describe(spec).component, 'geo');
  await hit(app.frontendUrl, '/hotels', 3);
  const before0 = await slowCount('geo', '/nearby');
  await inj.inject(app, spec);
  assert.equal(activeFaults(app.runId).length, 1);
  const t0 = performance.now();
  assert.deepEqual(await hit(app.frontendUrl, '/hotels', 3), [200, 200, 200]);
  assert.ok(performance.now() - t0 >= 1200, 'three requests took >= 3 x 400 ms');
  assert.equal((await slowCount('geo', '/nearby')) - before0, 3);
  await inj.recover(app, spec);
  assert.equal(activeFaults(app.runId).length, 0);
  const before1 = await slowCount('geo', '/nearby');
  await hit(app.frontendUrl, '/hotels', 3);
  assert.equal((await slowCount('geo', '/nearby')) - before1, 0, 'no slow geo request after recover');
});

test('errors: rate fails every request with 500, the frontend answers 502; recover stops it', { timeout: 30_000 }, async () => {
  const spec = { kind: 'errors' as const, target: 'rate' as const, params: { errorRate: 1 } };
  const inj = injectorFor('errors');
  const e0 = await metric(url('rate'), 'lab_http_requests_total', { route: '/rates', code: '500' });
  await inj.inject(app, spec);
  const codes = await hit(app.frontendUrl, '/hotels', 5);
  assert.ok(codes.every((c) => c === 502), `frontend codes ${codes}`);
  const e1 = await metric(url('rate'), 'lab_http_requests_total', { route: '/rates', code: '500' });
  assert.equal(e1 - e0, 5);
  assert.ok((await metric(url('search'), 'lab_dependency_requests_total', { dep: 'rate', outcome: 'error' })) >= 5, 'search saw rate fail');
  await inj.recover(app, spec);
  assert.deepEqual(await hit(app.frontendUrl, '/hotels', 5), [200, 200, 200, 200, 200]);
  assert.equal(await metric(url('rate'), 'lab_http_requests_total', { route: '/rates', code: '500' }), e1);
});

test('cpu-hog: profile burns CPU (process_cpu_seconds_total); recover stops it', { timeout: 30_000 }, async () => {
  const spec = { kind: 'cpu-hog' as const, target: 'profile' as const };
  const inj = injectorFor('cpu-hog');
  const cpuOver = async (ms: number) => {
    const a = await metric(url('profile'), 'process_cpu_seconds_total');
    await sleep(ms);
    return ((await metric(url('profile'), 'process_cpu_seconds_total')) - a) / (ms / 1000);
  };
  const idle = await cpuOver(1500);
  await inj.inject(app, spec);
  try {
    await sleep(300);
    const hog = await cpuOver(2000);
    // On a loaded machine the hog gets what the scheduler gives it, but clearly more than idle.
    assert.ok(hog > 0.2 && hog > idle + 0.15, `cpu share under the hog ${hog.toFixed(2)} (idle ${idle.toFixed(2)})`);
  } finally {
    await inj.recover(app, spec);
  }
  await sleep(300);
  const after0 = await cpuOver(2000);
  assert.ok(after0 < 0.12, `cpu share after recover ${after0.toFixed(2)}`);
});

test('memory-leak: user\'s resident memory grows; recover stops the growth', { timeout: 30_000 }, async () => {
  const spec = { kind: 'memory-leak' as const, target: 'user' as const, params: { leakBytesPerS: 20 * 1024 * 1024 } };
  const inj = injectorFor('memory-leak');
  const rss = () => metric(url('user'), 'process_resident_memory_bytes');
  const r0 = await rss();
  await inj.inject(app, spec);
  try {
    await sleep(2500);
    const r1 = await rss();
    assert.ok(r1 - r0 > 20 * 1024 * 1024, `rss grew ${((r1 - r0) / 1048576).toFixed(1)} MiB`);
  } finally {
    await inj.recover(app, spec);
  }
  await sleep(300);
  const r2 = await rss();
  await sleep(2000);
  const r3 = await rss();
  assert.ok(r3 - r2 < 8 * 1024 * 1024, `rss still grew ${((r3 - r2) / 1048576).toFixed(1)} MiB after recover`);
  assert.equal(activeFaults(app.runId).length, 0);
});

test('scale-zero: reservation has no workers and answers 503; recover scales it back', { timeout: 30_000 }, async () => {
  const spec = { kind: 'scale-zero' as const, target: 'reservation' as const };
  const inj = injectorFor('scale-zero');
  assert.deepEqual(inj.describe(spec).mitigation, { op: 'scale', target: 'reservation', workers: 8 });
  await inj.inject(app, spec);
  assert.equal(app.service('reservation').workers, 0);
  assert.equal(await metric(url('reservation'), 'lab_workers'), 0);
  const codes = await hit(app.frontendUrl, '/reservation', 4);
  assert.ok(codes.every((c) => c === 502), `frontend codes ${codes}`);
  assert.equal(await metric(url('reservation'), 'lab_http_requests_total', { route: '/reserve', code: '503' }), 4);
  await inj.recover(app, spec);
  assert.equal(await metric(url('reservation'), 'lab_workers'), 8);
  assert.deepEqual(await hit(app.frontendUrl, '/reservation', 3), [200, 200, 200]);
});

test('crash: search is killed with SIGKILL, frontend calls to it fail; recover restarts it', { timeout: 30_000 }, async () => {
  const spec = { kind: 'crash' as const, target: 'search' as const };
  const inj = injectorFor('crash');
  const pid = app.service('search').pid;
  assert.ok(pid > 0);
  await inj.inject(app, spec);
  assert.equal(app.service('search').pid, 0);
  assert.throws(() => process.kill(pid, 0), 'the old process is gone');
  assert.equal(await app.healthy('search'), false);
  const e0 = await metric(app.frontendUrl, 'lab_dependency_requests_total', { dep: 'search', outcome: 'error' });
  const since = Date.now();
  assert.deepEqual(await hit(app.frontendUrl, '/hotels', 3), [502, 502, 502]);
  assert.equal((await metric(app.frontendUrl, 'lab_dependency_requests_total', { dep: 'search', outcome: 'error' })) - e0, 3);
  // The frontend's JSON log names the failing callee (what a log-reading agent has to go on).
  const failed = app.logs('frontend', { sinceMs: since }).filter((l) => l.level === 'error');
  assert.equal(failed.length, 3);
  assert.ok(failed.every((l) => l.service === 'frontend' && l.route === '/hotels' && l.code === 502 && /calling search: .*ECONNREFUSED/.test(String(l.error))), JSON.stringify(failed[0]));
  assert.equal(app.logs('frontend', { sinceMs: since, limit: 2 }).length, 2);
  await inj.recover(app, spec);
  assert.ok(app.service('search').pid > 0 && app.service('search').pid !== pid);
  assert.deepEqual(await hit(app.frontendUrl, '/hotels', 3), [200, 200, 200]);
});

test('misconfig: user points postgres at a dead port; recover rolls the config back', { timeout: 30_000 }, async () => {
  const spec = { kind: 'misconfig' as const, target: 'user' as const, params: { dependency: 'postgres' as const } };
  const inj = injectorFor('misconfig');
  const good = app.config('user').deps.postgres;
  assert.equal(inj.describe(spec).mitigation.op, 'rollback-config');
  await inj.inject(app, spec);
  assert.notEqual(app.config('user').deps.postgres, good);
  const codes = await hit(app.frontendUrl, '/login', 3);
  assert.ok(codes.every((c) => c === 502), `frontend codes ${codes}`);
  assert.equal(await metric(url('user'), 'lab_dependency_requests_total', { dep: 'postgres', outcome: 'error' }), 3);
  assert.equal(await metric(url('user'), 'lab_http_requests_total', { route: '/login', code: '500' }), 3);
  await inj.recover(app, spec);
  assert.equal(app.config('user').deps.postgres, good);
  assert.deepEqual(await hit(app.frontendUrl, '/login', 3), [200, 200, 200]);
  assert.equal(activeFaults(app.runId).length, 0);
});

test('hang: rate frozen with SIGSTOP, callers time out; the restart mitigation works and recover is idempotent', { timeout: 30_000 }, async () => {
  const spec = { kind: 'hang' as const, target: 'rate' as const };
  const inj = injectorFor('hang');
  const pid = app.service('rate').pid;
  const e0 = await metric(url('search'), 'lab_dependency_requests_total', { dep: 'rate', outcome: 'error' });
  await inj.inject(app, spec);
  try {
    assert.equal(await app.healthy('rate'), false);
    const t0 = performance.now();
    const codes = await hit(app.frontendUrl, '/hotels', 2);
    // search times out on rate, and the frontend on search (same 1.5 s timeouts): 504 or 502.
    assert.ok(codes.every((c) => c === 504 || c === 502), `codes ${codes}`);
    assert.ok(performance.now() - t0 >= 2 * 1400, 'each call waited for the 1.5 s timeout');
    // search's own timeout on rate may fire a moment after the frontend's timeout on search.
    let failed = 0;
    for (let i = 0; i < 20 && failed < 2; i++, await sleep(100)) failed = (await metric(url('search'), 'lab_dependency_requests_total', { dep: 'rate', outcome: 'error' })) - e0;
    assert.equal(failed, 2);
    await app.restart('rate'); // the mitigation: a frozen process is killed and replaced
    assert.notEqual(app.service('rate').pid, pid);
    assert.deepEqual(await hit(app.frontendUrl, '/hotels', 2), [200, 200]);
  } finally {
    await inj.recover(app, spec);
  }
  assert.deepEqual(await hit(app.frontendUrl, '/hotels', 2), [200, 200]);
  assert.equal(activeFaults(app.runId).length, 0);
});

test('a fault aimed at the wrong kind of target is refused before anything is recorded', async () => {
  await assert.rejects(injectorFor('latency').inject(app, { kind: 'latency', target: 'postgres' }), /needs a service/);
  await assert.rejects(injectorFor('redis-down').inject(app, { kind: 'redis-down', target: 'geo' }), /targets redis/);
  await assert.rejects(injectorFor('misconfig').inject(app, { kind: 'misconfig', target: 'geo' }), /no dependency/);
  assert.throws(() => injectorFor('nope' as never), /no fault injector/);
  assert.equal(activeFaults(app.runId).length, 0);
});
