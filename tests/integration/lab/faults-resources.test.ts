/**
 * Resource fault injectors (slow-db, db-down, redis-down) act on the lab's own TCP proxies, never
 * on the shared PostgreSQL/Redis: the services' dependency metrics and the proxy's up gauge show
 * the fault, the shared servers stay reachable directly, and recover undoes it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { TEST_STATE_FILE, runDir, hit, metric, scrape, sleep, sum } from './helpers.ts';

process.env.PANOPTES_LAB_STATE = TEST_STATE_FILE;
const { startApp } = await import('../../../pipelines/lab/app/index.ts');
const { injectorFor, activeFaults, cleanupLeftovers } = await import('../../../pipelines/lab/faults/index.ts');
type App = Awaited<ReturnType<typeof startApp>>;
let app: App;
const PROXY_ADMIN = 18620 + 12;

before(async () => {
  await cleanupLeftovers(); // runs of test processes that died, holding our ports
  app = await startApp({ runDir: runDir('res'), basePort: 18620, seed: 5 });
});
after(async () => {
  await app?.stop();
  assert.deepEqual(activeFaults(app?.runId ?? 'none'), []);
});

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** Postgres calls of `reservation` slower than 100 ms, from its dependency histogram. */
async function slowDbCalls(): Promise<number> {
  const s = await scrape(app.service('reservation').url);
  return sum(s, 'lab_dependency_duration_seconds_count', { dep: 'postgres' }) - sum(s, 'lab_dependency_duration_seconds_bucket', { dep: 'postgres', le: '0.1' });
}

test('slow-db: PostgreSQL round trips through the proxy slow down; recover restores them', { timeout: 40_000 }, async () => {
  const spec = { kind: 'slow-db' as const, target: 'postgres' as const, params: { delayMs: 120 } };
  const inj = injectorFor('slow-db');
  assert.equal(inj.describe(spec).component, 'postgres');
  await hit(app.frontendUrl, '/reservation', 2);
  const s0 = await slowDbCalls();
  await inj.inject(app, spec);
  assert.equal(activeFaults(app.runId)[0]?.spec.kind, 'slow-db');
  assert.equal(await metric(`http://127.0.0.1:${PROXY_ADMIN}`, 'lab_proxy_delay_ms', { resource: 'postgres' }), 120);
  assert.deepEqual(await hit(app.frontendUrl, '/reservation', 3), [200, 200, 200]);
  // Each reservation makes two queries; each is at least one delayed round trip (>= 240 ms).
  assert.ok((await slowDbCalls()) - s0 >= 6, 'reservation saw slow postgres calls');
  await inj.recover(app, spec);
  const s1 = await slowDbCalls();
  await hit(app.frontendUrl, '/reservation', 3);
  assert.equal((await slowDbCalls()) - s1, 0);
  assert.equal(activeFaults(app.runId).length, 0);
});

test('db-down: the proxy resets PostgreSQL connections; services fail, the shared server is untouched', { timeout: 40_000 }, async () => {
  const spec = { kind: 'db-down' as const, target: 'postgres' as const };
  const inj = injectorFor('db-down');
  await inj.inject(app, spec);
  assert.equal(await reachable(5432), true, 'the shared PostgreSQL is still there');
  const codes = await hit(app.frontendUrl, '/login', 3);
  assert.ok(codes.every((c) => c === 502), `codes ${codes}`);
  assert.ok((await metric(app.service('user').url, 'lab_dependency_requests_total', { dep: 'postgres', outcome: 'error' })) >= 3);
  await sleep(1200);
  assert.equal(await metric(`http://127.0.0.1:${PROXY_ADMIN}`, 'lab_proxy_up', { resource: 'postgres' }), 0);
  await inj.recover(app, spec);
  assert.deepEqual(await hit(app.frontendUrl, '/login', 3), [200, 200, 200]);
  await sleep(1200);
  assert.equal(await metric(`http://127.0.0.1:${PROXY_ADMIN}`, 'lab_proxy_up', { resource: 'postgres' }), 1);
});

test('redis-down: rate and profile fail on their cache; recover brings them back', { timeout: 40_000 }, async () => {
  const spec = { kind: 'redis-down' as const, target: 'redis' as const };
  const inj = injectorFor('redis-down');
  assert.deepEqual(await hit(app.frontendUrl, '/hotels', 2), [200, 200]);
  const e0 = await metric(app.service('rate').url, 'lab_dependency_requests_total', { dep: 'redis', outcome: 'error' });
  await inj.inject(app, spec);
  assert.equal(await reachable(6379), true, 'the shared Redis is still there');
  const codes = await hit(app.frontendUrl, '/hotels', 3);
  assert.ok(codes.every((c) => c === 502), `codes ${codes}`);
  assert.equal((await metric(app.service('rate').url, 'lab_dependency_requests_total', { dep: 'redis', outcome: 'error' })) - e0, 3);
  assert.ok((await metric(app.service('rate').url, 'lab_http_requests_total', { route: '/rates', code: '500' })) >= 3);
  await inj.recover(app, spec);
  assert.deepEqual(await hit(app.frontendUrl, '/hotels', 3), [200, 200, 200]);
  assert.equal(activeFaults(app.runId).length, 0);
});

test('a second app on the same ports is refused with a clear error, before it touches anything', async () => {
  const { readState } = await import('../../../pipelines/lab/faults/index.ts');
  const apps = readState().apps.length;
  await assert.rejects(startApp({ runDir: runDir('res2'), basePort: 18620 }), /ports .* in use/);
  assert.equal(readState().apps.length, apps);
  assert.equal(await app.healthy('frontend'), true);
});

test('PostgreSQL or Redis unreachable: startApp says which and how to start it, and leaves nothing behind', { timeout: 30_000 }, async () => {
  const { readState } = await import('../../../pipelines/lab/faults/index.ts');
  const apps = readState().apps.length;
  // Ports in the lab's own block where nothing listens stand in for the missing servers.
  await assert.rejects(startApp({ runDir: runDir('nopg'), basePort: 18640, postgres: { host: '127.0.0.1', port: 18659, database: 'test' } }), /needs the machine's PostgreSQL at 127\.0\.0\.1:18659 .*apt-get install postgresql/);
  await assert.rejects(startApp({ runDir: runDir('noredis'), basePort: 18640, redis: { host: '127.0.0.1', port: 18658 } }), /needs the machine's Redis at 127\.0\.0\.1:18658 .*redis-server/);
  assert.equal(readState().apps.length, apps);
  for (const port of [18640, 18641, 18650, 18651]) assert.equal(await reachable(port), false, `port ${port} free`);
});

test('stop() drops the run\'s tables and Redis keys', { timeout: 30_000 }, async () => {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres' });
  await c.connect();
  try {
    const like = `lab_${app.runId}_%`;
    const count = async () => Number((await c.query('SELECT count(*) AS n FROM pg_tables WHERE tablename LIKE $1', [like])).rows[0].n);
    assert.equal(await count(), 4);
    await app.stop();
    assert.equal(await count(), 0);
  } finally {
    await c.end();
  }
  const { Redis } = await import('ioredis');
  const r = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await r.connect();
    const [, keys] = await r.scan(0, 'MATCH', `lab:${app.runId}:*`, 'COUNT', 10000);
    assert.equal(keys.length, 0);
  } finally {
    r.disconnect();
  }
});
