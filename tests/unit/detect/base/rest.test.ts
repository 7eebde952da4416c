/**
 * The base detectors' rest period and FP rules: an alarm an FP rule vetoes was never raised, so
 * it starts no rest, and the same event is still detected a few samples later.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mulberry32 } from '../../../../pipelines/core/random.ts';
import { createBaseDetector } from '../../../../pipelines/detect/base/index.ts';
import { RestGate, combineTrace, lastAlarmBefore, traceBase, traceOfLabels } from '../../../../pipelines/detect/base/rest.ts';
import { SeriesDetector, defineRule } from '../../../../pipelines/detect/index.ts';

const STEP = 300_000;
const T0 = Date.UTC(2024, 0, 1);

/** 1,500 quiet samples around 10, then a level shift to 40 held for 40 samples, then back. */
function shift(): { ts: number[]; xs: number[]; at: number } {
  const r = mulberry32(5);
  const at = 1500;
  const xs = Array.from({ length: 2000 }, (_, i) => (i >= at && i < at + 40 ? 40 : 10) + (r() - 0.5));
  return { ts: xs.map((_, i) => T0 + i * STEP), xs, at };
}

describe('RestGate', () => {
  it('lets one alarm through per rest period, and a vetoed alarm starts none', () => {
    const g = new RestGate(3);
    assert.equal(g.pass(0), true);
    assert.equal(g.pass(1), false);
    assert.equal(g.pass(3), false);
    assert.equal(g.pass(4), true);
    g.veto();
    assert.equal(g.pass(5), true, 'the vetoed alarm at 4 does not rest 5');
    g.clear();
    g.veto(); // nothing to undo after a sample without alarm
    assert.equal(g.resting(8), true);
    assert.equal(g.pass(9), true);
  });
});

for (const name of ['ensemble', 'ewma', 'robust-z']) {
  describe(`${name}: an FP-vetoed base alarm does not suppress the same event`, () => {
    it('alarms on the first sample of a level shift without rules', () => {
      const { ts, xs, at } = shift();
      const det = new SeriesDetector({ base: createBaseDetector(name) });
      const fired = xs.flatMap((x, i) => (det.update(ts[i]!, x).isAnomaly ? [i] : []));
      assert.deepEqual(fired.filter((i) => i < at + 40), [at], `${name} alarms once, at the shift`);
    });

    it('detects it on the next sample when an FP rule vetoes the first', () => {
      const { ts, xs, at } = shift();
      // Vetoes exactly the jump sample: "a value that jumped by more than 20 is a glitch".
      const veto = defineRule('value - lag(1) > 20', { id: 'glitch', kind: 'FP' });
      const det = new SeriesDetector({ base: createBaseDetector(name), rules: [veto] });
      const decisions = xs.map((x, i) => det.update(ts[i]!, x));
      assert.equal(decisions[at]!.suppressed, true, 'the first alarm is vetoed');
      assert.equal(decisions[at]!.isAnomaly, false);
      const fired = decisions.flatMap((d, i) => (d.isAnomaly ? [i] : []));
      assert.ok(fired.length >= 1, `${name}: the event is still detected`);
      assert.ok(fired[0]! > at && fired[0]! <= at + 5, `${name}: detected a few samples later (at ${fired[0]})`);
      // And only once: the alarm that went through starts the rest as usual.
      assert.equal(fired.filter((i) => i < at + 40).length, 1);
    });
  });
}

describe('combineTrace replays SeriesDetector offline', () => {
  it('gives the same labels as the online path for any veto pattern', () => {
    const r = mulberry32(11);
    const xs = Array.from({ length: 4000 }, (_, i) => 50 + 10 * Math.sin((2 * Math.PI * i) / 288) + 2 * (r() - 0.5) + (i % 700 === 650 ? 80 : 0) + (i > 3000 && i < 3100 ? 25 : 0));
    const ts = xs.map((_, i) => T0 + i * STEP);
    xs[1200] = Number.NaN; // skipped, never fires
    ts[2000] = ts[1999]!; // repeated timestamp: dropped
    for (const name of ['ensemble', 'ewma', 'robust-z']) {
      const trace = traceBase(() => createBaseDetector(name), ts, xs);
      // Vetoes on a random half of the rows where the alarm condition holds.
      const veto = Uint8Array.from(trace.candidates, (c) => (c && r() < 0.5 ? 1 : 0));
      const det = createBaseDetector(name);
      const online: number[] = [];
      let lastT = -Infinity;
      for (let i = 0; i < xs.length; i++) {
        if (!(ts[i]! > lastT) || !Number.isFinite(xs[i]!)) {
          if (ts[i]! > lastT) lastT = ts[i]!;
          online.push(0);
          continue;
        }
        lastT = ts[i]!;
        const a = det.update(ts[i]!, xs[i]!).isAnomaly;
        if (a && veto[i]) det.veto?.();
        online.push(a && !veto[i] ? 1 : 0);
      }
      assert.ok(online.includes(1), `${name} raises alarms on this series`);
      assert.ok(veto.includes(1), `${name}: some alarms are vetoed`);
      assert.deepEqual(Array.from(combineTrace(trace, veto, null)), online, name);
      // Scoring a stretch from the state before it gives the same rows.
      const from = 2500;
      assert.deepEqual(Array.from(combineTrace(trace, veto, null, from, xs.length, lastAlarmBefore(trace, veto, from))), online.slice(from), `${name} from ${from}`);
    }
  });

  it('plain labels are a trace without rest', () => {
    const t = traceOfLabels([0, 1, 1, 0, 1]);
    assert.deepEqual(Array.from(combineTrace(t, [0, 1, 0, 0, 0], [1, 0, 0, 0, 0])), [1, 0, 1, 0, 1]);
  });
});
