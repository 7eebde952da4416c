import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { decodeCursor, tpKey } from '../../../connectors/alerts/cursor.ts';
import { EventBuilder } from '../../../connectors/alerts/events.ts';
import { AlertLog } from '../../../connectors/alerts/log.ts';
import { alertsMetrics } from '../../../connectors/alerts/metrics.ts';
import { verifySignature } from '../../../connectors/alerts/sign.ts';
import type { SubscriptionStore } from '../../../connectors/alerts/store.ts';
import { subscriptionFromRequest } from '../../../connectors/alerts/subscription.ts';
import { WebhookWorker } from '../../../connectors/alerts/webhook.ts';
import { silentLogger } from '../../../pipelines/core/logger.ts';
import type { Anomaly } from '../../../pipelines/core/records.ts';
import type { Serde } from '../../../pipelines/core/serde.ts';
import type { OutRecord, Producer, Transport } from '../../../pipelines/core/transport/types.ts';
import { waitFor } from '../../helpers/infra.ts';

const b = new EventBuilder();
const an = (id: string, offset: number, service = 'checkout') =>
  b.build('anomaly', { id, fingerprint: id, labels: { service }, timestampMs: 0, value: 1, ruleId: null, ruleVersion: null, ruleKind: null, severity: 'warning', detector: 'z', baseScore: 0, explanation: '', clauses: [], detectedAtMs: 0 } satisfies Anomaly, { topic: 'anomalies', partition: 0, offset: String(offset) }, 0);

function setup(answers: (n: number, body: string) => Response, initialBackoffMs = 5) {
  const progress: string[] = [];
  const dead: OutRecord[] = [];
  const calls: { body: string; sig: string; at: number }[] = [];
  const store = { putProgress: async (_id: string, c: string) => void progress.push(c) } as unknown as SubscriptionStore;
  const producer = { send: async (r: OutRecord[]) => (dead.push(...r), []) } as unknown as Producer;
  const fakeFetch = (async (_url: string, init: RequestInit) => {
    const body = String(init.body);
    calls.push({ body, sig: (init.headers as Record<string, string>)['x-panoptes-signature'], at: Date.now() });
    return answers(calls.length, body);
  }) as unknown as typeof fetch;
  const sub = subscriptionFromRequest({ match: ['{service="checkout"}'], webhook: { url: 'http://hook/x', secret: 'unit-test-secret-123', maxRetries: 2, initialBackoffMs, maxBackoffMs: 400, timeoutMs: 1000 } }, 0, 'sub_t');
  const log = new AlertLog({ transport: {} as Transport, serde: {} as Serde, prefix: 'p.', bufferPerPartition: 100 });
  const registry = new Registry();
  const w = new WebhookWorker(sub, new Map([[tpKey('anomalies', 0), '1']]), { store, producer, prefix: 'p.', metrics: alertsMetrics(registry), log: silentLogger, fetch: fakeFetch, progressFlushMs: 20 });
  w.start(log);
  return { log, w, progress, dead, calls, registry };
}

test('a 4xx other than 408/429 is dead-lettered at once; progress follows each finished alert', async () => {
  const t = setup((n) => new Response('', { status: n === 1 ? 400 : 200 }));
  t.log.append(an('before-cursor', 0));
  t.log.append(an('x', 1));
  t.log.append(an('other', 2, 'cart'));
  t.log.append(an('y', 3));
  await waitFor(() => t.calls.length === 2 && t.progress.includes('1:a0=4'), 'two calls and progress', 5000, 5);
  assert.deepEqual(t.calls.map((c) => JSON.parse(c.body).id), ['x', 'y'], 'the cursor skips offset 0; the filter skips cart');
  assert.equal(t.dead.length, 1);
  assert.equal(t.dead[0].topic, 'p.dead-letters');
  assert.equal(t.dead[0].headers!['panoptes.dlq.attempts'], '1');
  assert.match(t.dead[0].headers!['panoptes.dlq.reason'], /answered 400/);
  assert.equal(t.progress[0], '1:a0=2', 'written once x was dead-lettered');
  assert.ok(t.calls.every((c) => verifySignature('unit-test-secret-123', c.sig, c.body, Math.floor(Date.now() / 1000))));
  await t.w.stop();
  assert.deepEqual(decodeCursor(t.progress[t.progress.length - 1]), new Map([[tpKey('anomalies', 0), '4']]));
});

test('Retry-After is honoured (capped by maxBackoffMs) on 429; the attempts are counted per subscription', async () => {
  const t = setup((n) => new Response('', { status: n === 1 ? 429 : 200, headers: n === 1 ? { 'retry-after': '0.3' } : {} }));
  t.log.append(an('z', 1));
  await waitFor(() => t.calls.length === 2, 'retry', 5000, 5);
  assert.ok(t.calls[1].at - t.calls[0].at >= 280, `waited ${t.calls[1].at - t.calls[0].at} ms`);
  await t.w.stop();
  const text = await t.registry.metrics();
  assert.match(text, /panoptes_alerts_webhook_attempts_total\{subscription="sub_t",result="4xx"\} 1/);
  assert.match(text, /panoptes_alerts_webhook_deliveries_total\{subscription="sub_t",outcome="delivered"\} 1/);
});

test('stopping mid-retry leaves the alert unfinished (no progress past it)', async () => {
  const t = setup(() => new Response('', { status: 503 }), 300);
  t.log.append(an('stuck', 1));
  await waitFor(() => t.calls.length >= 1, 'first attempt', 5000, 5);
  await t.w.stop();
  assert.equal(t.dead.length, 0);
  assert.ok(t.progress.every((c) => c !== '1:a0=2'), 'the stuck alert is not marked done');
});
