/**
 * The alerts API probed as an attacker and a careless user would (issue 15), on the embedded
 * transport (no broker needed): a ReDoS matcher answers at once and never stalls /healthz, regexes
 * RE2 refuses get a one-line 400, no credentials get 401, webhooks to cloud metadata, loopback and
 * private addresses are refused at creation and at delivery (DNS rebinding), /metrics tells
 * nothing about targets, caps on subscriptions and streams answer 429/503 with a reason, the
 * Alertmanager state holds at most --max-alertmanager-alerts label sets under a flood of distinct
 * series (new ones refused and counted, held ones still updating and resolving), and a
 * generative fuzzer over subscription bodies only ever gets a 201 or a one-line 4xx while
 * /healthz keeps answering within 1 s.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { AlertsServer } from '../../connectors/alerts/index.ts';
import { EventBuilder } from '../../connectors/alerts/events.ts';
import type { AlertsOptions } from '../../connectors/alerts/spec.ts';
import { createLogger } from '../../pipelines/core/logger.ts';
import type { Anomaly, Incident } from '../../pipelines/core/records.ts';
import { createRuntime, type Runtime } from '../../pipelines/core/runtime.ts';
import { topicName } from '../../pipelines/core/topics.ts';
import { embeddedConfig, uniquePrefix, waitFor } from '../helpers/infra.ts';

const dir = mkdtempSync(join(tmpdir(), 'panoptes-hostile-alerts-'));
const TOKEN = 'hostile-test-token-0123456789';
const tokenFile = join(dir, 'token');
const masterFile = join(dir, 'master.key');
writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
writeFileSync(masterFile, 'hostile-test-master-secret-0123456789abcdef\n', { mode: 0o600 });
const AUTH = { authorization: `Bearer ${TOKEN}` };

/** A resolver the tests control: names map to addresses; `flip` names answer public once, then link-local. */
const flipped = new Map<string, number>();
async function resolve(host: string): Promise<{ address: string; family: number }[]> {
  if (host === 'metadata.google.internal') return [{ address: '169.254.169.254', family: 4 }];
  if (host.startsWith('rebind.')) {
    const n = flipped.get(host) ?? 0;
    flipped.set(host, n + 1);
    return [{ address: n === 0 ? '93.184.216.34' : '169.254.169.254', family: 4 }];
  }
  if (host === 'intranet.example') return [{ address: '93.184.216.34', family: 4 }, { address: '10.1.2.3', family: 4 }];
  // Anything else: a public documentation address (nothing is ever connected to in these tests
  // but the rebinding case, which is refused before connecting).
  return [{ address: '203.0.113.7', family: 4 }];
}

let rt: Runtime;
const runtimes: Runtime[] = [];
const servers: AlertsServer[] = [];
let registry: Registry;

async function server(o: Partial<AlertsOptions> = {}, logLines?: string[], on: Runtime = rt): Promise<AlertsServer> {
  registry = new Registry();
  const log = logLines ? createLogger('warn', {}, (l) => logLines.push(l)) : undefined;
  const s = new AlertsServer({ listen: '127.0.0.1:0', bearerTokenFile: tokenFile, webhookSecretFile: masterFile, heartbeatMs: 200, ...o }, { transport: on.transport, serde: on.serde, prefix: on.config.topicPrefix, registry, resolve, ...(log ? { log } : {}) });
  servers.push(s);
  await s.start();
  return s;
}

async function call(url: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<{ status: number; body: any; text: string; ms: number; headers: Headers }> {
  const t0 = performance.now();
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...AUTH, ...(init.headers ?? {}) }, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body, text, ms: performance.now() - t0, headers: res.headers };
}

/** /healthz from outside the handler, with a 1 s budget (the request fails if it takes longer). */
async function healthWithin1s(base: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) });
  await res.text();
  assert.equal(res.status, 200);
  const ms = performance.now() - t0;
  assert.ok(ms < 1000, `/healthz took ${ms.toFixed(0)} ms`);
  return ms;
}

/** Opens an SSE stream; resolves with the status and the first chunk (or the error body). */
function openStream(url: string, headers: Record<string, string> = AUTH): Promise<{ status: number; first: string; close(): void }> {
  return new Promise((resolveP, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      res.setEncoding('utf8');
      res.once('data', (chunk: string) => resolveP({ status: res.statusCode ?? 0, first: chunk, close: () => req.destroy() }));
      res.once('end', () => resolveP({ status: res.statusCode ?? 0, first: '', close: () => req.destroy() }));
    });
    req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
    req.setTimeout(5000, () => req.destroy(new Error('no answer within 5 s')));
    req.end();
  });
}

const builder = new EventBuilder();
function anomalyEvent(name: string, offset: number) {
  const a: Anomaly = { id: `hostile-${offset}`, fingerprint: `fp-${offset}`, labels: { __name__: name, service: 'checkout' }, timestampMs: Date.now(), value: 1, ruleId: null, ruleVersion: null, ruleKind: null, severity: 'critical', detector: 'z', baseScore: 0, explanation: '', clauses: [], detectedAtMs: Date.now() };
  return builder.build('anomaly', a, { topic: 'anomalies', partition: 0, offset: String(offset) }, Date.now());
}

function incidentEvent(id: string, status: Incident['status'], offset: number) {
  const now = Date.now();
  const i: Incident = { id, status, openedAtMs: now - 1000, updatedAtMs: now, resolvedAtMs: status === 'RESOLVED' ? now : null, severity: 'critical', components: ['checkout'], anomalyIds: [], anomalyCount: 0, summary: `incident ${id}` };
  return builder.build('incident', i, { topic: 'incidents', partition: 0, offset: String(offset) }, now);
}

before(async () => {
  rt = await createRuntime(embeddedConfig(uniquePrefix('hostile-alerts')), { stage: 'hostile-alerts', metrics: new Registry() });
});

after(async () => {
  for (const s of servers) await s.close().catch(() => undefined);
  for (const r of runtimes) await r.close();
  await rt?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('ReDoS: (.*.*.*)*z is answered at once, matched in linear time, and /healthz keeps answering', async () => {
  const s = await server();
  const evil = '{__name__=~"(.*.*.*)*z"}';
  const created = await call(`${s.url}/v1/subscriptions`, { method: 'POST', body: JSON.stringify({ match: [evil, '{service=~"(a+)+$"}'] }) });
  assert.equal(created.status, 201, created.text);
  assert.ok(created.ms < 1000, `create took ${created.ms.toFixed(0)} ms`);
  const stream = await openStream(`${s.url}/v1/alerts/stream?match[]=${encodeURIComponent(evil)}`);
  assert.equal(stream.status, 200);
  // Label values that make a backtracking engine run for ages (2^n paths): matched at once here.
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) s.log.append(anomalyEvent(`${'a'.repeat(4000)}${i}`, 1000 + i));
  const matchMs = performance.now() - t0;
  assert.ok(matchMs < 1000, `20 events against the evil selectors took ${matchMs.toFixed(0)} ms`);
  await healthWithin1s(s.url);
  stream.close();
});

test('regexes RE2 refuses, and oversized ones, get a one-line 400 naming the matcher', async () => {
  const s = servers[0]!;
  const cases: [string, RegExp][] = [
    ['{a=~"(x)\\\\1"}', /invalid escape sequence.*no backreferences or lookaround/],
    ['{a=~"(?=x)y"}', /no backreferences or lookaround/],
    ['{a=~"(?<!x)y"}', /no backreferences or lookaround/],
    ['{a=~"x{1001}"}', /invalid repeat count/],
    [`{a=~"${'\\\\pL{1000}'.repeat(11)}"}`, /too large/],
    ['{a=~"(x"}', /missing closing \)/],
  ];
  for (const [sel, why] of cases) {
    const r = await call(`${s.url}/v1/subscriptions`, { method: 'POST', body: JSON.stringify({ match: [sel] }) });
    assert.equal(r.status, 400, sel);
    assert.equal(r.body.error, 'invalid_request');
    assert.match(r.body.issues[0].message, why, sel);
    assert.ok(!r.text.includes('\\n') && !r.body.message.includes('\n'), 'one line');
    const q = await call(`${s.url}/v1/alerts/stream?match[]=${encodeURIComponent(sel)}`);
    assert.equal(q.status, 400, `stream ${sel}`);
    assert.match(q.body.message, why);
  }
  // The per-request allowance: many regexes that are each fine add up.
  const many = Array.from({ length: 30 }, (_, i) => `{a${i}=~"[a-z]{1000}"}`);
  const r = await call(`${s.url}/v1/subscriptions`, { method: 'POST', body: JSON.stringify({ match: many }) });
  assert.equal(r.status, 400);
  assert.match(r.body.message, /over the request's allowance/);
  await healthWithin1s(s.url);
});

test('no credentials: 401 on every route that changes or reveals state; /metrics and /healthz stay open', async () => {
  const s = servers[0]!;
  const noAuth = { authorization: '' };
  for (const [method, path] of [['GET', '/v1/subscriptions'], ['POST', '/v1/subscriptions'], ['GET', '/v1/subscriptions/sub_x'], ['DELETE', '/v1/subscriptions/sub_x'], ['GET', '/v1/alerts/stream'], ['GET', '/v1/subscriptions/sub_x/stream']] as const) {
    const r = await call(`${s.url}${path}`, { method, headers: noAuth, ...(method === 'POST' ? { body: '{}' } : {}) });
    assert.equal(r.status, 401, `${method} ${path}`);
    assert.equal(r.body.error, 'unauthorized');
    assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
    const wrong = await call(`${s.url}${path}`, { method, headers: { authorization: 'Bearer nope' }, ...(method === 'POST' ? { body: '{}' } : {}) });
    assert.equal(wrong.status, 401, `${method} ${path} with a wrong token`);
  }
  assert.equal((await call(`${s.url}/metrics`, { headers: noAuth })).status, 200);
  assert.equal((await call(`${s.url}/healthz`, { headers: noAuth })).status, 200);
  assert.equal((await call(`${s.url}/v1/subscriptions`)).status, 200, 'with the token');
});

test('a server beyond loopback without auth says so at start', async () => {
  const lines: string[] = [];
  await server({ listen: '0.0.0.0:0', bearerTokenFile: undefined }, lines);
  assert.ok(lines.some((l) => /beyond loopback without auth/.test(l)), lines.join('\n'));
  const quiet: string[] = [];
  await server({ listen: '0.0.0.0:0' }, quiet);
  assert.ok(!quiet.some((l) => /beyond loopback/.test(l)), 'not with a token');
});

test('webhooks to metadata, loopback, private and multicast addresses are refused at creation', async () => {
  const s = servers[0]!;
  const targets: [string, RegExp][] = [
    ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 is a link-local address/],
    ['http://metadata.google.internal/computeMetadata/v1/', /resolves to 169\.254\.169\.254, a link-local address/],
    ['http://127.0.0.1:9095/v1/subscriptions', /loopback/],
    ['http://[::1]:8080/', /loopback/],
    ['http://[::ffff:127.0.0.1]/', /loopback/],
    ['http://localhost:9092/', /loopback/],
    ['http://10.0.0.5/hook', /private/],
    ['http://192.168.1.1/hook', /private/],
    ['http://[fd00::1]/hook', /private/],
    ['http://[fe80::1]/hook', /link-local/],
    ['http://0.0.0.0:22/', /unspecified/],
    ['http://224.0.0.1/', /multicast/],
    ['http://intranet.example/hook', /resolves to 10\.1\.2\.3, a private address/],
  ];
  for (const [url, why] of targets) {
    const r = await call(`${s.url}/v1/subscriptions`, { method: 'POST', body: JSON.stringify({ webhook: { url } }) });
    assert.equal(r.status, 400, url);
    assert.equal(r.body.issues[0].path, 'webhook.url');
    assert.match(r.body.issues[0].message, why, url);
    assert.match(r.body.issues[0].message, /--webhook-allow-private/);
  }
  const ok = await call(`${s.url}/v1/subscriptions`, { method: 'POST', body: JSON.stringify({ webhook: { url: 'https://hooks.example.com/panoptes' } }) });
  assert.equal(ok.status, 201, ok.text);
  const credentials = await call(`${s.url}/v1/subscriptions`, { method: 'POST', body: JSON.stringify({ webhook: { url: 'https://user:pw@hooks.example.com/' } }) });
  assert.equal(credentials.status, 400);
});

test('DNS rebinding: a name that turns internal after creation is refused at delivery, dead-lettered, and /metrics says nothing about the target', async () => {
  const s = await server({ maxSubscriptions: 10 });
  const r = await call(`${s.url}/v1/subscriptions`, { method: 'POST', body: JSON.stringify({ match: ['{service="checkout"}'], webhook: { url: 'http://rebind.example:8080/hook', maxRetries: 3, initialBackoffMs: 5, maxBackoffMs: 10 } }) });
  assert.equal(r.status, 201, r.text);
  s.log.append(anomalyEvent('latency', 5000));
  const dlq = await waitFor(async () => {
    const recs = await rt.transport.readToEnd(topicName('deadLetters', rt.config.topicPrefix));
    return recs.find((x) => x.headers['panoptes.dlq.subscription'] === r.body.id) ?? null;
  }, 'the refused delivery on the dead-letter topic', 5000, 20);
  assert.match(dlq.headers['panoptes.dlq.reason']!, /refused by the egress policy: rebind\.example resolves to 169\.254\.169\.254, a link-local address/);
  assert.equal(dlq.headers['panoptes.dlq.attempts'], '1', 'not retried');
  const metrics = await call(`${s.url}/metrics`);
  assert.match(metrics.text, new RegExp(`panoptes_alerts_webhook_attempts_total\\{subscription="${r.body.id}",result="failed"\\} 1`));
  assert.doesNotMatch(metrics.text, /rebind|8080|169\.254|ECONN|result="(network|timeout|[2-5]xx)"/, 'no host, port, address or error class on /metrics');
});

test('webhook secrets are sealed on the subscription topic, shown once', async () => {
  const s = servers[0]!;
  const secret = 'my-own-webhook-secret-0123456789';
  const r = await call(`${s.url}/v1/subscriptions`, { method: 'POST', body: JSON.stringify({ webhook: { url: 'https://hooks.example.com/x', secret } }) });
  assert.equal(r.status, 201);
  assert.equal(r.body.webhook.secret, secret);
  const again = await call(`${s.url}/v1/subscriptions/${r.body.id}`);
  assert.equal(again.body.webhook.secret, undefined);
  assert.equal(again.body.webhook.sealedSecret, undefined);
  const recs = await rt.transport.readToEnd(topicName('alertSubscriptions', rt.config.topicPrefix));
  const mine = recs.filter((x) => x.key?.toString() === r.body.id);
  assert.equal(mine.length, 1);
  assert.ok(!mine[0]!.value!.toString().includes(secret), 'not in clear on the topic');
  assert.match(mine[0]!.value!.toString(), /"sealedSecret":"v1\./);
  const noKey = await server({ webhookSecretFile: undefined });
  const refused = await call(`${noKey.url}/v1/subscriptions`, { method: 'POST', body: JSON.stringify({ webhook: { url: 'https://hooks.example.com/x' } }) });
  assert.equal(refused.status, 400);
  assert.match(refused.body.message, /--webhook-secret-file/);
});

test('caps: one subscription too many is a 429, one stream too many a 503, each with a reason and a metric', async () => {
  // A topic prefix of its own: the subscriptions of the other tests do not count here.
  const own = await createRuntime(embeddedConfig(uniquePrefix('hostile-caps')), { stage: 'hostile-caps', metrics: new Registry() });
  runtimes.push(own);
  const s = await server({ maxSubscriptions: 2, maxStreams: 2 }, undefined, own);
  for (let i = 0; i < 2; i++) assert.equal((await call(`${s.url}/v1/subscriptions`, { method: 'POST', body: JSON.stringify({ name: `cap ${i}` }) })).status, 201);
  const over = await call(`${s.url}/v1/subscriptions`, { method: 'POST', body: JSON.stringify({ name: 'one too many' }) });
  assert.equal(over.status, 429);
  assert.equal(over.body.error, 'too_many_subscriptions');
  assert.match(over.body.message, /at most 2 subscriptions/);
  const a = await openStream(`${s.url}/v1/alerts/stream`);
  const b = await openStream(`${s.url}/v1/alerts/stream`);
  assert.equal(a.status, 200);
  assert.equal(b.status, 200);
  const c = await openStream(`${s.url}/v1/alerts/stream`);
  assert.equal(c.status, 503);
  const refused = JSON.parse(c.first);
  assert.equal(refused.error, 'too_many_streams');
  assert.match(refused.message, /at most 2 event streams/);
  await healthWithin1s(s.url);
  const m = (await call(`${s.url}/metrics`)).text;
  assert.match(m, /panoptes_alerts_refused_total\{reason="subscriptions"\} 1/);
  assert.match(m, /panoptes_alerts_refused_total\{reason="streams"\} 1/);
  assert.match(m, /panoptes_alerts_sse_clients 2/);
  a.close();
  await waitFor(async () => ((await call(`${s.url}/healthz`)).body.sseClients === 1 ? true : null), 'the slot freed when a client left', 5000, 20);
  const d = await openStream(`${s.url}/v1/alerts/stream`);
  assert.equal(d.status, 200);
  b.close();
  d.close();
});

test('the Alertmanager state is capped: a flood of new series is refused and counted, held alerts still update, a pushed resolution makes room', async () => {
  const own = await createRuntime(embeddedConfig(uniquePrefix('hostile-am-cap')), { stage: 'hostile-am-cap', metrics: new Registry() });
  runtimes.push(own);
  // A fake Alertmanager that accepts every push and keeps it.
  const pushes: { labels: Record<string, string>; annotations: Record<string, string>; endsAt: string }[][] = [];
  const amFetch = (async (_url: unknown, init?: RequestInit) => {
    pushes.push(JSON.parse(String(init?.body)));
    return new Response('', { status: 200 });
  }) as typeof fetch;
  const lines: string[] = [];
  registry = new Registry();
  const s = new AlertsServer(
    { listen: '127.0.0.1:0', bearerTokenFile: tokenFile, alertmanager: ['http://alertmanager.test:9093'], maxAlertmanagerAlerts: 3, tickMs: 20, resendMs: 600_000, anomalyHoldMs: 600_000 },
    { transport: own.transport, serde: own.serde, prefix: own.config.topicPrefix, registry, resolve, fetch: amFetch, log: createLogger('warn', {}, (l) => lines.push(l)) },
  );
  servers.push(s);
  await s.start();
  const state = s.pusher!.state;
  const pushed = (pred: (a: { labels: Record<string, string>; annotations: Record<string, string>; endsAt: string }) => boolean) => pushes.flat().find(pred) ?? null;
  let offset = 100_000;

  s.log.append(incidentEvent('inc-held', 'OPEN', offset++));
  // 5,000 distinct series: two fit next to the incident, every other one is refused.
  for (let i = 0; i < 5000; i++) s.log.append(anomalyEvent(`flood_${i}`, offset++));
  assert.deepEqual(state.size, { firing: 3, resolved: 0 });
  assert.equal(state.refused, 4998);
  s.log.append(incidentEvent('inc-new', 'OPEN', offset++));
  assert.equal(state.refused, 4999, 'a new incident is refused too');
  await waitFor(() => pushed((a) => a.labels.metric === 'flood_1'), 'the held alerts pushed', 5000, 20);
  assert.equal(pushed((a) => a.labels.metric === 'flood_2' || a.labels.incident === 'inc-new'), null, 'nothing refused is ever pushed');

  // A held alert still updates: its next push carries the new anomaly.
  const update = offset++;
  s.log.append(anomalyEvent('flood_1', update));
  assert.equal(state.refused, 4999, 'an update of a held label set is not refused');
  await waitFor(() => pushed((a) => a.labels.metric === 'flood_1' && a.annotations.anomaly_id === `hostile-${update}`), 'the updated alert pushed', 5000, 20);

  // The held incident resolves; once its resolution is pushed the state has room for a new series.
  s.log.append(incidentEvent('inc-held', 'RESOLVED', offset++));
  await waitFor(() => pushed((a) => a.labels.incident === 'inc-held' && Date.parse(a.endsAt) <= Date.now()), 'the resolution pushed', 5000, 20);
  await waitFor(() => (state.size.firing + state.size.resolved === 2 ? true : null), 'the resolved alert forgotten after its push', 5000, 20);
  s.log.append(anomalyEvent('after_room', offset++));
  assert.equal(state.refused, 4999);
  await waitFor(() => pushed((a) => a.labels.metric === 'after_room'), 'the new series admitted and pushed', 5000, 20);
  s.log.append(anomalyEvent('one_too_many', offset++));
  assert.equal(state.refused, 5000, 'full again');

  await healthWithin1s(s.url);
  const m = (await call(`${s.url}/metrics`)).text;
  assert.match(m, /panoptes_alerts_alertmanager_refused_total\{kind="anomaly"\} 4999/);
  assert.match(m, /panoptes_alerts_alertmanager_refused_total\{kind="incident"\} 1/);
  assert.equal(lines.filter((l) => /alertmanager state full/.test(l)).length, 2, 'one warning each time it filled up, not one per record');
});

test('fuzz: any subscription body gets a 201 or a one-line 4xx, and /healthz answers within 1 s', async () => {
  const s = await server({ maxSubscriptions: 100_000 });
  const selector = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom('{__name__=~"(.*.*.*)*z"}', '{a=~"(x)\\\\1"}', '{a=~"(?=x)"}', 'up', '{job="api"}', '{a=~"x{1001}"}', '{a=~"[[:alpha:]]+"}', '{a!~"\\\\p{Greek}"}', '{'.repeat(50), '{a="\\u0000"}'),
    fc.tuple(fc.constantFrom('a', '__name__', 'job', '1x'), fc.constantFrom('=', '!=', '=~', '!~', '~'), fc.string({ maxLength: 30 })).map(([n, op, v]) => `{${n}${op}${JSON.stringify(v)}}`),
  );
  const url = fc.oneof(fc.webUrl(), fc.string({ maxLength: 30 }), fc.constantFrom('http://169.254.169.254/', 'http://[::1]/', 'ftp://x/', 'http://rebind.example/', 'javascript:alert(1)', 'http://a:b@c/'));
  const webhook = fc.record({ url, secret: fc.oneof(fc.string({ maxLength: 40 }), fc.integer()), maxRetries: fc.oneof(fc.integer({ min: -5, max: 200 }), fc.double()), initialBackoffMs: fc.integer({ min: -1, max: 5_000_000 }), maxBackoffMs: fc.integer({ min: -1, max: 5_000_000 }), timeoutMs: fc.anything(), extra: fc.anything() }, { requiredKeys: [] });
  const body = fc.oneof(
    { weight: 4, arbitrary: fc.record({ name: fc.oneof(fc.string({ maxLength: 250 }), fc.anything()), match: fc.oneof(fc.array(selector, { maxLength: 5 }), fc.anything()), severities: fc.array(fc.oneof(fc.constantFrom('info', 'warning', 'critical'), fc.string()), { maxLength: 4 }), kinds: fc.array(fc.oneof(fc.constantFrom('anomaly', 'incident', 'rca'), fc.anything()), { maxLength: 4 }), webhook: fc.oneof(webhook, fc.constant(null), fc.anything()), colour: fc.anything() }, { requiredKeys: [] }).map((b) => JSON.stringify(b)) },
    { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  );
  let runs = 0;
  let created = 0;
  await fc.assert(
    fc.asyncProperty(body, async (text) => {
      runs++;
      const r = await call(`${s.url}/v1/subscriptions`, { method: 'POST', body: text });
      if (r.status === 201) {
        created++;
        assert.equal(typeof r.body.id, 'string');
        await call(`${s.url}/v1/subscriptions/${r.body.id}`, { method: 'DELETE' });
      } else {
        assert.ok(r.status >= 400 && r.status < 500, `status ${r.status} for ${text}: ${r.text}`);
        assert.equal(typeof r.body.error, 'string', r.text);
        assert.equal(typeof r.body.message, 'string', r.text);
        assert.ok(!r.body.message.includes('\n'), `one line: ${r.body.message}`);
        assert.ok(!/\n\s+at /.test(r.text), 'no stack trace');
      }
      if (runs % 10 === 0) await healthWithin1s(s.url);
    }),
    { numRuns: 200, seed: 15 },
  );
  await healthWithin1s(s.url);
  assert.ok(created > 0, 'some bodies were valid');
});
