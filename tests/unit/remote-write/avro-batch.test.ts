import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMetricBatches } from '../../../connectors/remote-write/avro-batch.ts';
import { decodeWriteRequest } from '../../../connectors/remote-write/decode.ts';
import { encodeWriteRequest, sortedLabels } from '../../../connectors/remote-write/proto.ts';
import type { MetricBatch } from '../../../pipelines/core/records.ts';
import { mulberry32 } from '../../../pipelines/core/random.ts';
import { createSerde } from '../../../pipelines/core/serde.ts';
import { STALE_NAN } from './helpers.ts';

const TOPIC = 'avro.metrics';

async function serde() {
  return createSerde({ url: 'mock://rw-avro-batch', prefix: 'avro.', topics: ['metrics'] });
}

function batch(over: Partial<MetricBatch> = {}): MetricBatch {
  return {
    fingerprint: '0123456789abcdef',
    labels: { __name__: 'up', job: 'api' },
    samples: [{ timestampMs: 1_764_288_000_000, value: 1, stale: false }],
    source: 'remote-write',
    receivedAtMs: 1_764_288_000_123,
    exemplarsDropped: 0,
    histogramsDropped: 0,
    ...over,
  };
}

/** Strings that exercise every branch of the string writer: ASCII, multi-byte, long, empty. */
const STRINGS = ['', 'a', 'x'.repeat(63), 'y'.repeat(64), 'z'.repeat(300), 'é', 'é'.repeat(31), 'é'.repeat(32), 'caf\u00e9 \u2603 \u{1f600}', `${'a'.repeat(40)}\u{1f600}${'b'.repeat(30)}`, '\u2603'.repeat(200)];

test('records are byte for byte what the serde encodes, on varied batches', async () => {
  const s = await serde();
  const rnd = mulberry32(7);
  const batches: MetricBatch[] = [];
  for (let i = 0; i < 300; i++) {
    const labels: Record<string, string> = { __name__: `m_${i}` };
    const nLabels = Math.floor(rnd() * 6);
    for (let k = 0; k < nLabels; k++) labels[`l${k}`] = STRINGS[Math.floor(rnd() * STRINGS.length)]!;
    const n = [0, 1, 2, 10, 63, 64, 65, 200][i % 8]!;
    const samples = Array.from({ length: n }, (_, j) => {
      const kind = Math.floor(rnd() * 8);
      const value = [0, -0, 1.5, -1e300, Number.MAX_VALUE, Infinity, NaN, STALE_NAN][kind]!;
      // avsc accepts longs within ±(2^53−2) only; the limits are tested on their own below.
      const timestampMs = [0, -1, 63, -64, 64, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 - 2, -(2 ** 53) + 2, 1_764_288_000_000 + j][(i + j) % 10]!;
      return { timestampMs, value, stale: kind === 7 };
    });
    batches.push(batch({
      fingerprint: STRINGS[i % STRINGS.length]! || 'ffffffffffffffff',
      labels,
      samples,
      source: i % 5 === 0 ? 'csv' : 'remote-write',
      receivedAtMs: [0, -5, 1_764_288_000_123, 2 ** 53 - 2][i % 4]!,
      exemplarsDropped: [0, 1, 63, 64, 100_000][i % 5]!,
      histogramsDropped: [0, 2, 1_000_000][i % 3]!,
    }));
  }
  const out = encodeMetricBatches(TOPIC, batches, s.schemaId(TOPIC), 10_000);
  assert.equal(out.length, batches.length);
  for (let i = 0; i < batches.length; i++) {
    assert.equal(out[i]!.topic, TOPIC);
    assert.deepEqual(out[i]!.value, s.encode(TOPIC, batches[i]), `batch ${i}`);
    assert.equal(out[i]!.key!.toString(), batches[i]!.fingerprint);
  }
});

test('the slab grows mid-record without corrupting records already written', async () => {
  const s = await serde();
  // One small record, then one far larger than the first slab, then small ones again.
  const big = batch({ samples: Array.from({ length: 20_000 }, (_, j) => ({ timestampMs: j * 1000, value: j / 3, stale: false })), labels: { __name__: 'big', v: 'w'.repeat(100_000) } });
  const batches = [batch(), big, batch({ labels: { __name__: 'after' } }), batch()];
  const out = encodeMetricBatches(TOPIC, batches, s.schemaId(TOPIC), 50_000);
  assert.equal(out.length, 4);
  for (let i = 0; i < 4; i++) assert.deepEqual(out[i]!.value, s.encode(TOPIC, batches[i]), `batch ${i}`);
});

test('a long series is split in order on one key; drops go on the first part only', async () => {
  const s = await serde();
  const b = batch({ samples: Array.from({ length: 10 }, (_, j) => ({ timestampMs: j, value: j, stale: false })), exemplarsDropped: 2, histogramsDropped: 3 });
  const out = encodeMetricBatches(TOPIC, [b], s.schemaId(TOPIC), 4);
  assert.equal(out.length, 3);
  const parts = await Promise.all(out.map(async (r) => (await s.decode<MetricBatch>(TOPIC, r.value)).value));
  assert.deepEqual(parts.map((p) => p.samples.map((x) => x.timestampMs)), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  assert.deepEqual(parts.map((p) => [p.exemplarsDropped, p.histogramsDropped]), [[2, 3], [0, 0], [0, 0]]);
  assert.ok(out.every((r) => r.key!.toString() === b.fingerprint));
});

test('what the decoder builds from a WriteRequest round-trips through the serde, stale markers included', async () => {
  const s = await serde();
  const body = encodeWriteRequest({
    timeseries: [
      { labels: sortedLabels({ __name__: 'node_cpu_seconds_total', cpu: '0', instance: 'h\u00f4te:9100', job: 'node' }), samples: [{ value: 1.25, timestamp: 1000 }, { value: STALE_NAN, timestamp: 2000 }, { value: NaN, timestamp: 3000 }] },
      { labels: sortedLabels({ __name__: 'up', job: 'api' }), samples: [{ value: 1, timestamp: 1000 }] },
    ],
  });
  const decoded = decodeWriteRequest(body, 42);
  const out = encodeMetricBatches(TOPIC, decoded.batches, s.schemaId(TOPIC), 10_000);
  for (let i = 0; i < out.length; i++) {
    assert.deepEqual(out[i]!.value, s.encode(TOPIC, decoded.batches[i]));
    const back = (await s.decode<MetricBatch>(TOPIC, out[i]!.value)).value;
    assert.deepEqual(back.labels, decoded.batches[i]!.labels);
    assert.equal(back.samples.length, decoded.batches[i]!.samples.length);
  }
  const first = (await s.decode<MetricBatch>(TOPIC, out[0]!.value)).value;
  assert.deepEqual(first.samples.map((x) => x.stale), [false, true, false]);
  assert.ok(Number.isNaN(first.samples[1]!.value) && Number.isNaN(first.samples[2]!.value));
});
