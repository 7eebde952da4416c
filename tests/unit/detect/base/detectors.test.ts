import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, UsageError } from '../../../../pipelines/core/errors.ts';
import { EwmaForecastDetector } from '../../../../pipelines/detect/base/ewma-forecast.ts';
import { createBaseDetector } from '../../../../pipelines/detect/base/index.ts';
import { RobustZDetector } from '../../../../pipelines/detect/base/robust-z.ts';
import type { BaseDetector, BaseResult } from '../../../../pipelines/detect/base/types.ts';

/** Deterministic noise in [-1, 1). */
function noise(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 48271) % 2147483647) / 2147483647) * 2 - 1;
}

const FIVE_MIN = 300_000;

function run(det: BaseDetector, values: number[], step = FIVE_MIN): BaseResult[] {
  return values.map((v, i) => det.update(i * step, v));
}
const flagged = (rs: BaseResult[]) => rs.flatMap((r, i) => (r.isAnomaly ? [i] : []));

describe('robust z-score detector', () => {
  it('flags a spike on noisy data, not the noise, and explains the score', () => {
    const n = noise(1);
    const xs = Array.from({ length: 1000 }, () => 50 + n());
    xs[600] = 70;
    const rs = run(new RobustZDetector(), xs);
    assert.deepEqual(flagged(rs), [600]);
    assert.match(rs[600]!.explanation, /^value 70 is \d+(\.\d+)? robust standard deviations above the median \d+(\.\d+)? of the last 288 samples \(scale \S+ = 1\.4826 × MAD \S+; threshold 7\)$/);
    assert.ok(rs[600]!.score > 7);
  });

  it('warms up before flagging', () => {
    const xs = Array.from({ length: 20 }, (_, i) => (i === 10 ? 1000 : i % 3));
    const rs = run(new RobustZDetector({ window: 10, warmup: 15 }), xs);
    assert.deepEqual(flagged(rs), []);
    assert.equal(rs[10]!.ready, false);
    assert.equal(rs[10]!.explanation, 'warming up (10/15 samples)');
    assert.equal(rs[16]!.ready, true);
  });

  it('stays quiet during the cooldown after a flag, and says so', () => {
    const n = noise(2);
    const xs = Array.from({ length: 400 }, () => 10 + n());
    xs[300] = 40;
    xs[310] = 40;
    const rs = run(new RobustZDetector({ cooldown: 20 }), xs);
    assert.deepEqual(flagged(rs), [300]);
    assert.ok(rs[310]!.score > 7);
    assert.match(rs[310]!.explanation, /not flagged: within the cooldown after the previous flag$/);
    assert.deepEqual(flagged(run(new RobustZDetector({ cooldown: 0 }), xs)), [300, 310]);
  });

  it('falls back to a floor on flat windows', () => {
    const xs = Array.from({ length: 300 }, () => 100);
    xs[290] = 100.5;
    xs[295] = 101;
    const rs = run(new RobustZDetector({ cooldown: 0 }), xs);
    assert.deepEqual(flagged(rs), [295]);
    // In words, not "5 robust standard deviations" of a spread that is not there.
    assert.equal(rs[290]!.explanation, 'value 100.5 is above the last 288 samples, which hardly moved from 100 (a flat window, no spread to measure the change against: a change beyond 0.7 counts, 7 × the floor 0.1)');
    assert.doesNotMatch(rs[295]!.explanation, /standard deviations/);
    assert.match(rs[295]!.explanation, /^value 101 is above the last 288 samples, which hardly moved from 100/);
  });

  it('validates its options, naming each key', () => {
    assert.throws(() => new RobustZDetector({ window: 1, threshold: -1 }), (e: unknown) => e instanceof ConfigError && e.message === 'invalid configuration:\n  - robust-z.window: expected ≥ 3, found 1\n  - robust-z.threshold: expected > 0, found -1');
  });
});

describe('EWMA/seasonal forecast detector', () => {
  it('learns a daily pattern and flags only the spike', () => {
    const n = noise(3);
    const day = 288;
    const xs = Array.from({ length: day * 6 }, (_, i) => 100 + 30 * Math.sin((2 * Math.PI * i) / day) + 2 * n());
    xs[day * 5 + 40] += 40;
    const rs = run(new EwmaForecastDetector(), xs);
    assert.deepEqual(flagged(rs.slice(day * 2)).map((i) => i + day * 2), [day * 5 + 40]);
    const r = rs[day * 5 + 40]!;
    assert.match(r.explanation, /^value \S+ is \S+ σ above the forecast \S+ \(level \S+ \+ seasonal \S+ for this 30m slot of the 1d season\); typical residual σ \S+, threshold 7$/);
  });

  it('without a season, flags a level shift once and then absorbs it', () => {
    const n = noise(4);
    const xs = Array.from({ length: 1500 }, (_, i) => (i < 1000 ? 20 : 40) + n());
    const rs = run(new EwmaForecastDetector({ seasonMs: 0, cooldown: 30 }), xs);
    assert.deepEqual(flagged(rs), [1000]);
    assert.match(rs[1000]!.explanation, /^value \S+ is \S+ σ above the forecast 20\.\d+; typical residual σ \S+, threshold 7$/);
  });

  it('validates its options and is created by name', () => {
    assert.throws(() => new EwmaForecastDetector({ alpha: 0 }), (e: unknown) => e instanceof ConfigError && e.message.includes('ewma.alpha: expected > 0, found 0'));
    assert.equal(createBaseDetector('ewma').name, 'ewma');
    assert.equal(createBaseDetector('robust-z', { window: 50 }).name, 'robust-z');
    assert.throws(() => createBaseDetector('prophet'), (e: unknown) => e instanceof UsageError && e.message === "unknown base detector 'prophet' (expected ensemble, ewma, robust-z)");
  });
});
