/**
 * A real Prometheus remote-writing into the receiver with the in-memory sink: series arrive and
 * decode, one series' samples equal what Prometheus's own query API returns for the same range,
 * and the staleness markers Prometheus writes when its target disappears arrive as stale: true.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { RemoteWriteReceiver } from '../../../connectors/remote-write/server.ts';
import { MemorySink } from '../../../connectors/remote-write/sink.ts';
import type { MetricBatch } from '../../../pipelines/core/records.ts';
import { CounterTarget, PrometheusProcess, waitFor } from './prometheus.ts';

const prom = new PrometheusProcess();
const target = new CounterTarget();
const sink = new MemorySink();
const receiver = new RemoteWriteReceiver({ listen: '127.0.0.1:0' }, { sink, registry: new Registry() });

after(async () => {
  await prom.stop();
  await target.stop();
  await receiver.close();
});

function samplesOf(batches: MetricBatch[], name: string, labels: Record<string, string> = {}) {
  return batches
    .filter((b) => b.labels.__name__ === name && Object.entries(labels).every(([k, v]) => b.labels[k] === v))
    .flatMap((b) => b.samples);
}

test('Prometheus → receiver: series decode and match Prometheus\'s own query for the same range', { timeout: 180_000 }, async () => {
  await target.start();
  const url = await receiver.start();
  await prom.start({ writeUrl: `${url}/api/v1/write`, targetPort: target.port });

  await waitFor('12 samples of rw_test_scrapes_total', 90_000, () => samplesOf(sink.batches, 'rw_test_scrapes_total').length >= 12);

  // Series arrive with their labels, fingerprints and Prometheus's own metrics alongside.
  const counter = sink.batches.find((b) => b.labels.__name__ === 'rw_test_scrapes_total')!;
  assert.deepEqual({ ...counter.labels }, { __name__: 'rw_test_scrapes_total', instance: `127.0.0.1:${target.port}`, job: 'rw-target', kind: 'counter' });
  assert.match(counter.fingerprint, /^[0-9a-f]{16}$/);
  assert.ok(sink.batches.some((b) => b.labels.__name__ === 'up'), 'up arrives');
  const waves = new Set(sink.batches.filter((b) => b.labels.__name__ === 'rw_test_wave').map((b) => b.labels.shard));
  assert.equal(waves.size, 20);
  for (const b of sink.batches) {
    assert.equal(b.fingerprint, sink.batches.find((x) => JSON.stringify({ ...x.labels }) === JSON.stringify({ ...b.labels }))!.fingerprint);
  }

  // Compare one series over a fixed range ending at a sample the receiver already has.
  const got = samplesOf(sink.batches, 'rw_test_scrapes_total');
  const endMs = got[got.length - 1]!.timestampMs;
  const rangeS = 60;
  const fromProm = await prom.rangeSamples('rw_test_scrapes_total', rangeS, endMs);
  assert.equal(fromProm.length, 1);
  const expected = fromProm[0]!.samples;
  const received = got.filter((s) => s.timestampMs > endMs - rangeS * 1000 && s.timestampMs <= endMs).map((s) => [s.timestampMs, s.value] as [number, number]);
  assert.ok(expected.length >= 12, `Prometheus has ${expected.length} samples in the range`);
  assert.deepEqual(received, expected);
  // The counter counts scrapes: consecutive values, no gaps, in order.
  assert.deepEqual(received.map(([, v]) => v), received.map((_, i) => received[0]![1] + i));

  // Take the target away: Prometheus writes staleness markers for its series.
  await target.stop();
  await waitFor('a staleness marker for rw_test_scrapes_total', 60_000, () => samplesOf(sink.batches, 'rw_test_scrapes_total').some((s) => s.stale));
  const stale = samplesOf(sink.batches, 'rw_test_scrapes_total').filter((s) => s.stale);
  assert.ok(stale.every((s) => Number.isNaN(s.value)));
  assert.ok(stale[0]!.timestampMs > endMs);
  assert.ok(!got.slice(0, -1).some((s) => s.stale), 'no stale marker while the target was up');
});

test('Prometheus over HTTPS with a bearer token from a credentials file: accepted, never 401', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rw-prom-tls-'));
  const prom2 = new PrometheusProcess();
  const target2 = new CounterTarget();
  const sink2 = new MemorySink();
  const registry2 = new Registry();
  let rx: RemoteWriteReceiver | null = null;
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    writeFileSync(join(dir, 'token'), 'it-token-0123456789\n');
    rx = new RemoteWriteReceiver(
      { listen: '127.0.0.1:0', bearerToken: 'it-token-0123456789', tls: { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) } },
      { sink: sink2, registry: registry2 },
    );
    await target2.start();
    const url = await rx.start();
    assert.match(url, /^https:/);
    await prom2.start({
      writeUrl: `${url}/api/v1/write`,
      targetPort: target2.port,
      extra: ['    authorization:', `      credentials_file: ${join(dir, 'token')}`, '    tls_config:', `      ca_file: ${join(dir, 'cert.pem')}`],
    });
    await waitFor('5 counter samples over HTTPS', 90_000, () => samplesOf(sink2.batches, 'rw_test_scrapes_total').length >= 5);
    const json = await registry2.getMetricsAsJSON();
    const rejects = json.find((m) => m.name === 'panoptes_remote_write_rejected_requests_total')!.values;
    assert.deepEqual(rejects, [], 'no request refused');
    const ok = (json.find((m) => m.name === 'panoptes_remote_write_requests_total')!.values as { value: number; labels: Record<string, unknown> }[]).find((v) => v.labels.code === '204');
    assert.ok(ok && ok.value >= 1);
  } finally {
    await prom2.stop();
    await target2.stop();
    await rx?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
