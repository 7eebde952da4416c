import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../../pipelines/core/errors.ts';
import { parseCommandArgs } from '../../../pipelines/core/cli.ts';
import { commands } from '../../../connectors/alerts/cli.ts';
import { alertsSpec } from '../../../connectors/alerts/spec.ts';
import { WebhookKeyring } from '../../../connectors/alerts/secrets.ts';
import { tpKey } from '../../../connectors/alerts/cursor.ts';
import { EventBuilder, eventMatches } from '../../../connectors/alerts/events.ts';
import { AlertLog } from '../../../connectors/alerts/log.ts';
import { subscriptionFilter, subscriptionFromRequest, SubscriptionInvalid } from '../../../connectors/alerts/subscription.ts';
import type { Anomaly } from '../../../pipelines/core/records.ts';
import type { Serde } from '../../../pipelines/core/serde.ts';
import type { Transport } from '../../../pipelines/core/transport/types.ts';

const b = new EventBuilder();
const an = (id: string, partition: number, offset: number, service = 'checkout') =>
  b.build('anomaly', { id, fingerprint: id, labels: { __name__: 'latency', service }, timestampMs: 0, value: 1, ruleId: null, ruleVersion: null, ruleKind: null, severity: 'warning', detector: 'z', baseScore: 0, explanation: '', clauses: [], detectedAtMs: 0 } satisfies Anomaly, { topic: 'anomalies', partition, offset: String(offset) }, 0);

function log(buffer = 100) {
  return new AlertLog({ transport: {} as Transport, serde: {} as Serde, prefix: '', bufferPerPartition: buffer });
}

test('follow replays from the cursor in arrival order, then goes live, never repeating', () => {
  const l = log();
  l.append(an('a', 0, 0));
  l.append(an('b', 1, 0));
  l.append(an('c', 0, 1));
  const got: string[] = [];
  const stop = l.follow(new Map([[tpKey('anomalies', 0), '1']]), (e) => got.push(e.id));
  assert.deepEqual(got, ['b', 'c'], 'partition 0 from offset 1; partition 1 (absent) from its start');
  l.append(an('d', 1, 1));
  l.append(an('c', 0, 1)); // the same record again (a second reader, a replay): not repeated
  stop();
  l.append(an('e', 0, 2));
  assert.deepEqual(got, ['b', 'c', 'd']);
});

test('evicted records are reported as a gap', () => {
  const l = log(2);
  for (let i = 0; i < 5; i++) l.append(an(`x${i}`, 0, i));
  const got: string[] = [];
  const gaps: unknown[] = [];
  l.follow(new Map([[tpKey('anomalies', 0), '1']]), (e) => got.push(e.id), (topic, partition, wantedFrom, firstKept) => gaps.push({ topic, partition, wantedFrom, firstKept }));
  assert.deepEqual(got, ['x3', 'x4']);
  assert.deepEqual(gaps, [{ topic: 'anomalies', partition: 0, wantedFrom: '1', firstKept: '3' }]);
  const none: unknown[] = [];
  l.follow(new Map([[tpKey('anomalies', 0), '3']]), () => {}, (...a) => none.push(a));
  assert.deepEqual(none, []);
});

const keyring = new WebhookKeyring(Buffer.from('unit-test-master-secret-0123456789abcdef'));

test('subscription requests: defaults, filters, a sealed secret, every problem reported', () => {
  const { sub: s, secret } = subscriptionFromRequest({ match: ['{service=~"check.*"}'], severities: ['warning'], webhook: { url: 'https://hooks.example/x' } }, 5, { keyring, id: 'sub_1' });
  assert.equal(s.id, 'sub_1');
  assert.equal(s.createdAtMs, 5);
  assert.deepEqual({ ...s.webhook, sealedSecret: undefined }, { url: 'https://hooks.example/x', sealedSecret: undefined, maxRetries: 5, initialBackoffMs: 500, maxBackoffMs: 60000, timeoutMs: 10000 });
  assert.ok(secret!.length >= 32, 'a secret is generated');
  assert.ok(!JSON.stringify(s).includes(secret!), 'the stored subscription never holds the secret in clear');
  assert.equal(keyring.open(s.webhook!.sealedSecret!, 'sub_1'), secret, 'the server opens it again');
  assert.throws(() => keyring.open(s.webhook!.sealedSecret!, 'sub_2'), /does not open/, 'not on another subscription');
  assert.throws(() => new WebhookKeyring(Buffer.from('another-master-secret-0123456789abcdef')).open(s.webhook!.sealedSecret!, 'sub_1'), /another master secret/);
  const f = subscriptionFilter(s);
  assert.equal(eventMatches(f, an('a', 0, 0, 'checkout')), true);
  assert.equal(eventMatches(f, an('a', 0, 0, 'cart')), false);
  assert.equal(eventMatches({ ...f, severities: ['critical'] }, an('a', 0, 0)), false);
  assert.equal(eventMatches({ ...f, kinds: ['incident'] }, an('a', 0, 0)), false);
  try {
    subscriptionFromRequest({ match: 'x', name: 3, webhook: { url: 'nope', secret: 'short', initialBackoffMs: 1000, maxBackoffMs: 10, extra: 1 } }, 0, { keyring });
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof SubscriptionInvalid);
    assert.deepEqual(err.issues.map((i) => i.path).sort(), ['name', 'match', 'webhook.extra', 'webhook.url', 'webhook.secret', 'webhook.maxBackoffMs'].sort());
  }
  assert.throws(() => subscriptionFromRequest(null, 0, { keyring }), /expected a JSON object/);
  assert.throws(() => subscriptionFromRequest({ webhook: { url: 'https://hooks.example/x' } }, 0, { keyring: null }), /without --webhook-secret-file/);
});

test('CLI options come from the spec and are validated, every problem named by its flag', () => {
  const cmd = commands.find((c) => c.name === 'alerts')!;
  const o = alertsSpec.fromArgs(parseCommandArgs(cmd, ['--listen', '127.0.0.1:18301', '--alertmanager', 'http://127.0.0.1:19093', '--alertmanager', 'http://am2:9093/', '--resend-ms', '30000', '--webhook-allow-private']));
  assert.equal(o.listen, '127.0.0.1:18301');
  assert.deepEqual(o.alertmanager, ['http://127.0.0.1:19093', 'http://am2:9093/']);
  assert.equal(o.resendMs, 30000);
  assert.equal(o.heartbeatMs, 15000);
  assert.equal(o.webhookAllowPrivate, true);
  assert.equal(o.maxSubscriptions, 1000);
  assert.throws(() => alertsSpec.fromArgs(parseCommandArgs(cmd, ['--listen', 'nope', '--alertmanager', 'ftp://x', '--tick-ms', '0'])), (err: unknown) => {
    assert.ok(err instanceof UsageError);
    assert.match(err.message, /--listen: expected host:port/);
    assert.match(err.message, /--alertmanager: expected a list of http\(s\) URLs/);
    assert.match(err.message, /--tick-ms: expected an integer ≥ 1, got 0/);
    return true;
  });
  assert.throws(() => alertsSpec.parse({ tickMs: 5000, resendMs: 1000 }), /tickMs: must not exceed resendMs/);
});
