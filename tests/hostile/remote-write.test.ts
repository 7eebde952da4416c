/**
 * The remote-write receiver under hostile input (issue 15), over real loopback HTTP: every limit
 * refuses with a 4xx and a one-line reason before anything reaches the sink, a decompression bomb
 * costs little and never blocks /healthz for long, and a fuzzer over bodies (random protobuf,
 * truncated and corrupt snappy, mutations of a valid request) finds no 5xx, no multi-line reply
 * and no moment when /healthz does not answer within 1 s.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { MemorySink, RemoteWriteReceiver, TopicSink, type ReceiverOptions } from '../../connectors/remote-write/index.ts';
import { TransportError } from '../../pipelines/core/errors.ts';
import { encodeWriteRequest, snappyCompress, sortedLabels, type PbLabel, type PbTimeSeries } from '../unit/remote-write/proto.ts';
import { body, get, post, PROM_HEADERS } from '../unit/remote-write/helpers.ts';

const started: RemoteWriteReceiver[] = [];
after(async () => {
  await Promise.all(started.map((r) => r.close()));
});

async function receiver<S extends MemorySink | TopicSink = MemorySink>(opts: Partial<ReceiverOptions> = {}, sink: S = new MemorySink() as S) {
  const registry = new Registry();
  const rx = new RemoteWriteReceiver({ listen: '127.0.0.1:0', ...opts }, { sink, registry });
  const url = await rx.start();
  started.push(rx);
  return { sink, url, write: `${url}/api/v1/write`, healthz: `${url}/healthz` };
}

const now = () => Date.now();
const one = (labels: Record<string, string>, samples = [{ value: 1, timestamp: now() }]): PbTimeSeries => ({ labels: sortedLabels(labels), samples });

/** Asserts a refusal: the status, the reason as the reply's first word, one line, nothing stored. */
function refused(r: { status: number; body: string }, status: number, reason: string, sink?: MemorySink): void {
  assert.equal(r.status, status, r.body);
  assert.ok(r.body.startsWith(`${reason}:`), `reason ${reason}, got ${r.body}`);
  assert.equal(r.body.trimEnd().split('\n').length, 1, 'one line');
  assert.ok(r.body.length < 1000, 'short');
  if (sink) assert.equal(sink.batches.length, 0, 'nothing reached the sink');
}

/** Times GET /healthz while `during` runs; resolves the slowest answer, ms. */
async function healthzWhile(healthz: string, during: Promise<unknown>): Promise<number> {
  let done = false;
  let slowest = 0;
  const probe = (async () => {
    while (!done) {
      const t0 = performance.now();
      const r = await get(healthz);
      assert.equal(r.status, 200);
      slowest = Math.max(slowest, performance.now() - t0);
      await new Promise((res) => setTimeout(res, 20));
    }
  })();
  await during.finally(() => (done = true));
  await probe;
  return slowest;
}

test('each Prometheus-style limit refuses with 400 and its reason, before anything reaches the sink', async () => {
  const { sink, write } = await receiver({ maxSeriesPerRequest: 3, maxSamplesPerRequest: 5, maxLabelsPerSeries: 4, maxLabelNameBytes: 16, maxLabelValueBytes: 32 });
  refused(await post(write, body([one({ __name__: 'a' }), one({ __name__: 'b' }), one({ __name__: 'c' }), one({ __name__: 'd' })])), 400, 'too_many_series', sink);
  const six = Array.from({ length: 6 }, (_, i) => ({ value: i, timestamp: now() + i }));
  refused(await post(write, body([one({ __name__: 'a' }, six)])), 400, 'too_many_samples', sink);
  refused(await post(write, body([one({ __name__: 'a', b: '1', c: '2', d: '3', e: '4' })])), 400, 'too_many_labels', sink);
  refused(await post(write, body([one({ __name__: 'a', ['n'.repeat(17)]: 'v' })])), 400, 'label_name_too_long', sink);
  refused(await post(write, body([one({ __name__: 'a', job: 'v'.repeat(33) })])), 400, 'label_value_too_long', sink);
  // Within every limit: stored.
  assert.equal((await post(write, body([one({ __name__: 'a', job: 'v'.repeat(32) }, six.slice(0, 5))]))).status, 204);
  assert.equal(sink.batches.length, 1);
});

test('timestamps outside the window are refused: 9e15 ms, beyond now + 10 min, before 1970, older than --max-sample-age-ms', async () => {
  const { sink, write } = await receiver({ maxSampleAgeMs: 24 * 3600_000 });
  for (const ts of [9e15, now() + 11 * 60_000, -1, now() - 25 * 3600_000]) {
    const r = await post(write, body([one({ __name__: 'm' }, [{ value: 1, timestamp: ts }])]));
    refused(r, 400, 'timestamp_out_of_range', sink);
    assert.match(r.body, /series 0 \(m\): sample timestamp/);
  }
  // Late but within the window, and a little ahead of the clock: accepted.
  assert.equal((await post(write, body([one({ __name__: 'm' }, [{ value: 1, timestamp: now() - 23 * 3600_000 }, { value: 2, timestamp: now() + 60_000 }])]))).status, 204);
  // The default window accepts backfill from any time since 1970.
  const d = await receiver();
  assert.equal((await post(d.write, body([one({ __name__: 'm' }, [{ value: 1, timestamp: 0 }, { value: 2, timestamp: Date.UTC(2001, 0, 1) }])]))).status, 204);
});

test('an 8 MiB label value and 100,000 labels on one series are refused, cheaply', async () => {
  const { sink, write, healthz } = await receiver();
  const huge = snappyCompress(encodeWriteRequest({ timeseries: [one({ __name__: 'm', job: 'x'.repeat(8 * 1024 * 1024) })] }));
  refused(await post(write, huge), 400, 'label_value_too_long', sink);
  const labels: PbLabel[] = [{ name: '__name__', value: 'm' }, ...Array.from({ length: 100_000 }, (_, i) => ({ name: `l${String(i).padStart(6, '0')}`, value: 'v' }))];
  const wide = snappyCompress(encodeWriteRequest({ timeseries: [{ labels, samples: [{ value: 1, timestamp: now() }] }] }));
  const slowest = await healthzWhile(healthz, post(write, wide).then((r) => refused(r, 400, 'too_many_labels', sink)));
  assert.ok(slowest < 1000, `/healthz took ${slowest.toFixed(0)} ms`);
});

/**
 * A snappy body of `count` copies of the protobuf bytes `unit`: one literal, then overlapping copies
 * of 64 bytes (3 bytes each), as a compressor would write a periodic input, ~21× smaller.
 */
function bomb(unit: Buffer, count: number): Buffer {
  const total = unit.length * count;
  const out: number[] = [];
  for (let v = total; ; v = Math.floor(v / 128)) {
    if (v < 128) {
      out.push(v);
      break;
    }
    out.push((v % 128) | 0x80);
  }
  out.push((unit.length - 1) << 2, ...unit);
  const head = Buffer.from(out);
  const copies = Math.ceil((total - unit.length) / 64);
  const tail = Buffer.alloc(copies * 3);
  let left = total - unit.length;
  for (let i = 0; i < copies; i++) {
    const len = Math.min(64, left);
    tail[3 * i] = ((len - 1) << 2) | 2; // a copy with a 2-byte offset
    tail.writeUInt16LE(unit.length, 3 * i + 1);
    left -= len;
  }
  return Buffer.concat([head, tail]);
}

test('a ~3 MB body inflating to 3.6 million series (61 MB) is refused early and cheaply; /healthz answers meanwhile', async () => {
  const unit = encodeWriteRequest({ timeseries: [{ labels: [{ name: '__name__', value: 'a' }], samples: [] }] });
  const zip = bomb(unit, 3_600_000);
  assert.ok(zip.length < 3_500_000, `${zip.length} bytes`);
  // Defaults: the snappy header's length alone exceeds --max-decoded-bytes; nothing is inflated.
  const d = await receiver();
  const slowest = await healthzWhile(d.healthz, post(d.write, zip).then((r) => refused(r, 413, 'body_too_large', d.sink)));
  assert.ok(slowest < 1000, `/healthz took ${slowest.toFixed(0)} ms`);
  // With the decoded-size limit raised above a smaller bomb (1 million series, 17 MB), the series
  // limit stops the decoder at 100,000: refused with 400, /healthz answering meanwhile.
  const raised = await receiver({ maxDecodedBytes: 64 * 1024 * 1024, maxSeriesPerRequest: 100_000 });
  const slowestRaised = await healthzWhile(raised.healthz, post(raised.write, bomb(unit, 1_000_000)).then((r) => refused(r, 400, 'too_many_series', raised.sink)));
  assert.ok(slowestRaised < 1000, `/healthz took ${slowestRaised.toFixed(0)} ms`);
});

test('an oversized record never reaches Kafka: 400 record_too_large, from the limit or from the broker, never an endless 503', async () => {
  const { sink, write } = await receiver({ maxRecordBytes: 4096 });
  refused(await post(write, body([one({ __name__: 'm', job: 'v'.repeat(3000), zone: 'z'.repeat(1500) })])), 400, 'record_too_large', sink);
  // A topic whose max.message.bytes is below the receiver's limit: Kafka refuses it (MESSAGE_TOO_LARGE).
  let sends = 0;
  const producer = {
    async send(): Promise<never> {
      sends++;
      throw new TransportError('produce failed: Broker: Message size too large', { cause: Object.assign(new Error('Broker: Message size too large'), { code: 10 }) });
    },
    async transaction(): Promise<never> {
      throw new Error('no');
    },
    async close() {},
  };
  const k = await receiver({}, new TopicSink({ producer, serde: { schemaId: () => 1 }, topic: 'metrics' }));
  const r = await post(k.write, body([one({ __name__: 'm' })]));
  refused(r, 400, 'record_too_large');
  assert.equal(sends, 1);
  assert.equal((await get(k.healthz)).status, 200, 'a refused record says nothing about Kafka');
});

test('fuzzer: random, truncated and mutated bodies get a 4xx with one line (or 204 when valid), never a 5xx, and /healthz answers within 1 s', async () => {
  const { write, healthz } = await receiver({ maxSeriesPerRequest: 10_000 });
  const valid = encodeWriteRequest({
    timeseries: [
      one({ __name__: 'http_requests_total', code: '200', instance: '10.0.0.1:9100', job: 'api' }, [{ value: 1, timestamp: now() }, { value: 2, timestamp: now() + 1 }]),
      { ...one({ __name__: 'up', job: 'api' }), exemplars: [{ labels: [{ name: 'trace_id', value: 'abc' }], value: 1, timestamp: now() }] },
    ],
    metadata: [{ type: 1, metricFamilyName: 'up', help: 'h', unit: '' }],
  });
  const validZ = snappyCompress(valid);
  const bodies = fc.oneof(
    // Random bytes, as the body and as snappy-compressed protobuf.
    fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b)),
    fc.uint8Array({ maxLength: 2000 }).map((b) => snappyCompress(Buffer.from(b))),
    // A valid request's protobuf with bytes flipped, then compressed.
    fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }).map((flips) => {
      const b = Buffer.from(valid);
      for (const [i, x] of flips) b[i]! ^= x;
      return snappyCompress(b);
    }),
    // Truncated protobuf and truncated or corrupted snappy.
    fc.nat(valid.length).map((n) => snappyCompress(valid.subarray(0, n))),
    fc.nat(validZ.length).map((n) => validZ.subarray(0, n)),
    fc.tuple(fc.nat(validZ.length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
      const b = Buffer.from(validZ);
      b[i]! ^= x;
      return b;
    }),
  );
  const headers = fc.oneof(
    { weight: 8, arbitrary: fc.constant(PROM_HEADERS as Record<string, string>) },
    { weight: 1, arbitrary: fc.constant({ ...PROM_HEADERS, 'Content-Encoding': 'gzip' }) },
    { weight: 1, arbitrary: fc.constant({ ...PROM_HEADERS, 'Content-Type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request' }) },
  );
  let slowest = 0;
  await fc.assert(
    fc.asyncProperty(bodies, headers, async (b, h) => {
      const r = await post(write, b, h);
      assert.ok(r.status === 204 || (r.status >= 400 && r.status < 500), `status ${r.status}: ${r.body}`);
      if (r.status !== 204) {
        assert.equal(r.body.trimEnd().split('\n').length, 1, `one line: ${r.body}`);
        assert.match(r.body, /^[a-z0-9_]+: /);
      }
      const t0 = performance.now();
      assert.equal((await get(healthz)).status, 200);
      slowest = Math.max(slowest, performance.now() - t0);
      assert.ok(slowest < 1000, `/healthz took ${slowest.toFixed(0)} ms`);
    }),
    { numRuns: 300, seed: 21 },
  );
});

test('ingest beyond loopback without auth says so at start, and not with a token', async () => {
  const warnings: string[] = [];
  const log = { debug() {}, info() {}, warn: (m: string) => void warnings.push(m), error() {}, child() { return log; } };
  const open = new RemoteWriteReceiver({ listen: '0.0.0.0:0' }, { sink: new MemorySink(), registry: new Registry(), logger: log });
  await open.start();
  started.push(open);
  assert.ok(warnings.some((l) => /^ingest listens on 0\.0\.0\.0:0 beyond loopback without auth/.test(l)), warnings.join('\n'));
  warnings.length = 0;
  const guarded = new RemoteWriteReceiver({ listen: '0.0.0.0:0', bearerToken: 'secret' }, { sink: new MemorySink(), registry: new Registry(), logger: log });
  await guarded.start();
  started.push(guarded);
  assert.deepEqual(warnings, [], 'no warning with a token');
  const local = new RemoteWriteReceiver({ listen: '127.0.0.1:0' }, { sink: new MemorySink(), registry: new Registry(), logger: log });
  await local.start();
  started.push(local);
  assert.deepEqual(warnings, [], 'no warning on loopback');
});
