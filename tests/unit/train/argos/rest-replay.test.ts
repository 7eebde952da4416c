/**
 * The trainer and the Argos protocol score base + rules exactly as the detect stage runs them:
 * the base's rest period applied after the FP vetoes (pipelines/detect/base/rest.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBaseDetector } from '../../../../pipelines/detect/base/index.ts';
import { traceBase } from '../../../../pipelines/detect/base/rest.ts';
import { SeriesDetector, defineRule } from '../../../../pipelines/detect/index.ts';
import { ruleSetOf } from '../../../../pipelines/train/argos/run.ts';
import { combine } from '../../../../pipelines/train/argos/trainer.ts';
import { combineWithRules } from '../../../../pipelines/train/eval/detector.ts';
import { runRule } from '../../../../pipelines/train/argos/rule-labels.ts';
import { syntheticSeries } from './synthetic.ts';

test('base + FP and FN rules: the offline combination equals SeriesDetector, row for row', () => {
  let exercised = 0;
  for (const seed of [3, 4]) {
    const s = syntheticSeries(seed, { n: 4000, spikes: 12, height: 20, spikeLength: 6 });
    s.timestamps[1000] = s.timestamps[999]!;
    s.values[1500] = Number.NaN;
    const rules = [
      defineRule('value - lag(1) > 4', { id: 'jump', kind: 'FP' }),
      defineRule('value < mean(288 samples)', { id: 'dip', kind: 'FP' }),
      defineRule('value > mean(288 samples) + 5 * std(288 samples)', { id: 'hi', kind: 'FN' }),
    ];
    for (const name of ['ensemble', 'ewma']) {
      const det = new SeriesDetector({ base: createBaseDetector(name), rules });
      const online = Array.from(s.values, (v, i) => (det.update(s.timestamps[i]!, v).isAnomaly ? 1 : 0));
      const trace = traceBase(() => createBaseDetector(name), s.timestamps, s.values);
      const series = { name: s.name, timestamps: s.timestamps, values: s.values };
      const rs = ruleSetOf(rules);
      const ctx = { trainEnd: s.values.length, trainLabels: new Uint8Array(0) };
      const evalLabels = combineWithRules(trace, rs.fpRules.map((f) => f(series, ctx)), rs.fnRules.map((f) => f(series, ctx)));
      assert.deepEqual(Array.from(evalLabels), online, `${name} seed ${seed}: Argos protocol`);
      const fp = new Uint8Array(s.values.length);
      const fn = new Uint8Array(s.values.length);
      for (const r of rules) {
        const fired = runRule(r, s.timestamps, s.values).fired;
        const into = r.spec.kind === 'FP' ? fp : fn;
        for (let i = 0; i < fired.length; i++) into[i] |= fired[i]!;
      }
      assert.deepEqual(Array.from(combine(trace, fp, fn, 0, s.values.length)), online, `${name} seed ${seed}: trainer`);
      // The case the rest replay exists for: a vetoed alarm followed by an alarm within the rest period.
      let vetoedThenAlarm = false;
      let lastVeto = -Infinity;
      for (let i = 0; i < online.length; i++) {
        if (trace.candidates[i] && fp[i]) lastVeto = i;
        else if (online[i] && !fn[i] && i - lastVeto <= trace.rest) vetoedThenAlarm = true;
      }
      assert.ok(online.includes(1), `${name} seed ${seed} raises alarms`);
      if (vetoedThenAlarm) exercised++;
    }
  }
  assert.ok(exercised > 0, 'some series has an alarm right after a vetoed one');
});
