import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import SnappyJS from 'snappyjs';
import { snappyUncompress, snappyUncompressTransient } from '../../../connectors/remote-write/wire/snappy.ts';
import { rejectionOf } from '../../../connectors/remote-write/wire/reject.ts';

function compress(b: Uint8Array): Buffer {
  return Buffer.from(SnappyJS.compress(Buffer.from(b)));
}

function reason(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    const r = rejectionOf(err);
    assert.ok(r, `not a rejection: ${String(err)}`);
    return r.reason;
  }
  return undefined;
}

test('round-trips whatever snappyjs compresses, repetitive or random', () => {
  const repetitive = fc.array(fc.constantFrom('http_requests_total', 'job', 'instance', '10.0.0.1:9100', '\x00\x01'), { maxLength: 400 }).map((a) => Buffer.from(a.join(''), 'latin1'));
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 5000 }), repetitive), (raw) => {
      assert.deepEqual(snappyUncompress(compress(raw), 1 << 20), Buffer.from(raw));
    }),
    { numRuns: 300 },
  );
  const big = Buffer.alloc(300_000, 'abcdefgh');
  assert.deepEqual(snappyUncompress(compress(big), 1 << 20), big);
});

test('truncated, overlong and corrupt streams are bad_snappy', () => {
  const raw = Buffer.from('hello hello hello hello world, hello hello hello world'.repeat(20));
  const c = compress(raw);
  for (let cut = 0; cut < c.length; cut++) assert.equal(reason(() => snappyUncompress(c.subarray(0, cut), 1 << 20)), 'bad_snappy', `cut at ${cut}`);
  assert.equal(reason(() => snappyUncompress(Buffer.concat([c, Buffer.from([0x00, 0x41])]), 1 << 20)), 'bad_snappy', 'trailing literal');
  // Header says one byte more than the stream produces.
  const lying = Buffer.from(c);
  lying[0] = lying[0]! + 1;
  assert.equal(reason(() => snappyUncompress(lying, 1 << 20)), 'bad_snappy');
  // A copy reaching before the start of the output.
  assert.equal(reason(() => snappyUncompress(Buffer.from([0x04, 0x01, 0x05]), 1 << 20)), 'bad_snappy');
  assert.equal(reason(() => snappyUncompress(Buffer.from('not snappy at all, just text'), 1 << 20)), 'bad_snappy');
  assert.equal(reason(() => snappyUncompress(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 1 << 20)), 'bad_snappy');
});

test('a header claiming more than the limit is refused before anything is allocated', () => {
  // 0xffffffff declared, 5 bytes of body.
  assert.equal(reason(() => snappyUncompress(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), 64 << 20)), 'body_too_large');
});

test('random bytes never crash the decompressor', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      try {
        snappyUncompress(Buffer.from(bytes), 1 << 16);
      } catch (err) {
        assert.ok(rejectionOf(err), String(err));
      }
    }),
    { numRuns: 2000 },
  );
});

test('the transient variant inflates the same bytes into a buffer it reuses', () => {
  const a = Buffer.from('abcabcabcabcabcabc'.repeat(50));
  const b = Buffer.from('xyz'.repeat(100));
  const first = snappyUncompressTransient(compress(a), 1 << 20);
  assert.deepEqual(Buffer.from(first), a);
  const second = snappyUncompressTransient(compress(b), 1 << 20);
  assert.deepEqual(Buffer.from(second), b);
  assert.equal(second.buffer, first.buffer, 'one buffer for both');
  assert.throws(() => snappyUncompressTransient(compress(a), 10), (e: unknown) => rejectionOf(e)?.status === 413);
});
