import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLabelFile, resolveWindows } from '../../../../pipelines/train/data/labels.ts';
import { parseSeriesCsv } from '../../../../pipelines/train/data/series.ts';
import { clipWindows, splitIndex } from '../../../../pipelines/train/data/split.ts';

const csv = ['timestamp,value', ...Array.from({ length: 20 }, (_, i) => `2014-01-01 00:${String(i).padStart(2, '0')}:00,${i}`)].join('\n');
const series = parseSeriesCsv(csv, 'cat/s.csv');

test('window labels resolve to inclusive row ranges', () => {
  const labels = parseLabelFile(JSON.stringify({ 'cat/s.csv': [['2014-01-01 00:03:00.000000', '2014-01-01 00:05:00.000000'], ['2014-01-01 00:10:30', '2014-01-01 00:12:10']] }), 'w.json');
  assert.deepEqual(resolveWindows(series, labels.get('cat/s.csv')!, 'w.json'), [{ start: 3, end: 5 }, { start: 11, end: 12 }]);
});

test('point labels become NAB windows (10% of the file per anomaly, centred) and merge on overlap', () => {
  // 20 rows, 1 anomaly: window length int(0.1*20/1) = 2 → ±1 row
  const one = parseLabelFile(JSON.stringify({ 'cat/s.csv': ['2014-01-01 00:10:00'] }), 'p.json');
  assert.deepEqual(resolveWindows(series, one.get('cat/s.csv')!, 'p.json'), [{ start: 9, end: 11 }]);
  const edge = parseLabelFile(JSON.stringify({ 'cat/s.csv': ['2014-01-01 00:00:00'] }), 'p.json');
  assert.deepEqual(resolveWindows(series, edge.get('cat/s.csv')!, 'p.json'), [{ start: 0, end: 1 }]);
});

test('overlapping windows merge', () => {
  const labels = parseLabelFile(JSON.stringify({ 'cat/s.csv': [['2014-01-01 00:03:00', '2014-01-01 00:06:00'], ['2014-01-01 00:05:00', '2014-01-01 00:08:00']] }), 'w.json');
  assert.deepEqual(resolveWindows(series, labels.get('cat/s.csv')!, 'w.json'), [{ start: 3, end: 8 }]);
});

test('bad label files give clear errors', () => {
  assert.throws(() => parseLabelFile('{"a": [', 'l.json'), { code: 'PANOPTES_INPUT', message: /^l\.json(:1)?: not valid JSON/ });
  assert.throws(() => parseLabelFile('[]', 'l.json'), { message: /expected an object/ });
  assert.throws(() => parseLabelFile('{"a.csv": [["2014-01-01 00:00:00"]]}', 'l.json'), { message: /^l\.json: "a\.csv"\[0\]: expected \["start timestamp", "end timestamp"\]/ });
  assert.throws(() => parseLabelFile('{"a.csv": [["2014-01-02 00:00:00", "2014-01-01 00:00:00"]]}', 'l.json'), { message: /ends before it starts/ });
  assert.throws(() => parseLabelFile('{"a.csv": [5]}', 'l.json'), { message: /expected a timestamp string/ });
  const outside = parseLabelFile(JSON.stringify({ 'cat/s.csv': [['2015-01-01 00:00:00', '2015-01-02 00:00:00']] }), 'w.json');
  assert.throws(() => resolveWindows(series, outside.get('cat/s.csv')!, 'w.json'), { message: /contains no point of the series/ });
  const missing = parseLabelFile(JSON.stringify({ 'cat/s.csv': ['2014-01-01 00:10:30'] }), 'p.json');
  assert.throws(() => resolveWindows(series, missing.get('cat/s.csv')!, 'p.json'), { message: /is not a timestamp of the series/ });
});

test('70/30 split and window clipping', () => {
  assert.deepEqual(splitIndex(10), { cut: 7, trainLength: 7, testLength: 3 });
  assert.deepEqual(splitIndex(101), { cut: 70, trainLength: 70, testLength: 31 });
  assert.throws(() => splitIndex(10, 1), { message: /trainFraction/ });
  assert.deepEqual(clipWindows([{ start: 2, end: 3 }, { start: 6, end: 8 }], 7, 10), [{ start: 0, end: 1 }]);
  assert.deepEqual(clipWindows([{ start: 2, end: 3 }, { start: 6, end: 8 }], 0, 7), [{ start: 2, end: 3 }, { start: 6, end: 6 }]);
});
