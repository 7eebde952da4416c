/**
 * The Panoptes agent's detection decision (agents/detection.ts) and its replay for tuning
 * (agents/tune-detection.ts): repeated rule hits on a series that was quiet before the call are a
 * fault; a series that was already noisy, base-detector outliers and single blips are not; a
 * target going down is a fault at once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectionVerdict, type AnomalyMark } from '../../../pipelines/lab/agents/detection.ts';
import { replay } from '../../../pipelines/lab/agents/tune-detection.ts';

const m = (ts: number, series: string, rule = 'lab-latency', value = 1): AnomalyMark => ({ ts, series, rule, value });
const s = { minHits: 3, noiseHits: 1, lookbackMs: 60_000, minSeries: 1 };

describe('detection verdict', () => {
  it('a series flagged repeatedly by the rules since the call, quiet before, is a fault', () => {
    const v = detectionVerdict([m(1000, 'search:latency'), m(2000, 'search:latency'), m(3000, 'search:latency')], [], s);
    assert.equal(v.fault, true);
    assert.deepEqual(v.series, ['search:latency']);
  });

  it('the same hits on a series already noisy before the call are not', () => {
    const v = detectionVerdict([m(1000, 'frontend:latency'), m(2000, 'frontend:latency'), m(3000, 'frontend:latency')], [m(-5000, 'frontend:latency')], s);
    assert.equal(v.fault, false);
    assert.match(v.why, /already noisy/);
  });

  it('base-detector outliers and too few hits are not; a target going down is at once', () => {
    assert.equal(detectionVerdict([m(1000, 'geo:errors', ''), m(2000, 'geo:errors', ''), m(3000, 'geo:errors', '')], [], s).fault, false);
    assert.equal(detectionVerdict([m(1000, 'geo:errors', 'lab-errors'), m(2000, 'geo:errors', 'lab-errors')], [], s).fault, false);
    const v = detectionVerdict([m(1000, 'geo:up', 'lab-down', 0)], [], s);
    assert.equal(v.fault, true);
    assert.match(v.why, /geo:up went down/);
  });

  it('one series rising steadily (a new high at every hit) is enough alone; a jump that stays is not', () => {
    const two = { ...s, minSeries: 2, trendHits: 5 };
    const leak = [1, 2, 3, 4, 5, 6].map((i) => m(i * 1000, 'geo:memory', 'lab-memory', 100e6 + i * 8e6));
    assert.equal(detectionVerdict(leak.slice(0, 4), [], two).fault, false, 'four highs: not yet');
    const v = detectionVerdict(leak.slice(0, 5), [], two);
    assert.equal(v.fault, true);
    assert.deepEqual(v.series, ['geo:memory']);
    assert.match(v.why, /geo:memory rising steadily/);
    // A p95 that doubled with the machine's load and wobbles there: many hits, few new highs.
    const plateau = [0.31, 0.3, 0.32, 0.29, 0.31, 0.3, 0.32, 0.31].map((x, i) => m((i + 1) * 1000, 'frontend:latency', 'lab-latency', x));
    assert.equal(detectionVerdict(plateau, [], two).fault, false);
    assert.equal(detectionVerdict(leak, [], { ...two, trendHits: undefined }).fault, false, 'off without trendHits');
    assert.equal(detectionVerdict(leak, [m(-5000, 'geo:memory', 'lab-memory'), m(-4000, 'geo:memory', 'lab-memory')], { ...two, noiseHits: 2 }).fault, false, 'noisy before: no');
  });

  it('replays a recorded stream as the agent decides: when, and no before the deadline', () => {
    const c = { id: 'x', fault: true, marks: [m(-20_000, 'rate:latency'), m(4000, 'user:errors', 'lab-errors'), m(5000, 'user:errors', 'lab-errors'), m(6000, 'user:errors', 'lab-errors')] };
    assert.deepEqual(replay(c, s), [true, 7000]);
    assert.deepEqual(replay({ ...c, marks: c.marks.slice(0, 2) }, s), [false, null]);
  });
});

describe('lab run port check', () => {
  it('warns when the lab ports fall in the ephemeral port range, not below it', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { ephemeralPortWarning } = await import('../../../pipelines/lab/cli.ts');
    const f = join(mkdtempSync(join(tmpdir(), 'lab-ports-')), 'range');
    writeFileSync(f, '32768\t60999\n');
    assert.match(ephemeralPortWarning(46000, f)!, /ephemeral port range 32768-60999/);
    assert.match(ephemeralPortWarning(32750, f)!, /ephemeral/);
    assert.equal(ephemeralPortWarning(18800, f), null);
    assert.equal(ephemeralPortWarning(46000, join(f, 'missing')), null);
  });
});
