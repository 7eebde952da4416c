import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pointMetrics } from '../../../../pipelines/train/metrics/point.ts';
import { eventMetrics, pointAdjust, pointAdjustedMetrics } from '../../../../pipelines/train/metrics/event.ts';

const a = (s: string) => Uint8Array.from(s.replace(/ /g, ''), (c) => (c === '1' ? 1 : 0));

test('point precision / recall / F1 from hand counts', () => {
  const m = pointMetrics(a('0110 0001'), a('0111 0000'));
  assert.deepEqual([m.tp, m.fp, m.fn, m.tn], [2, 1, 1, 4]);
  assert.equal(m.precision, 2 / 3);
  assert.equal(m.recall, 2 / 3);
  assert.equal(m.f1, 2 / 3);
});

test('F1 is null when there is nothing to judge, 0 when only mistakes', () => {
  assert.equal(pointMetrics(a('0000'), a('0000')).f1, null);
  assert.equal(pointMetrics(a('0100'), a('0000')).f1, 0);
  assert.equal(pointMetrics(a('0000'), a('0100')).f1, 0);
  assert.equal(pointMetrics(a('0000'), a('0100')).precision, null);
});

test('length mismatch is an input error', () => {
  assert.throws(() => pointMetrics(a('01'), a('010')), { code: 'PANOPTES_INPUT' });
});

test('point adjustment marks a whole segment once any point of it is hit', () => {
  //                      segments:  ----      ---
  const truth = a('0111 1000 0111 0');
  const pred = a('0001 0010 0000 0');
  assert.deepEqual([...pointAdjust(pred, truth)], [...a('0111 1010 0000 0')]);
  const m = pointAdjustedMetrics(pred, truth);
  assert.deepEqual([m.tp, m.fp, m.fn], [4, 1, 3]);
  assert.equal(m.f1, 8 / 12);
});

test('event metrics: each labelled segment once, consecutive outside alarms as one FP event', () => {
  const truth = a('0111 1000 0111 0000 0');
  const pred = a('0001 0110 0000 1101 1');
  // segment 1 detected (TP), segment 2 missed (FN); FP runs: rows 5-6, 12-13, 15-16 → 3 FP events
  const m = eventMetrics(pred, truth);
  assert.deepEqual([m.tp, m.fp, m.fn], [1, 3, 1]);
  assert.equal(m.precision, 1 / 4);
  assert.equal(m.recall, 1 / 2);
  assert.equal(m.f1, 2 / 6);
});

test('an alarm run that starts inside a segment and continues past it is one FP event for its outside part', () => {
  const truth = a('0110 000');
  const pred = a('0011 100');
  const m = eventMetrics(pred, truth);
  assert.deepEqual([m.tp, m.fp, m.fn], [1, 1, 0]);
});

test('maxDelay only credits detections near the segment start', () => {
  const truth = a('0111 110');
  const pred = a('0000 100');
  assert.equal(eventMetrics(pred, truth).tp, 1);
  assert.equal(eventMetrics(pred, truth, { maxDelay: 2 }).tp, 0);
  assert.equal(eventMetrics(pred, truth, { maxDelay: 3 }).tp, 1);
  assert.deepEqual([...pointAdjust(pred, truth, { maxDelay: 2 })], [...a('0000 000')]);
});

test('a perfect prediction scores 1 on every metric; no anomalies and no alarms scores null', () => {
  const truth = a('0011 0001 1');
  for (const f of [pointMetrics, pointAdjustedMetrics, eventMetrics]) {
    assert.equal(f(truth, truth).f1, 1);
    assert.equal(f(a('0000'), a('0000')).f1, null);
  }
});

test('evaluateLabels returns the three metric families at once', async () => {
  const { evaluateLabels } = await import('../../../../pipelines/train/metrics/index.ts');
  const truth = a('0111 1000 0111 0000 0');
  const pred = a('0001 0110 0000 1101 1');
  const r = evaluateLabels(pred, truth);
  assert.deepEqual(r.event, eventMetrics(pred, truth));
  assert.deepEqual(r.point, pointMetrics(pred, truth));
  assert.deepEqual(r.pointAdjusted, pointAdjustedMetrics(pred, truth));
});
