import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Fnv64, fingerprintOf } from '../../../pipelines/core/series-key.ts';

function fnv(s: string): string {
  const h = new Fnv64();
  const b = Buffer.from(s, 'latin1');
  h.bytes(b, 0, b.length);
  return h.hex();
}

/** Reference FNV-1a 64 in BigInt, straight from the definition. */
function reference(bytes: Uint8Array): string {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, '0');
}

test('FNV-1a 64 matches the published test vectors', () => {
  assert.equal(fnv(''), 'cbf29ce484222325');
  assert.equal(fnv('a'), 'af63dc4c8601ec8c');
  assert.equal(fnv('foobar'), '85944171f73967e8');
});

test('the limb arithmetic equals the BigInt definition on any bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const h = new Fnv64();
      h.bytes(bytes, 0, bytes.length);
      assert.equal(h.hex(), reference(bytes));
    }),
    { numRuns: 300 },
  );
});

test('fingerprintOf hashes name 0xff value 0xff in name order, whatever the key order', () => {
  const a = fingerprintOf({ job: 'api', __name__: 'up' });
  const b = fingerprintOf({ __name__: 'up', job: 'api' });
  assert.equal(a, b);
  const bytes = Buffer.concat([Buffer.from('__name__\xffup\xffjob\xffapi\xff', 'latin1')]);
  assert.equal(a, reference(bytes));
  assert.notEqual(fingerprintOf({ __name__: 'up', job: 'ap' }), fingerprintOf({ __name__: 'up', job: 'a', p: '' }));
  assert.equal(fingerprintOf({ __name__: 'up', x: '' }), fingerprintOf({ __name__: 'up' }));
});

test('every producer of `metrics` keys a series as the remote-write receiver does (one series, one partition)', async () => {
  const { replayBatches } = await import('../../../pipelines/start/replay.ts');
  const series = [{ name: 'realKnownCause/nyc_taxi.csv', timestamps: Float64Array.of(1, 2), values: Float64Array.of(3, 4), windows: [] }];
  const [batch] = [...replayBatches(series, 10, () => 0)];
  assert.ok(batch);
  // The receiver's key is FNV-1a 64 over the labels it decoded (checked against the BigInt
  // definition above); replay used sha1 before, so the same series landed on another partition.
  const h = new Fnv64();
  for (const k of Object.keys(batch.labels).sort()) {
    const b = Buffer.from(`${k}\xff${batch.labels[k]}\xff`, 'latin1');
    h.bytes(b, 0, b.length);
  }
  assert.equal(batch.fingerprint, h.hex());
  assert.match(batch.fingerprint, /^[0-9a-f]{16}$/);
});
