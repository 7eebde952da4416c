import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OffsetTracker } from '../../../pipelines/inference/offsets.ts';

test('the committable position stops at the first record not yet answered', () => {
  const t = new OffsetTracker();
  const [a, b, c] = [10, 11, 13].map((o) => t.add(0, o)); // 12 is a transaction marker: offsets need not be contiguous
  assert.equal(t.inFlight, 3);
  assert.deepEqual(t.committable(), [{ partition: 0, offset: 10 }]);
  t.done(c!);
  t.done(b!);
  assert.deepEqual(t.committable(), [], 'offset 10 still in flight: nothing moves');
  t.done(a!);
  assert.deepEqual(t.committable(), [{ partition: 0, offset: 14 }], 'all answered: one past the last');
  assert.equal(t.inFlight, 0);
  assert.deepEqual(t.committable(), [], 'reported once');
});

test('partitions are independent; done is idempotent', () => {
  const t = new OffsetTracker();
  const p0 = t.add(0, 5);
  const p1 = t.add(1, 7);
  assert.equal(t.done(p1), true);
  assert.equal(t.done(p1), false);
  assert.deepEqual(t.committable(), [{ partition: 0, offset: 5 }, { partition: 1, offset: 8 }]);
  assert.equal(t.inFlightOf(0), 1);
  assert.equal(t.inFlightOf(1), 0);
  t.done(p0);
  assert.deepEqual(t.committable(), [{ partition: 0, offset: 6 }]);
});

test('a reset (revoke, re-assign) makes older tickets stale and starts the partition over', () => {
  const t = new OffsetTracker();
  const old = t.add(0, 1);
  t.reset(0);
  assert.equal(t.inFlight, 0);
  assert.equal(t.done(old), false, 'a result of the former assignment does not move the new one');
  const again = t.add(0, 1);
  assert.deepEqual(t.committable(), [{ partition: 0, offset: 1 }]);
  t.done(again);
  assert.deepEqual(t.committable(), [{ partition: 0, offset: 2 }]);
});

test('an offset that goes back (a re-fetch) restarts the partition', () => {
  const t = new OffsetTracker();
  const first = t.add(0, 4);
  t.add(0, 5);
  const refetched = t.add(0, 4);
  assert.equal(t.inFlight, 1);
  assert.equal(t.done(first), false);
  t.done(refetched);
  assert.deepEqual(t.committable(), [{ partition: 0, offset: 5 }]);
});

test('long runs stay correct across the internal compaction', () => {
  const t = new OffsetTracker();
  const tickets = Array.from({ length: 5000 }, (_, i) => t.add(2, i));
  // Answer all but offset 3000, in a scrambled order.
  const order = tickets.filter((x) => x.offset !== 3000).sort((x, y) => ((x.offset * 7919) % 5003) - ((y.offset * 7919) % 5003));
  for (const k of order) t.done(k);
  assert.deepEqual(t.committable(), [{ partition: 2, offset: 3000 }]);
  assert.equal(t.inFlight, 1);
  for (let i = 5000; i < 6000; i++) t.done(t.add(2, i));
  assert.deepEqual(t.committable(), []);
  t.done(tickets[3000]!);
  assert.deepEqual(t.committable(), [{ partition: 2, offset: 6000 }]);
  assert.equal(t.inFlight, 0);
});
