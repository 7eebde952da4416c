/**
 * The receiver over real loopback HTTP with the in-memory sink: acknowledgement semantics, every
 * bad-input status and reason, overload, deadline, auth and TLS.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { Registry } from 'prom-client';
import { RemoteWriteReceiver } from '../../../connectors/remote-write/server.ts';
import { MemorySink } from '../../../connectors/remote-write/sink.ts';
import { encodeWriteRequest, snappyCompress, sortedLabels } from './proto.ts';
import { InputError, TransportError } from '../../../pipelines/core/errors.ts';
import type { ReceiverOptions } from '../../../connectors/remote-write/spec.ts';
import { PROM_HEADERS, body, get, post, series, STALE_NAN } from './helpers.ts';

const T = 1_700_000_000_000;
const started: RemoteWriteReceiver[] = [];

after(async () => {
  await Promise.all(started.map((r) => r.close()));
});

async function receiver(opts: Partial<ReceiverOptions> = {}) {
  const sink = new MemorySink();
  const registry = new Registry();
  const rx = new RemoteWriteReceiver({ listen: '127.0.0.1:0', ...opts }, { sink, registry });
  const url = await rx.start();
  started.push(rx);
  return { rx, sink, registry, url, write: `${url}/api/v1/write` };
}

async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  // Histograms are listed under their base name, their series under `metricName`.
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name || name.startsWith(`${x.name}_`));
  assert.ok(m, `metric ${name} registered`);
  const v = (m.values as { value: number; labels: Record<string, string | number>; metricName?: string }[]).find(
    (x) => (x.metricName ?? m.name) === name && Object.entries(labels).every(([k, val]) => String(x.labels[k]) === val),
  );
  return v?.value ?? 0;
}

test('a good request is stored completely, then answered 204; metrics count it', async () => {
  const { sink, registry, write } = await receiver();
  const req = body([
    series({ __name__: 'up', job: 'a' }, [[T, 1], [T + 1000, 0]]),
    { ...series({ __name__: 'x', job: 'a' }, [[T, NaN]]), samples: [{ value: NaN, timestamp: T }, { value: STALE_NAN, timestamp: T + 1 }] },
  ]);
  const r = await post(write, req);
  assert.equal(r.status, 204, r.body);
  assert.equal(sink.batches.length, 2);
  assert.deepEqual(sink.batches[0]!.samples.map((s) => s.value), [1, 0]);
  assert.deepEqual(sink.batches[1]!.samples.map((s) => s.stale), [false, true]);
  assert.equal(await metricValue(registry, 'panoptes_remote_write_requests_total', { code: '204' }), 1);
  assert.equal(await metricValue(registry, 'panoptes_remote_write_samples_received_total'), 4);
  assert.equal(await metricValue(registry, 'panoptes_remote_write_samples_acknowledged_total'), 4);
  assert.equal(await metricValue(registry, 'panoptes_remote_write_series_received_total'), 2);
  assert.equal(await metricValue(registry, 'panoptes_remote_write_stale_markers_total'), 1);
  assert.equal(await metricValue(registry, 'panoptes_remote_write_received_bytes_total', { kind: 'compressed' }), req.length);
  assert.equal(await metricValue(registry, 'panoptes_remote_write_inflight_requests'), 0);
});

test('exemplars and histograms are counted as dropped in the metrics', async () => {
  const { registry, write, sink } = await receiver();
  const r = await post(write, body([
    { labels: sortedLabels({ __name__: 'h' }), samples: [{ value: 1, timestamp: T }], exemplars: [{ labels: [], value: 1, timestamp: T }], histograms: [{ countInt: 1, timestamp: T }, { countInt: 2, timestamp: T + 1 }] },
  ]));
  assert.equal(r.status, 204);
  assert.equal(sink.batches[0]!.histogramsDropped, 2);
  assert.equal(await metricValue(registry, 'panoptes_remote_write_exemplars_dropped_total'), 1);
  assert.equal(await metricValue(registry, 'panoptes_remote_write_histograms_dropped_total'), 2);
});

test('every client mistake gets its 4xx, a one-line reason, a count by reason, and nothing stored', async () => {
  const { sink, registry, write, url } = await receiver({ maxBodyBytes: 4096, maxDecodedBytes: 100_000 });
  const good = body([series({ __name__: 'up' }, [[T, 1]])]);
  const raw = (labels: { name: string; value: string }[]) => snappyCompress(encodeWriteRequest({ timeseries: [{ labels, samples: [{ value: 1, timestamp: T }] }] }));
  const bigRaw = encodeWriteRequest({ timeseries: Array.from({ length: 3000 }, (_, i) => series({ __name__: 'm', i: String(i) }, [[T, i]])) });
  const cases: { name: string; send: () => Promise<{ status: number; body: string }>; status: number; reason: string }[] = [
    { name: 'bad snappy', send: () => post(write, Buffer.from('definitely not snappy')), status: 400, reason: 'bad_snappy' },
    { name: 'bad protobuf', send: () => post(write, snappyCompress(Buffer.from([0x0a, 0x10, 0x01]))), status: 400, reason: 'bad_protobuf' },
    { name: 'missing __name__', send: () => post(write, raw([{ name: 'job', value: 'a' }])), status: 400, reason: 'missing_metric_name' },
    { name: 'unsorted', send: () => post(write, raw([{ name: '__name__', value: 'm' }, { name: 'b', value: '1' }, { name: 'a', value: '2' }])), status: 400, reason: 'unsorted_labels' },
    { name: 'duplicate', send: () => post(write, raw([{ name: '__name__', value: 'm' }, { name: 'a', value: '1' }, { name: 'a', value: '2' }])), status: 400, reason: 'duplicate_label' },
    { name: 'empty name', send: () => post(write, raw([{ name: '', value: 'x' }, { name: '__name__', value: 'm' }])), status: 400, reason: 'empty_label_name' },
    { name: 'invalid name', send: () => post(write, raw([{ name: '__name__', value: 'm' }, { name: 'a.b', value: '1' }])), status: 400, reason: 'invalid_label_name' },
    { name: 'invalid metric name', send: () => post(write, raw([{ name: '__name__', value: 'm-1' }])), status: 400, reason: 'invalid_metric_name' },
    { name: 'body too large', send: () => post(write, Buffer.alloc(5000, 1)), status: 413, reason: 'body_too_large' },
    { name: 'decompressed too large', send: () => post(write, snappyCompress(bigRaw)), status: 413, reason: 'body_too_large' },
    { name: 'no encoding', send: () => post(write, good, { 'Content-Type': 'application/x-protobuf' }), status: 415, reason: 'unsupported_encoding' },
    { name: 'gzip', send: () => post(write, good, { ...PROM_HEADERS, 'Content-Encoding': 'gzip' }), status: 415, reason: 'unsupported_encoding' },
    { name: 'json', send: () => post(write, good, { ...PROM_HEADERS, 'Content-Type': 'application/json' }), status: 415, reason: 'unsupported_content_type' },
    { name: 'remote-write 2.0 type', send: () => post(write, good, { ...PROM_HEADERS, 'Content-Type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request' }), status: 415, reason: 'unsupported_content_type' },
    { name: 'remote-write 2.0 version', send: () => post(write, good, { ...PROM_HEADERS, 'X-Prometheus-Remote-Write-Version': '2.0.0' }), status: 415, reason: 'unsupported_version' },
    { name: 'GET on write path', send: () => post(write, Buffer.alloc(0), {}, { method: 'GET' }), status: 405, reason: 'bad_method' },
  ];
  for (const c of cases) {
    const r = await c.send();
    assert.equal(r.status, c.status, `${c.name}: ${r.body}`);
    assert.ok(r.body.startsWith(`${c.reason}: `), `${c.name}: body ${JSON.stringify(r.body)}`);
    assert.equal(r.body.trimEnd().split('\n').length, 1, `${c.name}: one line`);
    assert.ok(await metricValue(registry, 'panoptes_remote_write_rejected_requests_total', { reason: c.reason }) >= 1, `${c.name} counted`);
  }
  assert.equal(sink.batches.length, 0);
  assert.equal(await metricValue(registry, 'panoptes_remote_write_requests_total', { code: '500' }), 0);
  assert.equal((await get(`${url}/nope`)).status, 404);
  // The receiver still works after all that.
  assert.equal((await post(write, good)).status, 204);
  assert.equal(sink.batches.length, 1);
});

test('a body larger than the limit without Content-Length is cut off with 413', async () => {
  const { write } = await receiver({ maxBodyBytes: 1024 });
  const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(write, { method: 'POST', headers: { ...PROM_HEADERS, 'Transfer-Encoding': 'chunked' } }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
    });
    req.on('error', reject);
    req.write(Buffer.alloc(800));
    req.end(Buffer.alloc(800));
  });
  assert.equal(r.status, 413);
  assert.match(r.body, /^body_too_large: /);
});

test('sink failure: 503 with Retry-After, nothing acknowledged; recovery: 204', async () => {
  const { sink, registry, write } = await receiver({ retryAfter: 2 });
  sink.failWith = new TransportError('broker not reachable', { retriable: true });
  const req = body([series({ __name__: 'up' }, [[T, 1]])]);
  const r = await post(write, req);
  assert.equal(r.status, 503);
  assert.equal(r.headers['retry-after'], '2');
  assert.match(r.body, /sink unavailable: TransportError: broker not reachable/);
  assert.equal(sink.batches.length, 0);
  assert.equal(await metricValue(registry, 'panoptes_remote_write_samples_acknowledged_total'), 0);
  sink.failWith = null;
  assert.equal((await post(write, req)).status, 204);
  assert.equal(sink.batches.length, 1);
});

test('a sink slower than the deadline gets 503, and its late write is not kept', async () => {
  const { sink, registry, write } = await receiver({ deadlineMs: 100 });
  sink.delayMs = 400;
  const r = await post(write, body([series({ __name__: 'up' }, [[T, 1]])]));
  assert.equal(r.status, 503);
  assert.match(r.body, /did not acknowledge within 100 ms/);
  await new Promise((res) => setTimeout(res, 500));
  assert.equal(sink.batches.length, 0);
  assert.equal(await metricValue(registry, 'panoptes_remote_write_sink_write_duration_seconds_count', { outcome: 'deadline' }), 1);
});

test('a sink that hangs instead of failing makes /healthz 503 until a write is acknowledged again', async () => {
  const { sink, write } = await receiver({ deadlineMs: 100 });
  const health = write.replace('/api/v1/write', '/healthz');
  sink.delayMs = 400;
  assert.equal((await post(write, body([series({ __name__: 'up' }, [[T, 1]])]))).status, 503);
  // The sink itself never failed: only the receiver knows the write missed its deadline.
  assert.equal(sink.healthy(), true);
  assert.equal((await get(health)).status, 503);
  sink.delayMs = 0;
  assert.equal((await post(write, body([series({ __name__: 'up' }, [[T, 1]])]))).status, 204);
  assert.equal((await get(health)).status, 200);
});

test('a sink that says the records can never be stored gets 400 sink_rejected, not an endless 503 loop', async () => {
  const { sink, write } = await receiver();
  sink.failWith = new InputError('record too large for the topic');
  const r = await post(write, body([series({ __name__: 'up' }, [[T, 1]])]));
  assert.equal(r.status, 400);
  assert.match(r.body, /^sink_rejected: record too large/);
});

test('overload: beyond max in-flight requests the reply is 429 with Retry-After, before reading the body', async () => {
  const { sink, registry, write } = await receiver({ maxInflight: 2, retryAfter: 3 });
  sink.delayMs = 300;
  const req = body([series({ __name__: 'up' }, [[T, 1]])]);
  const replies = await Promise.all([post(write, req), post(write, req), post(write, req)]);
  const codes = replies.map((r) => r.status).sort();
  assert.deepEqual(codes, [204, 204, 429]);
  const r429 = replies.find((r) => r.status === 429)!;
  assert.equal(r429.headers['retry-after'], '3');
  assert.match(r429.body, /^overloaded: /);
  assert.equal(sink.batches.length, 2);
  assert.equal(await metricValue(registry, 'panoptes_remote_write_rejected_requests_total', { reason: 'overloaded' }), 1);
});

test('overload by bytes: requests whose bytes would pass the in-flight byte budget get 429', async () => {
  const req = body(Array.from({ length: 50 }, (_, i) => series({ __name__: 'm', i: String(i) }, [[T, i]])));
  const { sink, write } = await receiver({ maxBodyBytes: req.length, maxInflightBytes: req.length + 10 });
  sink.delayMs = 300;
  const replies = await Promise.all([post(write, req), post(write, req)]);
  assert.deepEqual(replies.map((r) => r.status).sort(), [204, 429]);
});

test('/healthz follows the sink, /metrics serves the registry', async () => {
  const { sink, url } = await receiver();
  assert.equal((await get(`${url}/healthz`)).status, 200);
  sink.failWith = new Error('down');
  assert.equal((await get(`${url}/healthz`)).status, 503);
  const m = await get(`${url}/metrics`);
  assert.equal(m.status, 200);
  assert.match(m.body, /panoptes_remote_write_requests_total/);
});

test('bearer auth: 401 without or with a wrong token, 204 with the right one', async () => {
  const { write, sink, registry } = await receiver({ bearerToken: 's3cret-token' });
  const req = body([series({ __name__: 'up' }, [[T, 1]])]);
  const none = await post(write, req);
  assert.equal(none.status, 401);
  assert.match(String(none.headers['www-authenticate']), /^Bearer/);
  assert.match(none.body, /^unauthorized: credentials required/);
  assert.equal((await post(write, req, { ...PROM_HEADERS, Authorization: 'Bearer s3cret-tokeN' })).status, 401);
  assert.equal((await post(write, req, { ...PROM_HEADERS, Authorization: 'Bearer s3cret-token-longer' })).status, 401);
  assert.equal((await post(write, req, { ...PROM_HEADERS, Authorization: `Basic ${Buffer.from('a:s3cret-token').toString('base64')}` })).status, 401);
  assert.equal((await post(write, req, { ...PROM_HEADERS, Authorization: 'Bearer s3cret-token' })).status, 204);
  assert.equal(sink.batches.length, 1);
  assert.equal(await metricValue(registry, 'panoptes_remote_write_rejected_requests_total', { reason: 'unauthorized' }), 4);
});

test('basic auth: 401 without or with wrong credentials, 204 with the right ones (password may hold ":")', async () => {
  const { write } = await receiver({ basicAuth: { username: 'prom', password: 'pa:ss' } });
  const req = body([series({ __name__: 'up' }, [[T, 1]])]);
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const none = await post(write, req);
  assert.equal(none.status, 401);
  assert.match(String(none.headers['www-authenticate']), /^Basic/);
  assert.equal((await post(write, req, { ...PROM_HEADERS, Authorization: `Basic ${b64('prom:pa:sS')}` })).status, 401);
  assert.equal((await post(write, req, { ...PROM_HEADERS, Authorization: `Basic ${b64('Prom:pa:ss')}` })).status, 401);
  assert.equal((await post(write, req, { ...PROM_HEADERS, Authorization: 'Basic !!!' })).status, 401);
  assert.equal((await post(write, req, { ...PROM_HEADERS, Authorization: `Basic ${b64('prom:pa:ss')}` })).status, 204);
});

test('TLS: serves HTTPS with the configured certificate and key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rw-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const cert = readFileSync(join(dir, 'cert.pem'));
    const { url, write, sink } = await receiver({ tls: { cert, key: readFileSync(join(dir, 'key.pem')) }, bearerToken: 't' });
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const r = await post(write, body([series({ __name__: 'up' }, [[T, 1]])]), { ...PROM_HEADERS, Authorization: 'Bearer t' }, { ca: cert });
    assert.equal(r.status, 204);
    assert.equal(sink.batches.length, 1);
    // Plain HTTP against the TLS port does not get through.
    await assert.rejects(post(write.replace('https:', 'http:'), Buffer.alloc(1)).then((x) => (x.status === 204 ? x : Promise.reject(new Error('refused')))));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
