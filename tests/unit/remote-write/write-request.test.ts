import { test } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { encodeWriteRequest as encodeRecords, keyOf, NO_LIMITS, valueOf, type Limits } from '../../../connectors/remote-write/wire/write-request.ts';
import { decodeRecords } from '../../../connectors/remote-write/sink.ts';
import { createSerde } from '../../../pipelines/core/serde.ts';
import { fingerprintOf } from '../../../pipelines/core/series-key.ts';
import type { MetricBatch } from '../../../pipelines/core/records.ts';
import { encodeWriteRequest, sortedLabels, type PbLabel, type PbTimeSeries, type PbWriteRequest } from './proto.ts';
import { rejectionOf } from '../../../connectors/remote-write/wire/reject.ts';
import { STALE_NAN } from './helpers.ts';

const T = 1_700_000_000_000;

/** The encoder's records, decoded back into MetricBatch objects (with the request's counts). */
function decodeWriteRequest(raw: Buffer, receivedAtMs: number, limits: Limits = NO_LIMITS) {
  const enc = encodeRecords(raw, { schemaId: 1, source: 'remote-write', receivedAtMs }, limits);
  return { ...enc, batches: decodeRecords(enc) };
}

function decode(req: PbWriteRequest) {
  return decodeWriteRequest(encodeWriteRequest(req), 42);
}

function rejects(bytes: Buffer, reason: string, message?: RegExp, limits: Limits = NO_LIMITS): void {
  let caught: unknown;
  try {
    decodeWriteRequest(bytes, 0, limits);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught, `expected a ${reason} rejection`);
  const r = rejectionOf(caught);
  assert.ok(r, `not a rejection: ${String(caught)}`);
  assert.equal(r.reason, reason, (caught as Error).message);
  assert.equal(r.status, 400);
  assert.ok(!(caught as Error).message.includes('\n'), 'reason is one line');
  if (message) assert.match((caught as Error).message, message);
}

function withLabels(labels: PbLabel[]): Buffer {
  return encodeWriteRequest({ timeseries: [{ labels, samples: [{ value: 1, timestamp: T }] }] });
}

test('each series becomes one batch with its labels, samples in order and a stable fingerprint', () => {
  const labels = { __name__: 'http_requests_total', job: 'api', instance: '10.0.0.1:9100', code: '200' };
  const out = decode({
    timeseries: [
      { labels: sortedLabels(labels), samples: [{ value: 3, timestamp: T + 2000 }, { value: 1.5, timestamp: T }, { value: -0, timestamp: T + 1000 }] },
      { labels: sortedLabels({ __name__: 'up', job: 'api' }), samples: [{ value: 1, timestamp: T }] },
    ],
  });
  assert.equal(out.series, 2);
  assert.equal(out.samples, 4);
  assert.equal(out.batches.length, 2);
  const [a, b] = out.batches;
  assert.deepEqual({ ...a!.labels }, labels);
  assert.deepEqual(a!.samples, [
    { timestampMs: T + 2000, value: 3, stale: false },
    { timestampMs: T, value: 1.5, stale: false },
    { timestampMs: T + 1000, value: -0, stale: false },
  ]);
  assert.ok(Object.is(a!.samples[2]!.value, -0), 'negative zero kept');
  assert.equal(a!.source, 'remote-write');
  assert.equal(a!.receivedAtMs, 42);
  assert.equal(a!.exemplarsDropped, 0);
  assert.equal(a!.histogramsDropped, 0);
  assert.match(a!.fingerprint, /^[0-9a-f]{16}$/);
  assert.equal(a!.fingerprint, fingerprintOf(labels));
  assert.notEqual(a!.fingerprint, b!.fingerprint);
  // Same labels in another request: same fingerprint.
  const again = decode({ timeseries: [{ labels: sortedLabels(labels), samples: [{ value: 9, timestamp: T + 9 }] }] });
  assert.equal(again.batches[0]!.fingerprint, a!.fingerprint);
});

test('NaN is kept as NaN and the staleness marker becomes stale: true, told apart by its bits', () => {
  const bytes = encodeWriteRequest({
    timeseries: [{ labels: sortedLabels({ __name__: 'x' }), samples: [{ value: NaN, timestamp: T }, { value: STALE_NAN, timestamp: T + 1 }, { value: Infinity, timestamp: T + 2 }] }],
  });
  // The body really carries the marker's bit pattern (else this test would prove nothing).
  assert.ok(bytes.includes(Buffer.from('020000000000f07f', 'hex')));
  const out = decodeWriteRequest(bytes, 0);
  const s = out.batches[0]!.samples;
  assert.ok(Number.isNaN(s[0]!.value));
  assert.equal(s[0]!.stale, false);
  assert.ok(Number.isNaN(s[1]!.value));
  assert.equal(s[1]!.stale, true);
  assert.equal(s[2]!.value, Infinity);
  assert.equal(s[2]!.stale, false);
  assert.equal(out.staleMarkers, 1);
});

test('exemplars, histograms and metadata are counted as dropped, never silently', () => {
  const out = decode({
    timeseries: [
      {
        labels: sortedLabels({ __name__: 'req_seconds_bucket', le: '0.1' }),
        samples: [{ value: 4, timestamp: T }],
        exemplars: [{ labels: [{ name: 'trace_id', value: 'abc' }], value: 0.05, timestamp: T }, { labels: [], value: 0.07, timestamp: T }],
      },
      { labels: sortedLabels({ __name__: 'req_seconds' }), histograms: [{ countInt: 3, sum: 1.5, schema: 3, timestamp: T }] },
    ],
    metadata: [{ type: 1, metricFamilyName: 'req_seconds', help: 'h', unit: 's' }],
  });
  assert.equal(out.exemplarsDropped, 2);
  assert.equal(out.histogramsDropped, 1);
  assert.equal(out.metadata, 1);
  assert.equal(out.batches.length, 2, 'a histogram-only series still yields a record carrying the drop count');
  assert.equal(out.batches[0]!.exemplarsDropped, 2);
  assert.deepEqual(out.batches[1]!.samples, []);
  assert.equal(out.batches[1]!.histogramsDropped, 1);
});

test('a metadata-only request or a series without samples yields no records', () => {
  assert.equal(decode({ timeseries: [], metadata: [{ metricFamilyName: 'up' }] }).batches.length, 0);
  const out = decode({ timeseries: [{ labels: sortedLabels({ __name__: 'up' }), samples: [] }] });
  assert.equal(out.series, 1);
  assert.equal(out.batches.length, 0);
  assert.equal(decodeWriteRequest(Buffer.alloc(0), 0).batches.length, 0);
});

test('unusual but valid input: __proto__ label, unicode values, empty values, the extreme timestamps', () => {
  const out = decode({
    timeseries: [
      {
        labels: [
          { name: '__name__', value: 'odd:metric_1' },
          { name: '__proto__', value: 'p' },
          { name: 'empty', value: '' },
          { name: 'zone', value: 'Zürich 東京 🙂' },
        ],
        samples: [{ value: 1, timestamp: 0 }, { value: 2, timestamp: 2 ** 53 - 2 }, { value: 3, timestamp: 1 }],
      },
    ],
  });
  const b = out.batches[0]!;
  assert.equal(b.labels['__proto__'], 'p');
  assert.deepEqual(Object.keys(b.labels), ['__name__', '__proto__', 'zone'], 'empty values are absent labels, as in Prometheus');
  assert.equal(b.labels.zone, 'Zürich 東京 🙂');
  assert.deepEqual(b.samples.map((s) => s.timestampMs), [0, 2 ** 53 - 2, 1]);
  // fromEntries defines `__proto__` as an own key (an object literal would set the prototype).
  const expected = Object.fromEntries([['__name__', 'odd:metric_1'], ['__proto__', 'p'], ['empty', ''], ['zone', 'Zürich 東京 🙂']]) as Record<string, string>;
  assert.equal(b.fingerprint, fingerprintOf(expected));
});

test('unknown fields of every wire type are skipped', () => {
  const w = protobuf.Writer.create();
  // WriteRequest: unknown varint (9), fixed32 (10), fixed64 (11), bytes (12), then a series.
  w.uint32((9 << 3) | 0).uint64(123456789);
  w.uint32((10 << 3) | 5).fixed32(7);
  w.uint32((11 << 3) | 1).double(1.25);
  w.uint32((12 << 3) | 2).bytes(Buffer.from('future'));
  w.uint32((1 << 3) | 2).fork();
  w.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string('__name__').uint32((2 << 3) | 2).string('m').uint32((7 << 3) | 0).uint32(5).ldelim();
  w.uint32((2 << 3) | 2).fork().uint32((2 << 3) | 0).int64(T).uint32((9 << 3) | 2).string('x').uint32((1 << 3) | 1).double(2.5).ldelim();
  w.uint32((15 << 3) | 0).uint32(1);
  w.ldelim();
  const out = decodeWriteRequest(Buffer.from(w.finish()), 0);
  assert.deepEqual({ ...out.batches[0]!.labels }, { __name__: 'm' });
  assert.deepEqual(out.batches[0]!.samples, [{ timestampMs: T, value: 2.5, stale: false }]);
});

test('labels: missing __name__, unsorted, duplicate, empty, invalid names are refused with their reason', () => {
  rejects(withLabels([{ name: 'job', value: 'a' }]), 'missing_metric_name', /series 0 has no __name__/);
  rejects(withLabels([{ name: '__name__', value: 'm' }, { name: 'zone', value: 'a' }, { name: 'job', value: 'b' }]), 'unsorted_labels', /"job" comes after "zone"/);
  rejects(withLabels([{ name: '__name__', value: 'm' }, { name: 'job', value: 'a' }, { name: 'job', value: 'b' }]), 'duplicate_label', /"job" appears twice/);
  rejects(withLabels([{ name: '__name__', value: 'm' }, { name: '', value: 'a' }]), 'empty_label_name');
  rejects(withLabels([{ name: '__name__', value: 'm' }, { name: 'bad-name', value: 'a' }]), 'invalid_label_name', /"bad-name"/);
  rejects(withLabels([{ name: '__name__', value: 'm' }, { name: '1abc', value: 'a' }]), 'invalid_label_name');
  rejects(withLabels([{ name: '__name__', value: 'm' }, { name: 'zoné', value: 'a' }]), 'invalid_label_name');
  rejects(withLabels([{ name: '__name__', value: '9lives' }]), 'invalid_metric_name');
  rejects(withLabels([{ name: '__name__', value: '' }]), 'invalid_metric_name');
  rejects(withLabels([{ name: '__name__', value: 'a b' }]), 'invalid_metric_name');
  // A rejection in a later series names that series.
  const two = encodeWriteRequest({ timeseries: [{ labels: sortedLabels({ __name__: 'ok' }), samples: [{ value: 1, timestamp: T }] }, { labels: [{ name: '__name__', value: 'm' }, { name: 'a-b', value: 'x' }] }] });
  rejects(two, 'invalid_label_name', /series 1 \(m\)/);
});

test('a value already seen at the same position is still validated as a metric name', () => {
  // Series 0 has the value "9x" at label position 0 (label "A" sorts before "__name__").
  const bytes = encodeWriteRequest({
    timeseries: [
      { labels: [{ name: 'A', value: '9x' }, { name: '__name__', value: 'm' }], samples: [{ value: 1, timestamp: T }] },
      { labels: [{ name: '__name__', value: '9x' }], samples: [{ value: 1, timestamp: T }] },
    ],
  });
  rejects(bytes, 'invalid_metric_name', /series 1/);
});

test('repeated names and values decode to the same labels as fresh ones', () => {
  const sets: Record<string, string>[] = [
    { __name__: 'a', job: 'x', zone: 'z1' },
    { __name__: 'a', job: 'x', zone: 'z2' },
    { __name__: 'b', job: 'x', zone: 'z1' },
    { __name__: 'b', instance: 'x', zone: 'z1' },
    { __name__: 'b', instance: 'x' },
  ];
  const out = decode({ timeseries: sets.map((l) => ({ labels: sortedLabels(l), samples: [{ value: 1, timestamp: T }] })) });
  assert.deepEqual(out.batches.map((b) => ({ ...b.labels })), sets);
  assert.deepEqual(out.batches.map((b) => b.fingerprint), sets.map((l) => fingerprintOf(l)));
});

test('a label value that is not UTF-8 is refused', () => {
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).fork();
  w.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string('__name__').uint32((2 << 3) | 2).string('m').ldelim();
  w.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string('job').uint32((2 << 3) | 2).bytes(Buffer.from([0x61, 0xff, 0xfe])).ldelim();
  w.ldelim();
  rejects(Buffer.from(w.finish()), 'invalid_utf8', /label "job"/);
  // The replacement character itself is valid UTF-8 and passes.
  const ok = withLabels([{ name: '__name__', value: 'm' }, { name: 'job', value: 'a\uFFFDb' }]);
  assert.equal(decodeWriteRequest(ok, 0).batches[0]!.labels.job, 'a\uFFFDb');
});

test('malformed protobuf is refused as bad_protobuf, never thrown as anything else', () => {
  const good = encodeWriteRequest({ timeseries: [{ labels: sortedLabels({ __name__: 'm', job: 'j' }), samples: [{ value: 1, timestamp: T }] }] });
  for (let cut = 1; cut < good.length; cut++) rejects(good.subarray(0, cut), 'bad_protobuf');
  rejects(Buffer.from([0x0a, 0x05, 0x0a]), 'bad_protobuf', /truncated/);
  rejects(Buffer.from([0x08, 0x01]), 'bad_protobuf', /WriteRequest.timeseries has wire type 0/);
  rejects(Buffer.from([0x0b]), 'bad_protobuf', /wire type 3/);
  rejects(Buffer.from([0x00, 0x00]), 'bad_protobuf', /field number 0/);
  rejects(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), 'bad_protobuf', /varint/);
  // Sample.value sent as a varint.
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).fork();
  w.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string('__name__').uint32((2 << 3) | 2).string('m').ldelim();
  w.uint32((2 << 3) | 2).fork().uint32((1 << 3) | 0).uint32(5).ldelim();
  w.ldelim();
  rejects(Buffer.from(w.finish()), 'bad_protobuf', /Sample.value has wire type 0/);
});

test('random bytes are refused with a reason or decoded, never a crash', () => {
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < 2000; i++) {
    const buf = Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256)));
    try {
      decodeWriteRequest(buf, 0);
    } catch (err) {
      assert.ok(rejectionOf(err), `bytes ${buf.toString('hex')} threw ${String(err)}`);
    }
  }
});

test('timestamps beyond 2^53 are refused rather than rounded, and so are ±(2^53−1), which Avro readers refuse, and any before 1970', () => {
  for (const ts of [2 ** 60, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, -1, -(2 ** 53) + 2]) {
    const w = protobuf.Writer.create();
    w.uint32((1 << 3) | 2).fork();
    w.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string('__name__').uint32((2 << 3) | 2).string('m').ldelim();
    w.uint32((2 << 3) | 2).fork().uint32((2 << 3) | 0).int64(protobuf.util.LongBits.fromNumber(ts).toLong()).ldelim();
    w.ldelim();
    rejects(Buffer.from(w.finish()), 'timestamp_out_of_range', /series 0 \(m\)/);
  }
});

// --- The records are what the serde writes -------------------------------------------------------

const TOPIC = 'avro.metrics';
const serde = () => createSerde({ url: 'mock://rw-write-request', prefix: 'avro.', topics: ['metrics'] });

/** Strings that exercise every length-prefix size and multi-byte UTF-8. */
const STRINGS = ['a', 'x'.repeat(63), 'y'.repeat(64), 'z'.repeat(300), 'é', 'é'.repeat(32), 'caf\u00e9 \u2603 \u{1f600}', '\u2603'.repeat(200), ''];

test('every record is byte for byte what the serde encodes for the same MetricBatch, and decodes through it', async () => {
  const s = await serde();
  const id = s.schemaId(TOPIC);
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const timeseries: PbTimeSeries[] = [];
  for (let i = 0; i < 120; i++) {
    const labels: Record<string, string> = { __name__: `m_${i}` };
    const nLabels = i === 7 ? 70 : Math.floor(rnd() * 6);
    for (let k = 0; k < nLabels; k++) labels[`l${k}`] = STRINGS[Math.floor(rnd() * STRINGS.length)]!;
    const n = [0, 1, 2, 10, 63, 64, 65, 200][i % 8]!;
    const samples = Array.from({ length: n }, (_, j) => ({
      value: [0, -0, 1.5, -1e300, Number.MAX_VALUE, Infinity, NaN, STALE_NAN][Math.floor(rnd() * 8)]!,
      timestamp: [0, 63, 64, 2 ** 31, 2 ** 32 + 5, 2 ** 53 - 2, T + j][(i + j) % 7]!,
    }));
    timeseries.push({ labels: sortedLabels(labels), samples, ...(i % 5 === 1 ? { exemplars: [{ labels: [], value: 1, timestamp: T }] } : {}), ...(n === 0 && i % 3 === 0 ? { histograms: [{ countInt: 1, timestamp: T }] } : {}) });
  }
  const enc = encodeRecords(encodeWriteRequest({ timeseries }), { schemaId: id, source: 'remote-write', receivedAtMs: 1_764_288_000_123 }, { ...NO_LIMITS, maxSamplesPerRecord: 50 });
  const mine = decodeRecords(enc);
  assert.ok(enc.records > 120, 'long series were split');
  for (let i = 0; i < enc.records; i++) {
    assert.deepEqual(valueOf(enc, i), s.encode(TOPIC, mine[i]), `record ${i}`);
    const theirs = (await s.decode<MetricBatch>(TOPIC, valueOf(enc, i))).value;
    assert.equal(theirs.fingerprint, keyOf(enc, i).toString());
    assert.deepEqual(theirs.samples.map((x) => [x.timestampMs, x.stale]), mine[i]!.samples.map((x) => [x.timestampMs, x.stale]));
    assert.deepEqual({ ...theirs.labels }, { ...mine[i]!.labels });
  }
});

test('a long series is split in order on one key, at most maxSamplesPerRecord per record; drops go on the first part only', () => {
  const samples = Array.from({ length: 10 }, (_, j) => ({ value: j, timestamp: T + j }));
  const raw = encodeWriteRequest({ timeseries: [{ labels: sortedLabels({ __name__: 'm', job: 'j' }), samples, exemplars: [{ labels: [], value: 1, timestamp: T }, { labels: [], value: 2, timestamp: T }] }] });
  const out = decodeWriteRequest(raw, 0, { ...NO_LIMITS, maxSamplesPerRecord: 4 });
  assert.equal(out.records, 3);
  assert.deepEqual(out.batches.map((b) => b.samples.map((x) => x.value)), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  assert.deepEqual(out.batches.map((b) => b.exemplarsDropped), [2, 0, 0]);
  assert.equal(new Set(Array.from({ length: 3 }, (_, i) => keyOf(out, i).toString())).size, 1);
});

test('a request far larger than its first buffer estimate grows without corrupting earlier records', () => {
  // A short protobuf whose records are far larger: many empty Sample messages (2 bytes each, 10 in Avro).
  const timeseries: PbTimeSeries[] = [
    { labels: sortedLabels({ __name__: 'a' }), samples: [{ value: 1, timestamp: T }] },
    { labels: sortedLabels({ __name__: 'b', v: 'w'.repeat(5000) }), samples: Array.from({ length: 30_000 }, () => ({ value: 0, timestamp: 0 })) },
    { labels: sortedLabels({ __name__: 'c' }), samples: [{ value: 3, timestamp: T }] },
  ];
  const out = decodeWriteRequest(encodeWriteRequest({ timeseries }), 0, { ...NO_LIMITS, maxSamplesPerRecord: 100_000 });
  assert.deepEqual(out.batches.map((b) => [b.labels.__name__, b.samples.length]), [['a', 1], ['b', 30_000], ['c', 1]]);
  assert.equal(out.batches[1]!.labels.v, 'w'.repeat(5000));
});

// --- Limits ---------------------------------------------------------------------------------------

test('each limit refuses with its reason and a one-line message naming the series', () => {
  const one = (labels: Record<string, string>, samples = [{ value: 1, timestamp: T }]) => ({ labels: sortedLabels(labels), samples });
  const req = (...ts: PbTimeSeries[]) => encodeWriteRequest({ timeseries: ts });
  const limits = (over: Partial<Limits>): Limits => ({ ...NO_LIMITS, ...over });
  rejects(req(one({ __name__: 'a' }), one({ __name__: 'b' }), one({ __name__: 'c' })), 'too_many_series', /more than 2 series/, limits({ maxSeries: 2 }));
  rejects(req(one({ __name__: 'a' }, [{ value: 1, timestamp: T }, { value: 2, timestamp: T + 1 }]), one({ __name__: 'b' }, [{ value: 1, timestamp: T }, { value: 2, timestamp: T + 1 }])), 'too_many_samples', /more than 3 samples/, limits({ maxSamples: 3 }));
  rejects(req(one({ __name__: 'a', b: '1', c: '2' })), 'too_many_labels', /series 0 has more than 2 labels/, limits({ maxLabels: 2 }));
  rejects(req(one({ __name__: 'a', abcdefghi: '1' })), 'label_name_too_long', /series 0 \(a\): label name "abcdefghi" is 9 bytes, more than 8/, limits({ maxLabelNameBytes: 8 }));
  rejects(req(one({ __name__: 'a', job: 'x'.repeat(11) })), 'label_value_too_long', /value of label "job" is 11 bytes, more than 10/, limits({ maxLabelValueBytes: 10 }));
  rejects(req(one({ __name__: 'a_very_long_metric_name' })), 'label_value_too_long', /"__name__"/, limits({ maxLabelValueBytes: 10 }));
  rejects(req(one({ __name__: 'a' }, [{ value: 1, timestamp: T - 1 }])), 'timestamp_out_of_range', /series 0 \(a\): sample timestamp 1699999999999 ms is outside the accepted window 1700000000000\.\.1700000001000 ms \(2023-11-14T22:13:20\.000Z to/, limits({ minTimestampMs: T, maxTimestampMs: T + 1000 }));
  rejects(req(one({ __name__: 'a' }, [{ value: 1, timestamp: T + 1001 }])), 'timestamp_out_of_range', /1700000001001 ms/, limits({ minTimestampMs: T, maxTimestampMs: T + 1000 }));
  rejects(req(one({ __name__: 'a', big: 'x'.repeat(400) })), 'record_too_large', /series 0 \(a\): its record would be \d+ bytes, more than 300/, limits({ maxRecordBytes: 300 }));
  // At the limit itself, everything passes.
  const atLimit = decodeWriteRequest(req(one({ __name__: 'a', job: 'x'.repeat(10) }), one({ __name__: 'b' })), 0, limits({ maxSeries: 2, maxSamples: 2, maxLabels: 2, maxLabelValueBytes: 10, minTimestampMs: T, maxTimestampMs: T }));
  assert.equal(atLimit.records, 2);
});

test('series and sample limits stop the walk early: what follows the series past the limit is never read', () => {
  const unit = encodeWriteRequest({ timeseries: [{ labels: [{ name: '__name__', value: 'a' }], samples: [{ value: 1, timestamp: T }, { value: 2, timestamp: T + 1 }] }] });
  // 1,001 good series, then bytes that are no protobuf at all: refused for the limit, not for them.
  const raw = Buffer.concat([...Array.from({ length: 1001 }, () => unit), Buffer.from([0x0b, 0xff, 0xff])]);
  rejects(raw, 'bad_protobuf', /wire type 3/);
  rejects(raw, 'too_many_series', /more than 1000 series/, { ...NO_LIMITS, maxSeries: 1000 });
  rejects(raw, 'too_many_samples', /more than 1999 samples/, { ...NO_LIMITS, maxSamples: 1999 });
  // A series with more labels than the limit is refused at the first label past it.
  const labels = Array.from({ length: 5_000 }, (_, i) => ({ name: `l${String(i).padStart(6, '0')}`, value: 'v' }));
  const wide = Buffer.concat([encodeWriteRequest({ timeseries: [{ labels: [{ name: '__name__', value: 'a' }, ...labels] }] })]);
  rejects(wide, 'too_many_labels', /more than 128 labels/, { ...NO_LIMITS, maxLabels: 128 });
});
