import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlertmanagerState } from '../../../connectors/alerts/alertmanager-state.ts';
import { EventBuilder, type AlertKind } from '../../../connectors/alerts/events.ts';
import type { Anomaly, Incident, RcaResult } from '../../../pipelines/core/records.ts';

const T0 = 1_764_288_000_000;
const builder = new EventBuilder();
let offset = 0;
const ev = (kind: AlertKind, rec: unknown) => builder.build(kind, rec, { topic: kind === 'anomaly' ? 'anomalies' : kind === 'incident' ? 'incidents' : 'rca', partition: 0, offset: String(offset++) }, T0);

const anomaly = (id: string, ts: number, labels: Record<string, string> = { __name__: 'latency', service: 'checkout' }): Anomaly => ({
  id, fingerprint: 'f', labels, timestampMs: ts, value: 9, ruleId: 'spike', ruleVersion: 'v1', ruleKind: 'FN', severity: 'critical', detector: 'z', baseScore: 1, explanation: 'value 9 is high', clauses: [{ text: 'value > 5', value: 1 }], detectedAtMs: ts,
});
const incident = (status: Incident['status'], ids: string[], at: number): Incident => ({
  id: 'inc-1', status, openedAtMs: T0, updatedAtMs: at, resolvedAtMs: status === 'RESOLVED' ? at : null, severity: 'critical', components: ['checkout'], anomalyIds: ids, anomalyCount: ids.length, summary: 'checkout slow',
});

function fresh() {
  return new AlertmanagerState({ anomalyHoldMs: 60_000, resendMs: 10_000, externalUrl: 'http://alerts:9095' });
}

test('an anomaly fires with labels from its series, re-sent every resendMs', () => {
  const s = fresh();
  s.apply(ev('anomaly', anomaly('a1', T0)));
  const first = s.due(T0 + 100);
  assert.equal(first.length, 1);
  assert.deepEqual(first[0].labels, { alertname: 'PanoptesAnomaly', metric: 'latency', service: 'checkout', severity: 'critical', rule: 'spike' });
  assert.equal(first[0].annotations.summary, 'value 9 is high');
  assert.equal(first[0].startsAt, new Date(T0).toISOString());
  assert.equal(first[0].endsAt, new Date(T0 + 100 + 40_000).toISOString(), 'endsAt 4 resend intervals ahead');
  assert.ok(first[0].generatorURL!.startsWith('http://alerts:9095/v1/alerts/stream'));
  s.sent(first, T0 + 100);
  assert.equal(s.due(T0 + 5000).length, 0, 'nothing new before the re-send interval');
  assert.equal(s.due(T0 + 10_100).length, 1, 're-sent after it');
});

test('a failed push leaves alerts due; a change during a push is not lost', () => {
  const s = fresh();
  s.apply(ev('anomaly', anomaly('a1', T0)));
  const batch = s.due(T0);
  s.apply(ev('anomaly', anomaly('a2', T0 + 50)));
  s.sent(batch, T0 + 60);
  const again = s.due(T0 + 70);
  assert.equal(again.length, 1, 'the newer version is still due');
  assert.equal(again[0].annotations.anomaly_id, 'a2');
});

test('the incident holding an anomaly resolves it; RCA annotates the incident alert', () => {
  const s = fresh();
  s.apply(ev('anomaly', anomaly('a1', T0)));
  s.apply(ev('anomaly', anomaly('b1', T0, { __name__: 'errors', service: 'db' })));
  s.apply(ev('incident', incident('OPEN', ['a1'], T0 + 1000)));
  s.apply(ev('rca', { incidentId: 'inc-1', graphVersion: null, method: 'traversal', causes: [{ node: 'db:latency', component: 'db', score: 0.9, path: ['db:latency', 'checkout:latency'], evidence: [] }], note: '', producedAtMs: T0 } satisfies RcaResult));
  let due = s.due(T0 + 2000);
  s.sent(due, T0 + 2000);
  const inc = due.find((a) => a.labels.alertname === 'PanoptesIncident')!;
  assert.deepEqual(inc.labels, { alertname: 'PanoptesIncident', incident: 'inc-1', severity: 'critical' });
  assert.equal(inc.annotations.root_cause, 'db:latency');
  assert.equal(inc.annotations.root_cause_path, 'db:latency -> checkout:latency');
  // Past the hold, an anomaly held by an open incident keeps firing; the other one resolves.
  due = s.due(T0 + 120_000);
  const resolvedB = due.find((a) => a.labels.service === 'db')!;
  assert.equal(resolvedB.endsAt, new Date(T0 + 60_000).toISOString(), 'resolved at the end of its hold');
  assert.ok(new Date(due.find((a) => a.labels.service === 'checkout')!.endsAt).getTime() > T0 + 120_000, 'held by the incident');
  s.sent(due, T0 + 120_000);
  s.apply(ev('incident', incident('RESOLVED', ['a1'], T0 + 130_000)));
  due = s.due(T0 + 130_500);
  assert.deepEqual(due.map((a) => [a.labels.alertname, a.endsAt]).sort(), [
    ['PanoptesAnomaly', new Date(T0 + 130_000).toISOString()],
    ['PanoptesIncident', new Date(T0 + 130_000).toISOString()],
  ]);
  s.sent(due, T0 + 130_500);
  assert.equal(s.due(T0 + 200_000).length, 0, 'resolved alerts are forgotten once pushed');
  assert.deepEqual(s.size, { firing: 0, resolved: 0 });
});

test('RCA before its incident is kept; old history is not pushed as resolved', () => {
  const s = fresh();
  s.apply(ev('rca', { incidentId: 'inc-1', graphVersion: null, method: 'm', causes: [], note: 'no data', producedAtMs: T0 } satisfies RcaResult));
  s.apply(ev('incident', incident('OPEN', [], T0)));
  const due = s.due(T0 + 10);
  assert.equal(due[0].annotations.root_cause_note, 'no data');
  const h = fresh();
  h.apply(ev('anomaly', anomaly('old', T0 - 86_400_000)));
  assert.equal(h.due(T0).length, 0, 'an anomaly that ended a day ago, never pushed, is dropped');
});

test('labels Alertmanager would refuse are left out; a new anomaly after resolution starts a new episode', () => {
  const s = fresh();
  s.apply(ev('anomaly', anomaly('a1', T0, { __name__: 'latency', 'bad-name': 'x', empty: '', __meta: 'y', ok: 'v' })));
  const [a] = s.due(T0);
  assert.deepEqual(Object.keys(a.labels).sort(), ['alertname', 'metric', 'ok', 'rule', 'severity']);
  s.sent([a], T0);
  s.due(T0 + 61_000).forEach((x) => s.sent([x], T0 + 61_000));
  s.apply(ev('anomaly', anomaly('a2', T0 + 70_000, { __name__: 'latency', ok: 'v' })));
  const [b] = s.due(T0 + 70_001);
  assert.equal(b.startsAt, new Date(T0 + 70_000).toISOString());
});

test('the pusher keeps alerts due while an Alertmanager fails, and needs every one to accept', async () => {
  const { AlertmanagerPusher } = await import('../../../connectors/alerts/alertmanager.ts');
  const { alertsMetrics } = await import('../../../connectors/alerts/metrics.ts');
  const { Registry } = await import('prom-client');
  const { silentLogger } = await import('../../../pipelines/core/logger.ts');
  let downB = true;
  const posts: { url: string; n: number }[] = [];
  const fakeFetch = (async (url: string, init: RequestInit) => {
    posts.push({ url, n: (JSON.parse(String(init.body)) as unknown[]).length });
    return new Response('', { status: url.startsWith('http://b') && downB ? 503 : 200 });
  }) as unknown as typeof fetch;
  const p = new AlertmanagerPusher({ urls: ['http://a:9093', 'http://b:9093/'], tickMs: 1000, timeoutMs: 1000, resendMs: 10_000, anomalyHoldMs: 60_000, externalUrl: '' }, { metrics: alertsMetrics(new Registry()), log: silentLogger, fetch: fakeFetch });
  for (let i = 0; i < 501; i++) p.state.apply(ev('anomaly', anomaly(`p${i}`, T0, { __name__: 'latency', instance: `i${i}` })));
  await p.tick(T0 + 1);
  assert.deepEqual(posts, [{ url: 'http://a:9093/api/v2/alerts', n: 500 }, { url: 'http://b:9093/api/v2/alerts', n: 500 }], 'chunks of 500; stops at the first failed chunk');
  downB = false;
  posts.length = 0;
  await p.tick(T0 + 2);
  assert.deepEqual(posts.map((x) => x.n), [500, 500, 1, 1], 'everything again, since B never accepted it');
  posts.length = 0;
  await p.tick(T0 + 3);
  assert.deepEqual(posts, [], 'nothing due once both accepted');
});

test('a record whose times are no dates is refused before it touches the state; the pusher counts and skips it', async () => {
  const { InputError } = await import('../../../pipelines/core/errors.ts');
  const { AlertmanagerPusher } = await import('../../../connectors/alerts/alertmanager.ts');
  const { AlertLog } = await import('../../../connectors/alerts/log.ts');
  const { alertsMetrics } = await import('../../../connectors/alerts/metrics.ts');
  const { silentLogger } = await import('../../../pipelines/core/logger.ts');
  const { Registry } = await import('prom-client');
  const s = fresh();
  for (const bad of [anomaly('p1', 9e15), { ...anomaly('p2', T0), detectedAtMs: -9e15 }, anomaly('p3', Number.NaN)]) {
    assert.throws(() => s.apply(ev('anomaly', bad)), (err: unknown) => err instanceof InputError && /outside the date range/.test((err as Error).message));
  }
  assert.throws(() => s.apply(ev('incident', { ...incident('OPEN', [], T0), openedAtMs: 1e300 })), InputError);
  assert.deepEqual(s.size, { firing: 0, resolved: 0 }, 'nothing half-applied');
  s.apply(ev('anomaly', anomaly('ok', T0)));
  assert.equal(s.due(T0 + 1).length, 1, 'later records still work');

  // Through the log: the poison record is counted and skipped, the next one is pushed.
  const registry = new Registry();
  const metrics = alertsMetrics(registry);
  const log = new AlertLog({ transport: {} as never, serde: {} as never, prefix: '', bufferPerPartition: 10, metrics });
  const posted: unknown[][] = [];
  const fetchImpl = (async (_u: string, init: RequestInit) => (posted.push(JSON.parse(String(init.body))), new Response('', { status: 200 }))) as unknown as typeof fetch;
  const pusher = new AlertmanagerPusher({ urls: ['http://am'], tickMs: 3_600_000, timeoutMs: 1000, resendMs: 60_000, anomalyHoldMs: 60_000, externalUrl: '' }, { metrics, log: silentLogger, fetch: fetchImpl });
  pusher.attach(log);
  log.append(ev('anomaly', anomaly('poison', 9e15)));
  log.append(ev('anomaly', anomaly('fine', Date.now(), { __name__: 'errors' })));
  await pusher.tick(Date.now());
  await pusher.stop();
  assert.equal(posted.length, 1);
  assert.deepEqual((posted[0] as { annotations: { anomaly_id: string } }[]).map((a) => a.annotations.anomaly_id), ['fine']);
  assert.match(await registry.metrics(), /panoptes_alerts_skipped_records_total\{part="alertmanager",reason="input"\} 1/);
});
