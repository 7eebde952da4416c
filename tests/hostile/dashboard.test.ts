/**
 * The dashboard probed as an attacker and a careless user would (issue 15), on the embedded
 * transport: no credentials get 401 everywhere but /metrics and /healthz (bearer for API clients,
 * basic for browsers), the live feed and the mounted alerts stream are capped (503 with a reason
 * and a metric), a ReDoS selector on the alerts stream answers at once while /healthz keeps
 * answering within 1 s, and a fuzzer over paths and query strings only ever gets 2xx/4xx.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { startAlertsStream, type AlertsStreamMount } from '../../connectors/alerts/index.ts';
import { createRuntime, type Runtime } from '../../pipelines/core/runtime.ts';
import { startDashboard, type RunningDashboard } from '../../pipelines/dashboard/index.ts';
import { embeddedConfig, uniquePrefix, waitFor } from '../helpers/infra.ts';

const dir = mkdtempSync(join(tmpdir(), 'panoptes-hostile-dashboard-'));
const TOKEN = 'dashboard-hostile-token-0123456789';
const tokenFile = join(dir, 'token');
const basicFile = join(dir, 'basic');
writeFileSync(tokenFile, TOKEN, { mode: 0o600 });
writeFileSync(basicFile, 'sre:correct horse battery staple\n', { mode: 0o600 });
const BEARER = { authorization: `Bearer ${TOKEN}` };
const BASIC = { authorization: `Basic ${Buffer.from('sre:correct horse battery staple').toString('base64')}` };

let rt: Runtime;
let dash: RunningDashboard;
let mount: AlertsStreamMount;
const others: RunningDashboard[] = [];

async function get(path: string, headers: Record<string, string> = BEARER, base = dash.url, init: RequestInit = {}): Promise<{ status: number; body: any; text: string; headers: Headers }> {
  const res = await fetch(`${base}${path}`, { ...init, headers, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body, text, headers: res.headers };
}

async function healthWithin1s(base = dash.url): Promise<void> {
  const t0 = performance.now();
  const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) });
  await res.text();
  assert.equal(res.status, 200);
  assert.ok(performance.now() - t0 < 1000);
}

function openStream(url: string, headers: Record<string, string> = BEARER): Promise<{ status: number; first: string; close(): void }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      res.setEncoding('utf8');
      res.once('data', (chunk: string) => resolve({ status: res.statusCode ?? 0, first: chunk, close: () => req.destroy() }));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, first: '', close: () => req.destroy() }));
    });
    req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
    req.setTimeout(5000, () => req.destroy(new Error('no answer within 5 s')));
    req.end();
  });
}

before(async () => {
  rt = await createRuntime(embeddedConfig(uniquePrefix('hostile-dashboard')), { stage: 'hostile-dashboard', metrics: new Registry() });
  mount = await startAlertsStream({ transport: rt.transport, serde: rt.serde, prefix: rt.config.topicPrefix, registry: rt.metrics, log: rt.log }, { heartbeatMs: 200, maxStreams: 1 });
  dash = await startDashboard(rt, { listen: '127.0.0.1:0', bearerTokenFile: tokenFile, maxStreams: 2, heartbeatMs: 200 }, mount.register);
});

after(async () => {
  for (const d of others) await d.stop().catch(() => undefined);
  await dash?.stop();
  await mount?.stop();
  await rt?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('no credentials: 401 on the page, the API, the feed and the alerts stream; /metrics and /healthz stay open', async () => {
  for (const path of ['/', '/static/app.js', '/api/summary', '/api/series', '/api/incidents', '/api/events', '/v1/alerts/stream']) {
    const r = await get(path, {});
    assert.equal(r.status, 401, path);
    assert.equal(r.body.error, 'unauthorized');
    assert.equal((await get(path, { authorization: 'Bearer wrong' })).status, 401, `${path} with a wrong token`);
  }
  assert.equal((await get('/metrics', {})).status, 200);
  assert.equal((await get('/healthz', {})).status, 200);
  assert.equal((await get('/api/summary')).status, 200, 'with the token');
  const post = await get('/api/rules', BEARER, dash.url, { method: 'POST', body: '{}' });
  assert.equal(post.status, 405);
  assert.match(post.body.message, /read-only/);
});

test('basic auth for browsers: a Basic challenge, and the page, API and feed with the credentials', async () => {
  const d = await startDashboard(rt, { listen: '127.0.0.1:0', basicAuthFile: basicFile });
  others.push(d);
  const r = await get('/', {}, d.url);
  assert.equal(r.status, 401);
  assert.match(r.headers.get('www-authenticate') ?? '', /^Basic realm=/);
  assert.equal((await get('/', BASIC, d.url)).status, 200);
  assert.equal((await get('/api/summary', BASIC, d.url)).status, 200);
  const feed = await openStream(`${d.url}/api/events`, BASIC);
  assert.equal(feed.status, 200);
  feed.close();
});

test('caps: the live feed and the alerts stream answer 503 with a reason past their limit, counted', async () => {
  const a = await openStream(`${dash.url}/api/events`);
  const b = await openStream(`${dash.url}/api/events`);
  assert.equal(a.status, 200);
  assert.equal(b.status, 200);
  const c = await openStream(`${dash.url}/api/events`);
  assert.equal(c.status, 503);
  assert.equal(JSON.parse(c.first).error, 'too_many_streams');
  const x = await openStream(`${dash.url}/v1/alerts/stream`);
  assert.equal(x.status, 200);
  const y = await openStream(`${dash.url}/v1/alerts/stream`);
  assert.equal(y.status, 503);
  assert.match(JSON.parse(y.first).message, /at most 1 event streams/);
  await healthWithin1s();
  const m = (await get('/metrics')).text;
  assert.match(m, /panoptes_dashboard_sse_refused_total 1/);
  assert.match(m, /panoptes_alerts_refused_total\{reason="streams"\} 1/);
  for (const s of [a, b, x]) s.close();
  await waitFor(async () => ((await get('/healthz')).body.sseClients === 0 ? true : null), 'the feed slots freed', 5000, 20);
});

test('ReDoS on the mounted alerts stream: answered at once, /healthz keeps answering; RE2 refusals are a one-line 400', async () => {
  const evil = await openStream(`${dash.url}/v1/alerts/stream?match[]=${encodeURIComponent('{__name__=~"(.*.*.*)*z"}')}`);
  assert.equal(evil.status, 200);
  await healthWithin1s();
  evil.close();
  await waitFor(async () => {
    const r = await get(`/v1/alerts/stream?match[]=${encodeURIComponent('{a=~"(x)\\\\1"}')}`);
    return r.status === 400 ? r : null;
  }, 'the stream slot to free and a 400', 5000, 20).then((r) => {
    assert.equal(r.body.error, 'invalid_request');
    assert.match(r.body.message, /no backreferences or lookaround/);
    assert.ok(!r.body.message.includes('\n'));
  });
});

test('fuzz: paths and query strings only ever get 2xx or a one-line 4xx, and /healthz answers within 1 s', async () => {
  const seg = fc.string({ maxLength: 30 }).map((s) => encodeURIComponent(s));
  const path = fc.oneof(
    fc.tuple(fc.constantFrom('/api/series/', '/api/incidents/', '/api/graphs/', '/static/', '/api/'), seg).map(([a, b]) => `${a}${b}`),
    fc.string({ maxLength: 20 }).map((s) => `/api/anomalies?limit=${encodeURIComponent(s)}`),
    fc.tuple(seg, fc.constantFrom('/graph.svg', '', '/x')).map(([id, tail]) => `/api/incidents/${id}${tail}`),
    fc.constantFrom('/api/series/%E0%A4%A', '/%', '/api/../../etc/passwd', '/static/..%2f..%2fpackage.json', '//api//summary', '/api/anomalies?limit=1e309'),
  );
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(path, async (p) => {
      runs++;
      const r = await get(p);
      assert.ok(r.status < 500, `${p}: ${r.status} ${r.text.slice(0, 200)}`);
      if (r.status >= 400) {
        assert.equal(typeof r.body.message, 'string', `${p}: ${r.text.slice(0, 200)}`);
        assert.ok(!r.body.message.includes('\n'));
      }
      if (runs % 20 === 0) await healthWithin1s();
    }),
    { numRuns: 150, seed: 15 },
  );
});
