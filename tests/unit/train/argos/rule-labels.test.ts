import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineRule } from '../../../../pipelines/detect/rules/rule.ts';
import { SeriesDetector } from '../../../../pipelines/detect/engine/series-detector.ts';
import { runRule } from '../../../../pipelines/train/argos/rule-labels.ts';
import { syntheticSeries } from './synthetic.ts';

test('runRule fires exactly where the detect stage fires the same rule (for, windows, dropped rows)', () => {
  const s = syntheticSeries(3);
  // A repeated timestamp and a NaN: both are not fed, as SeriesDetector drops them.
  s.timestamps[1000] = s.timestamps[999]!;
  s.values[1500] = Number.NaN;
  for (const expr of ['value > mean(288 samples) + 3 * std(288 samples)', 'abs(value - median(48 samples)) > 4 * mad(48 samples) for 2', 'value > mean(1d) + 2 * std(1d) for 10m', 'value - lag(1) > 5']) {
    const rule = defineRule(expr, { id: 'r' });
    const mine = runRule(rule, s.timestamps, s.values);
    const det = new SeriesDetector({ rules: [rule] });
    const theirs = Array.from(s.values, (v, i) => (det.update(s.timestamps[i]!, v).fn.length > 0 ? 1 : 0));
    assert.deepEqual(Array.from(mine.fired), theirs, expr);
    assert.ok(theirs.includes(1), `${expr} fires somewhere`);
    assert.equal(mine.fault, undefined);
  }
});

test('runRule reports a run-time fault with its row and stops firing there', () => {
  const s = syntheticSeries(4, { n: 400 });
  s.values.fill(0, 100, 200);
  const r = runRule(defineRule('value / (value - lag(1)) > 2'), s.timestamps, s.values);
  assert.ok(r.fault);
  assert.ok(r.fault.row >= 100 && r.fault.row < 200, `fault at ${r.fault.row}`);
  assert.match(r.fault.message, /non-finite/);
  assert.equal(r.fired.subarray(r.fault.row).indexOf(1), -1);
});

test('the synthesizer\'s features fire exactly where the engine fires the template they stand for', async () => {
  const { FEATURES, acceptedRows, computeFeature } = await import('../../../../pipelines/train/argos/features.ts');
  const s = syntheticSeries(5, { n: 2000 });
  const rows = acceptedRows(s.timestamps, s.values, s.values.length);
  const cases = [
    ['value', '>', 80],
    ['z288', '>', 2.5],
    ['z48', '<', -1.5],
    ['rz48', '>', 4],
    ['rz288', '<', 3],
    ['std48', '>', 6.5],
    ['shift12_288', '<', -2],
    ['delta1', '>', 3],
    ['qr288', '<', 0.95],
    ['qr1440', '<', 0.5],
  ] as const;
  for (const [name, op, k] of cases) {
    const f = computeFeature(name, s.values, rows, s.values.length);
    const expected = Array.from(f, (v) => (op === '>' ? v > k : v < k) ? 1 : 0);
    const expr = FEATURES[name].expr(op, String(k));
    const got = Array.from(runRule(defineRule(expr), s.timestamps, s.values).fired);
    const diff = got.findIndex((x, i) => x !== expected[i]);
    assert.equal(diff, -1, `${expr}: first difference at row ${diff}`);
    assert.ok(got.includes(1) && got.includes(0), `${expr} fires on some rows only`);
  }
});
