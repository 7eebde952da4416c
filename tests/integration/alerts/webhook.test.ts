/**
 * Webhooks on real Kafka: a receiver that fails three times (503) and then succeeds gets the
 * alert once, every attempt validly signed and carrying the same delivery id; a receiver that
 * always fails gets a dead-letter record after the last retry; per-subscription metrics count
 * both. Then the alerts server is restarted: nothing delivered is sent again, and the next alert
 * is delivered once (progress is committed on the subscription topic).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../../connectors/alerts/sign.ts';
import { DLQ_HEADERS } from '../../../pipelines/core/dead-letter.ts';
import { topicName } from '../../../pipelines/core/topics.ts';
import { waitFor } from '../../helpers/infra.ts';
import { harness, json, type Harness } from './helpers.ts';

interface Hit {
  status: number;
  body: string;
  signature: string | undefined;
  delivery: string | undefined;
  at: number;
}

class Receiver {
  readonly hits: Hit[] = [];
  private server!: Server;
  url = '';
  constructor(private readonly answer: (n: number) => number) {}
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const status = this.answer(this.hits.length + 1);
        this.hits.push({ status, body: Buffer.concat(chunks).toString('utf8'), signature: req.headers['x-panoptes-signature'] as string | undefined, delivery: req.headers['x-panoptes-delivery'] as string | undefined, at: Date.now() });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }
  delivered(): Hit[] {
    return this.hits.filter((h) => h.status === 200);
  }
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

let h: Harness;
const flaky = new Receiver((n) => (n <= 3 ? 503 : 200));
const broken = new Receiver(() => 500);
const SECRET = 'test-secret-0123456789abcdef';

before(async () => {
  h = await harness('alerts-webhook');
  await flaky.start();
  await broken.start();
});

after(async () => {
  await flaky.close();
  await broken.close();
  await h?.close();
});

test('retries until delivered once, signed; dead-letters after the last retry; survives a restart without re-sending', async () => {
  let server = await h.server();
  const retry = { initialBackoffMs: 50, maxBackoffMs: 200, timeoutMs: 2000 };
  const ok = await json(`${server.url}/v1/subscriptions`, { method: 'POST', body: JSON.stringify({ match: ['{service="checkout"}'], webhook: { url: flaky.url, secret: SECRET, maxRetries: 5, ...retry } }) });
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
  assert.equal(ok.body.webhook.secret, SECRET, 'the create answer shows the secret once');
  const dead = await json(`${server.url}/v1/subscriptions`, { method: 'POST', body: JSON.stringify({ match: ['{service="checkout"}'], webhook: { url: broken.url, maxRetries: 2, ...retry } }) });
  assert.equal(dead.status, 201);
  const listed = await json(`${server.url}/v1/subscriptions`);
  assert.ok(listed.body.subscriptions.every((s: { webhook: { secret?: string; secretSet: boolean } }) => s.webhook.secret === undefined && s.webhook.secretSet));

  await h.anomaly({ id: 'w-ignored', labels: { __name__: 'latency', service: 'payments' } });
  await h.anomaly({ id: 'w1', labels: { __name__: 'latency', service: 'checkout' } });
  await waitFor(() => flaky.delivered().length === 1, 'delivery after three failures', 20000);
  await waitFor(() => broken.hits.length === 3, 'three attempts at the broken receiver', 20000);

  assert.deepEqual(flaky.hits.map((x) => x.status), [503, 503, 503, 200]);
  const nowS = Math.floor(Date.now() / 1000);
  for (const hit of flaky.hits) assert.ok(verifySignature(SECRET, hit.signature, hit.body, nowS), `valid signature: ${hit.signature}`);
  assert.ok(!verifySignature('another-secret-0123456789', flaky.hits[3].signature, flaky.hits[3].body, nowS), 'a wrong secret does not verify');
  assert.ok(!verifySignature(SECRET, flaky.hits[3].signature, flaky.hits[3].body.replace('w1', 'w2'), nowS), 'a changed body does not verify');
  assert.equal(new Set(flaky.hits.map((x) => x.delivery)).size, 1, 'one delivery id across attempts');
  const body = JSON.parse(flaky.delivered()[0].body);
  assert.equal(body.id, 'w1');
  assert.equal(body.subscription, ok.body.id);
  for (let i = 2; i < flaky.hits.length; i++) assert.ok(flaky.hits[i].at - flaky.hits[i - 1].at >= 20, 'backoff between attempts');

  const dlq = await waitFor(async () => {
    const recs = await h.rt.transport.readToEnd(topicName('deadLetters', h.prefix));
    return recs.length > 0 ? recs : null;
  }, 'dead-letter record', 20000);
  assert.equal(dlq.length, 1);
  assert.equal(dlq[0].headers[DLQ_HEADERS.stage], 'alerts-webhook');
  assert.equal(dlq[0].headers['panoptes.dlq.subscription'], dead.body.id);
  assert.equal(dlq[0].headers['panoptes.dlq.attempts'], '3');
  assert.match(dlq[0].headers[DLQ_HEADERS.reason], /failed after 3 attempt/);
  assert.equal(JSON.parse(dlq[0].value!.toString()).id, 'w1');

  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, new RegExp(`panoptes_alerts_webhook_deliveries_total\\{subscription="${ok.body.id}",outcome="delivered"\\} 1`));
  assert.match(metrics, new RegExp(`panoptes_alerts_webhook_deliveries_total\\{subscription="${dead.body.id}",outcome="dead_lettered"\\} 1`));
  assert.match(metrics, new RegExp(`panoptes_alerts_webhook_attempts_total\\{subscription="${ok.body.id}",result="failed"\\} 3`));

  // Restart: a new server reads subscriptions and progress back; nothing is re-sent.
  await server.close();
  server = await h.server();
  assert.equal((await json(`${server.url}/v1/subscriptions`)).body.subscriptions.length, 2);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(flaky.hits.length, 4, 'no re-send after the restart');
  assert.equal(broken.hits.length, 3, 'the dead-lettered alert is not retried after the restart');
  await h.anomaly({ id: 'w2', labels: { __name__: 'latency', service: 'checkout' } });
  await waitFor(() => flaky.delivered().length === 2, 'the next alert after the restart', 20000);
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(flaky.delivered().map((x) => JSON.parse(x.body).id), ['w1', 'w2']);
  await server.close();
});
