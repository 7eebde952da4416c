/**
 * SSE on real Kafka: a client streaming `match[]={service="checkout"}` disconnects part-way,
 * more alerts arrive while it is away (on several partitions, matching and not), and it
 * reconnects with Last-Event-ID: it gets every matching alert exactly once, in per-partition
 * offset order. A second server (the same as a restarted one) honours the same id. Bad queries
 * get a JSON 400 naming the problem; heartbeats arrive while idle.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../../helpers/infra.ts';
import { harness, SseClient, json, type Harness } from './helpers.ts';
import type { AlertsServer } from '../../../connectors/alerts/server.ts';

let h: Harness;
let server: AlertsServer;

before(async () => {
  h = await harness('alerts-sse');
  server = await h.server({ heartbeatMs: 200 });
});

after(async () => {
  await h?.close();
});

const services = ['checkout', 'payments', 'checkout', 'cart', 'checkout'];

test('reconnect with Last-Event-ID loses nothing and repeats nothing', async () => {
  const q = `match[]=${encodeURIComponent('{service="checkout"}')}`;
  const c1 = await SseClient.open(`${server.url}/v1/alerts/stream?${q}`);
  assert.equal(c1.status, 200);
  await waitFor(() => c1.events.find((e) => e.event === 'hello'), 'hello event');
  // Distinct instances spread the records over the anomalies topic's 3 partitions.
  for (let i = 0; i < 10; i++) await h.anomaly({ id: `a${i}`, labels: { __name__: 'latency', service: services[i % 5], instance: `i${i}` } });
  await waitFor(() => c1.alerts.length >= 6, 'first 6 checkout alerts', 20000);
  c1.close();
  const seenFirst = c1.alerts.map((e) => JSON.parse(e.data).id as string);
  const resumeFrom = c1.lastId!;

  for (let i = 10; i < 20; i++) await h.anomaly({ id: `a${i}`, labels: { __name__: 'latency', service: services[i % 5], instance: `i${i}` } });
  const c2 = await SseClient.open(`${server.url}/v1/alerts/stream?${q}`, resumeFrom);
  await waitFor(() => c2.alerts.length >= 6, 'the 6 checkout alerts produced while away', 20000);
  await new Promise((r) => setTimeout(r, 700));
  const seenSecond = c2.alerts.map((e) => JSON.parse(e.data).id as string);
  const all = [...seenFirst, ...seenSecond];
  const expected = Array.from({ length: 20 }, (_, i) => i).filter((i) => services[i % 5] === 'checkout').map((i) => `a${i}`);
  assert.deepEqual([...all].sort(), [...expected].sort(), 'every checkout alert exactly once');
  assert.equal(new Set(all).size, all.length, 'no duplicates');
  // Per partition, offsets only grow across the reconnect.
  const byPartition = new Map<number, number[]>();
  for (const e of [...c1.alerts, ...c2.alerts]) {
    const src = JSON.parse(e.data).source as { partition: number; offset: string };
    byPartition.set(src.partition, [...(byPartition.get(src.partition) ?? []), Number(src.offset)]);
  }
  for (const offs of byPartition.values()) assert.deepEqual(offs, [...offs].sort((a, b) => a - b));
  assert.ok(c2.comments.some((c) => c.startsWith('heartbeat')), 'heartbeat comments while idle');
  c2.close();
  await waitFor(async () => (((await (await fetch(`${server.url}/healthz`)).json()) as { sseClients: number }).sseClients === 0 ? true : null), 'closed streams released', 5000);

  // Another server reading the same topics resumes the same id the same way (as after a restart).
  const other = await h.server({ heartbeatMs: 200 });
  const c3 = await SseClient.open(`${other.url}/v1/alerts/stream?${q}`, resumeFrom);
  await waitFor(() => c3.alerts.length >= 6, 'replay on a second server', 20000);
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(c3.alerts.map((e) => JSON.parse(e.data).id).sort(), [...seenSecond].sort());
  c3.close();
});

test('a subscription stream applies its selectors and severities', async () => {
  const created = await json(`${server.url}/v1/subscriptions`, { method: 'POST', body: JSON.stringify({ name: 'crit-cart', match: ['latency{service=~"ca.*"}'], severities: ['critical'] }) });
  assert.equal(created.status, 201);
  const c = await SseClient.open(`${server.url}/v1/subscriptions/${created.body.id}/stream`);
  await waitFor(() => c.events.find((e) => e.event === 'hello'), 'hello');
  await h.anomaly({ id: 's1', labels: { __name__: 'latency', service: 'cart' }, severity: 'warning' });
  await h.anomaly({ id: 's2', labels: { __name__: 'latency', service: 'cart' }, severity: 'critical' });
  await h.anomaly({ id: 's3', labels: { __name__: 'latency', service: 'checkout' }, severity: 'critical' });
  await h.anomaly({ id: 's4', labels: { __name__: 'errors', service: 'cart' }, severity: 'critical' });
  await h.anomaly({ id: 's5', labels: { __name__: 'latency', service: 'carts' }, severity: 'critical' });
  await waitFor(() => c.alerts.length >= 2, 'two matching alerts', 20000);
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(c.alerts.map((e) => JSON.parse(e.data).id), ['s2', 's5']);
  const payload = JSON.parse(c.alerts[0].data);
  assert.equal(payload.kind, 'anomaly');
  assert.equal(payload.labels.service, 'cart');
  assert.equal(payload.record.explanation, 'value 42 is 5 sd above its 1h mean');
  c.close();
});

test('bad stream queries get a JSON 400 naming the problem', async () => {
  const bad = await SseClient.open(`${server.url}/v1/alerts/stream?match[]=${encodeURIComponent('{service=~"(unclosed"}')}&severity=fatal`);
  await waitFor(() => bad.body.length > 0, 'error body');
  assert.equal(bad.status, 400);
  const body = JSON.parse(bad.body);
  assert.deepEqual(body.issues.map((i: { path: string }) => i.path), ['match[][0]', 'severity[0]']);
  const badId = await SseClient.open(`${server.url}/v1/alerts/stream`, 'not-an-id');
  await waitFor(() => badId.body.length > 0, 'error body');
  assert.equal(badId.status, 400);
  assert.match(JSON.parse(badId.body).message, /Last-Event-ID/);
});
