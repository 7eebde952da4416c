import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SampleHistory } from '../../../../../pipelines/detect/engine/windows/history.ts';
import { Moments } from '../../../../../pipelines/detect/engine/windows/moments.ts';
import { MonoDeque } from '../../../../../pipelines/detect/engine/windows/mono-deque.ts';
import { OrderStats, interpolate } from '../../../../../pipelines/detect/engine/windows/order-stats.ts';

const values = fc.array(fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: -3, max: 3 })), { minLength: 1, maxLength: 200 });

describe('OrderStats', () => {
  it('matches sorting for quantiles and the MAD on a sliding window', () => {
    fc.assert(
      fc.property(values, fc.integer({ min: 1, max: 40 }), fc.double({ min: 0, max: 1, noNaN: true }), (xs, w, q) => {
        const o = new OrderStats(4);
        xs.forEach((x, i) => {
          // The window's steady state uses replace (one out, one in); also cover insert/remove.
          if (i >= w && i % 2 === 0) o.replace(xs[i - w]!, x);
          else {
            o.insert(x);
            if (i >= w) o.remove(xs[i - w]!);
          }
          const win = xs.slice(Math.max(0, i - w + 1), i + 1);
          const sorted = [...win].sort((a, b) => a - b);
          assert.equal(o.n, win.length);
          assert.equal(o.quantile(q), interpolate(sorted, sorted.length, q));
          const med = interpolate(sorted, sorted.length, 0.5);
          const dev = win.map((x) => Math.abs(x - med)).sort((a, b) => a - b);
          assert.equal(o.mad(), interpolate(dev, dev.length, 0.5));
        });
      }),
      { seed: 11, numRuns: 200 },
    );
  });
});

describe('OrderStats on long windows (memmove paths)', () => {
  it('matches sorting when ranks move by hundreds', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 1500, maxLength: 1500 }), fc.integer({ min: 300, max: 700 }), (xs, w) => {
        const o = new OrderStats(4);
        const win: number[] = [];
        xs.forEach((x, i) => {
          if (i >= w) o.replace(xs[i - w]!, x);
          else o.insert(x);
          win.push(x);
          if (win.length > w) win.shift();
        });
        const sorted = [...win].sort((a, b) => a - b);
        for (const q of [0, 0.01, 0.5, 0.99, 1]) assert.equal(o.quantile(q), interpolate(sorted, sorted.length, q));
      }),
      { seed: 13, numRuns: 10 },
    );
  });
});

describe('Moments and MonoDeque', () => {
  it('track mean, std, min and max of a sliding window', () => {
    fc.assert(
      fc.property(values, fc.integer({ min: 1, max: 40 }), (xs, w) => {
        const h = new SampleHistory(4);
        const m = new Moments();
        const max = new MonoDeque(h, true);
        const min = new MonoDeque(h, false);
        xs.forEach((x, i) => {
          h.push(i, x);
          m.add(x);
          max.push(i, x);
          min.push(i, x);
          const start = Math.max(0, i - w + 1);
          if (i >= w) m.remove(xs[i - w]!);
          max.evictBefore(start);
          min.evictBefore(start);
          if (m.needsRebase()) m.rebase(h, start, i);
          h.trim(start);
          const win = xs.slice(start, i + 1);
          const mean = win.reduce((a, b) => a + b, 0) / win.length;
          const std = Math.sqrt(win.reduce((a, b) => a + (b - mean) ** 2, 0) / win.length);
          const scale = Math.max(1, ...win.map(Math.abs));
          assert.ok(Math.abs(m.mean() - mean) <= 1e-9 * scale, `mean ${m.mean()} vs ${mean}`);
          assert.ok(Math.abs(m.std() - std) <= 1e-6 * scale, `std ${m.std()} vs ${std}`);
          assert.equal(max.front(), Math.max(...win));
          assert.equal(min.front(), Math.min(...win));
        });
      }),
      { seed: 12, numRuns: 200 },
    );
  });
});
