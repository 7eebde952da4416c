import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { decodeCursor, tpKey } from '../../../connectors/alerts/cursor.ts';
import { EventBuilder } from '../../../connectors/alerts/events.ts';
import { AlertLog } from '../../../connectors/alerts/log.ts';
import { alertsMetrics } from '../../../connectors/alerts/metrics.ts';
import { verifySignature } from '../../../connectors/alerts/sign.ts';
import type { SubscriptionStore } from '../../../connectors/alerts/store.ts';
import { WebhookKeyring } from '../../../connectors/alerts/secrets.ts';
import { subscriptionFromRequest } from '../../../connectors/alerts/subscription.ts';
import { WebhookWorker, type PostFn } from '../../../connectors/alerts/webhook.ts';
import { silentLogger } from '../../../pipelines/core/logger.ts';
import type { Anomaly } from '../../../pipelines/core/records.ts';
import type { Serde } from '../../../pipelines/core/serde.ts';
import type { OutRecord, Producer, Transport } from '../../../pipelines/core/transport/types.ts';
import { waitFor } from '../../helpers/infra.ts';
import { DLQ_HEADERS } from '../../../pipelines/core/dead-letter.ts';

const b = new EventBuilder();
const an = (id: string, offset: number, service = 'checkout') =>
  b.build('anomaly', { id, fingerprint: id, labels: { service }, timestampMs: 0, value: 1, ruleId: null, ruleVersion: null, ruleKind: null, severity: 'warning', detector: 'z', baseScore: 0, explanation: '', clauses: [], detectedAtMs: 0 } satisfies Anomaly, { topic: 'anomalies', partition: 0, offset: String(offset) }, 0);

const keyring = new WebhookKeyring(Buffer.from('unit-test-master-secret-0123456789abcdef'));

function setup(answers: (n: number, body: string) => { status: number; retryAfter?: string }, o: { initialBackoffMs?: number; maxQueue?: number; buffer?: number } = {}) {
  const progress: string[] = [];
  const dead: OutRecord[] = [];
  const calls: { body: string; sig: string; at: number }[] = [];
  const store = { putProgress: async (_id: string, c: string) => void progress.push(c) } as unknown as SubscriptionStore;
  const producer = { send: async (r: OutRecord[]) => (dead.push(...r), []) } as unknown as Producer;
  let hold: Promise<void> | null = null;
  const post: PostFn = async (_url, body, _policy, opts) => {
    calls.push({ body, sig: opts.headers['x-panoptes-signature']!, at: Date.now() });
    if (hold) await hold;
    const a = answers(calls.length, body);
    return { status: a.status, retryAfter: a.retryAfter ?? null };
  };
  const { sub, secret } = subscriptionFromRequest({ match: ['{service="checkout"}'], webhook: { url: 'http://hook/x', secret: 'unit-test-secret-123', maxRetries: 2, initialBackoffMs: o.initialBackoffMs ?? 5, maxBackoffMs: 400, timeoutMs: 1000 } }, 0, { keyring, id: 'sub_t' });
  const log = new AlertLog({ transport: {} as Transport, serde: {} as Serde, prefix: 'p.', bufferPerPartition: o.buffer ?? 100 });
  const registry = new Registry();
  const w = new WebhookWorker(sub, new Map([[tpKey('anomalies', 0), '1']]), { store, producer, prefix: 'p.', metrics: alertsMetrics(registry), log: silentLogger, post, secret: secret!, policy: { allowPrivate: false }, progressFlushMs: 20, maxQueue: o.maxQueue });
  w.start(log);
  return {
    log, w, progress, dead, calls, registry,
    /** Holds every POST until the returned function is called. */
    block() {
      let release!: () => void;
      hold = new Promise((r) => (release = r));
      return () => {
        hold = null;
        release();
      };
    },
  };
}

test('a 4xx other than 408/429 is dead-lettered at once; progress follows each finished alert', async () => {
  const t = setup((n) => ({ status: n === 1 ? 400 : 200 }));
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
  const t = setup((n) => (n === 1 ? { status: 429, retryAfter: '0.3' } : { status: 200 }));
  t.log.append(an('z', 1));
  await waitFor(() => t.calls.length === 2, 'retry', 5000, 5);
  assert.ok(t.calls[1].at - t.calls[0].at >= 280, `waited ${t.calls[1].at - t.calls[0].at} ms`);
  await t.w.stop();
  const text = await t.registry.metrics();
  assert.match(text, /panoptes_alerts_webhook_attempts_total\{subscription="sub_t",result="failed"\} 1/);
  assert.match(text, /panoptes_alerts_webhook_attempts_total\{subscription="sub_t",result="ok"\} 1/);
  assert.doesNotMatch(text, /\b4xx\b|"429"|hook\/x|result="(network|timeout)/, 'nothing about the target or its answer on /metrics');
  assert.match(text, /panoptes_alerts_webhook_deliveries_total\{subscription="sub_t",outcome="delivered"\} 1/);
});

test('stopping mid-retry leaves the alert unfinished (no progress past it)', async () => {
  const t = setup(() => ({ status: 503 }), { initialBackoffMs: 300 });
  t.log.append(an('stuck', 1));
  await waitFor(() => t.calls.length >= 1, 'first attempt', 5000, 5);
  await t.w.stop();
  assert.equal(t.dead.length, 0);
  assert.ok(t.progress.every((c) => c !== '1:a0=2'), 'the stuck alert is not marked done');
});

test('a full queue stops taking alerts; the worker resumes from the replay buffer and reports what it evicted as a gap', async () => {
  const t = setup(() => ({ status: 200 }), { maxQueue: 2, buffer: 3 });
  const release = t.block();
  t.log.append(an('q1', 1));
  await waitFor(() => t.calls.length === 1, 'first POST in flight', 5000, 5);
  // q1 is in flight; q2 and q3 fill the queue; q4..q8 are not taken, and the buffer (3) keeps only q6..q8.
  for (let i = 2; i <= 8; i++) t.log.append(an(`q${i}`, i));
  assert.equal(t.w.pending, 2);
  assert.equal(t.w.isPaused, true);
  release();
  await waitFor(() => t.calls.length === 6, 'q1..q3, then q6..q8 from the buffer', 5000, 5);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(t.calls.map((c) => JSON.parse(c.body).id), ['q1', 'q2', 'q3', 'q6', 'q7', 'q8']);
  const gap = t.dead.find((d) => d.headers![DLQ_HEADERS.error] === 'WEBHOOK_GAP');
  assert.ok(gap, 'the skipped range is a dead-letter record');
  assert.deepEqual(JSON.parse(String(gap.value)).gap, { topic: 'anomalies', partition: 0, fromOffset: '4', toOffset: '6' });
  await t.w.stop();
  assert.equal(t.progress[t.progress.length - 1], '1:a0=9');
  const text = await t.registry.metrics();
  // Full twice: at q4, and again at q8 while the replay of q6, q7 refilled the queue.
  assert.match(text, /panoptes_alerts_webhook_queue_full_total\{subscription="sub_t"\} 2/);
  assert.match(text, /panoptes_alerts_webhook_gaps_total\{subscription="sub_t"\} 1/);
});

test('a target the egress policy refuses at delivery is dead-lettered at once, not retried', async () => {
  const { postChecked } = await import('../../../connectors/alerts/egress.ts');
  for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://127.0.0.1:9/x', 'http://[::1]:9/x', 'http://localhost:9/x', 'http://[::ffff:10.0.0.1]/x']) {
    await assert.rejects(postChecked(url, '{}', { allowPrivate: false }, { headers: {}, timeoutMs: 1000 }), (err: Error & { kind?: string }) => err.kind === 'refused', url);
  }
  // DNS rebinding: a name that resolves to an internal address at delivery time.
  await assert.rejects(
    postChecked('http://rebind.example/x', '{}', { allowPrivate: false, resolve: async () => [{ address: '169.254.169.254', family: 4 }] }, { headers: {}, timeoutMs: 1000 }),
    (err: Error & { kind?: string }) => err.kind === 'refused' && /rebind\.example resolves to 169\.254\.169\.254, a link-local address/.test(err.message),
  );
});
