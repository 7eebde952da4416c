/**
 * Window's lazy accumulators: order statistics and min/max are brought up to date only when read,
 * by replaying what they missed or rebuilding from the window. Whatever the reading pattern (every
 * sample, bursts, long silences, never), what they return must equal the window computed from
 * scratch — with the history trimmed as the compiler trims it, so a replay that would need an
 * evicted sample has to rebuild instead.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SampleHistory } from '../../../../../pipelines/detect/engine/windows/history.ts';
import { interpolate } from '../../../../../pipelines/detect/engine/windows/order-stats.ts';
import { Window } from '../../../../../pipelines/detect/engine/windows/window.ts';

/** -0 and 0 are the same number to a rule (the native sort orders them, insertion does not). */
const same = (a: number, b: number) => assert.ok(a === b, `${a} vs ${b}`);

function brute(win: number[], q: number): { q: number; mad: number; min: number; max: number } {
  const sorted = [...win].sort((a, b) => a - b);
  const med = interpolate(sorted, sorted.length, 0.5);
  const dev = win.map((x) => Math.abs(x - med)).sort((a, b) => a - b);
  return { q: interpolate(sorted, sorted.length, q), mad: interpolate(dev, dev.length, 0.5), min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

const sample = fc.record({
  dt: fc.constantFrom(1000, 1000, 1000, 2000, 5000, 40_000),
  v: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double({ min: -1e3, max: 1e3, noNaN: true })),
  // Reading pattern: runs of reads and of silences of every length.
  read: fc.boolean(),
});

describe('Window (lazy order statistics and min/max)', () => {
  for (const [name, ms, n] of [
    ['duration window (30s)', 30_000, 0],
    ['sample-count window (45 samples)', 0, 45],
    ['sample-count window (3 samples)', 0, 3],
  ] as const) {
    for (const trimMode of ['every 64 samples', 'when full, as the compiler does'] as const) {
      it(`${name}: reads equal the window from scratch under any reading pattern (history trimmed ${trimMode})`, () => {
        fc.assert(
          fc.property(fc.array(sample, { minLength: 1, maxLength: 400, size: 'max' }), fc.integer({ min: 1, max: 30 }), fc.double({ min: 0, max: 1, noNaN: true }), (xs, runLen, q) => {
            const h = new SampleHistory(4);
            const w = new Window(h, ms, n);
            w.need('order');
            w.need('max');
            w.need('min');
            const ts: number[] = [];
            const vs: number[] = [];
            let t = 1_000_000;
            xs.forEach((s, idx) => {
              t += s.dt;
              // Trim every 64 samples down to the window's start, or as the compiler does: when the
              // ring is full, first keeping what the window's own sorted array would replay, then strictly.
              if (trimMode === 'every 64 samples') {
                if (((idx - 1) & 63) === 0) h.trim(w.start);
              } else if (h.full()) {
                h.trim(w.oldestNeeded(false));
                if (h.full()) h.trim(w.oldestNeeded(true));
              }
              h.push(t, s.v);
              ts.push(t);
              vs.push(s.v);
              w.advance(idx, t, s.v, ts[0]!);
              // Reads come in runs: `read` decides for a stretch of runLen samples.
              if (!xs[Math.floor(idx / runLen) * runLen]!.read) return;
              const from = n > 0 ? Math.max(0, idx - n + 1) : ts.findIndex((x) => x > t - ms);
              assert.equal(w.start, from);
              const want = brute(vs.slice(from, idx + 1), q);
              const o = w.order();
              assert.equal(o.n, idx - from + 1);
              same(o.quantile(q), want.q);
              same(o.mad(), want.mad);
              same(w.max(), want.max);
              same(w.min(), want.min);
            });
          }),
          { seed: 21, numRuns: 100 },
        );
      });
    }
  }
});

describe('SampleHistory (times as 32-bit offsets while they fit, doubles otherwise)', () => {
  const step = (dt: fc.Arbitrary<number>) => fc.record({ dt, v: fc.double({ noNaN: true, noDefaultInfinity: true }), trim: fc.integer({ min: 0, max: 40 }) });
  // Any times; or whole ms with gaps of 2^30 ms, so the base has to move but offsets still fit.
  const steps = fc.oneof(
    fc.array(step(fc.constantFrom(1000, 15_000, 15_000, 60_000, 0.25, 1e-3, 2 ** 31, 3e9, 7 * 86_400_000)), { minLength: 1, maxLength: 300, size: 'max' }),
    fc.array(step(fc.constantFrom(15_000, 15_000, 15_000, 2 ** 30)), { minLength: 1, maxLength: 300, size: 'max' }),
  );
  it('gives back every retained time and value exactly, whatever the times, gaps and trims', () => {
    let wide = 0;
    let rebased = 0;
    fc.assert(
      fc.property(fc.constantFrom(0, -5e9, 1_764_288_000_000, 1_764_288_000_000.5, 0.1), steps, (t0, xs) => {
        const h = new SampleHistory(4);
        const ts: number[] = [];
        const vs: number[] = [];
        let t = t0;
        xs.forEach((s, i) => {
          t += s.dt;
          // Trimmed to the last few samples on every push, or only when full.
          if (s.trim < 8 || h.full()) h.trim(h.next - s.trim);
          const base = h.base;
          const wasWide = h.wide;
          assert.equal(h.push(t, s.v), i);
          if (!h.wide && h.first < i && h.base !== base) rebased++;
          if (h.wide && !wasWide) {
            // Doubles only when offsets from the oldest retained time cannot hold the retained times.
            const kept = ts.slice(h.first).concat(t);
            assert.ok(kept.some((x) => !Number.isInteger(x) || x - kept[0]! >= 2 ** 31), `went wide needlessly: ${kept.slice(0, 5)}`);
          }
          ts.push(t);
          vs.push(s.v);
          for (let j = h.first; j <= i; j++) {
            assert.ok(Object.is(h.t(j), ts[j]), `t(${j}) ${h.t(j)} vs ${ts[j]}`);
            assert.ok(Object.is(h.v(j), vs[j]));
          }
        });
        if (h.wide) wide++;
      }),
      { seed: 5, numRuns: 300 },
    );
    assert.ok(wide > 30 && rebased > 30, `both paths taken: ${wide} runs went wide, ${rebased} rebases`);
  });

  it('duration windows find their start exactly over offsets and over double times', () => {
    fc.assert(
      fc.property(fc.constantFrom(1_764_288_000_000, 1_764_288_000_000.25), fc.array(fc.constantFrom(1000, 15_000, 29_999, 30_000, 0.5, 2 ** 31), { minLength: 1, maxLength: 300, size: 'max' }), (t0, dts) => {
        const h = new SampleHistory(4);
        const w = new Window(h, 30_000, 0);
        w.need('moments');
        const ts: number[] = [];
        let t = t0;
        dts.forEach((dt, idx) => {
          t += dt;
          if (h.full()) h.trim(w.oldestNeeded(true));
          h.push(t, idx);
          ts.push(t);
          w.advance(idx, t, idx, ts[0]!);
          assert.equal(w.start, ts.findIndex((x) => x > t - 30_000));
          assert.equal(w.moments!.sum(), vsum(w.start, idx));
        });
      }),
      { seed: 6, numRuns: 200 },
    );
  });
});

/** start + … + end. */
function vsum(start: number, end: number): number {
  return ((start + end) * (end - start + 1)) / 2;
}
