import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelSegments, parseSeriesCsv, parseUtcTimestamp, windowsToPointLabels } from '../../../../pipelines/train/data/series.ts';

test('timestamps are read as UTC', () => {
  assert.equal(parseUtcTimestamp('2014-04-10 07:15:00'), Date.UTC(2014, 3, 10, 7, 15, 0));
  assert.equal(parseUtcTimestamp('2014-04-10 07:15:00.000000'), Date.UTC(2014, 3, 10, 7, 15, 0));
  assert.equal(parseUtcTimestamp('2014-04-10T07:15:00Z'), Date.UTC(2014, 3, 10, 7, 15, 0));
  assert.ok(Number.isNaN(parseUtcTimestamp('2014-02-31 00:00:00')));
  assert.ok(Number.isNaN(parseUtcTimestamp('2014-04-10 07:15:00+02:00')));
  assert.ok(Number.isNaN(parseUtcTimestamp('yesterday')));
});

test('parses a NAB-style CSV in file order', () => {
  const s = parseSeriesCsv('timestamp,value\n2014-01-01 00:00:00,1.5\n2014-01-01 00:05:00,-2\n2014-01-01 00:05:00,3e2\n', 'a/b.csv');
  assert.equal(s.name, 'a/b.csv');
  assert.deepEqual([...s.values], [1.5, -2, 300]);
  assert.equal(s.timestamps[1], Date.UTC(2014, 0, 1, 0, 5));
  assert.equal(s.timestamps.length, 3);
});

test('bad input names file and line', () => {
  assert.throws(() => parseSeriesCsv('time,value\n', 'x.csv', '/d/x.csv'), { message: /^\/d\/x\.csv:1: header must name 'timestamp' and 'value'/ });
  assert.throws(() => parseSeriesCsv('timestamp,value\n2014-01-01 00:00:00,1\n2014-01-01 00:05:00,abc\n', 'x.csv'), {
    code: 'PANOPTES_INPUT',
    message: /^x\.csv:3: bad value 'abc'/,
  });
  assert.throws(() => parseSeriesCsv('timestamp,value\n01/02/2014,1\n', 'x.csv'), { message: /^x\.csv:2: bad timestamp '01\/02\/2014'/ });
  assert.throws(() => parseSeriesCsv('timestamp,value\n2014-01-01 00:00:00,1,2\n', 'x.csv'), { message: /^x\.csv:2: expected as many fields/ });
  assert.throws(() => parseSeriesCsv('timestamp,value\n', 'x.csv'), { message: /no data rows/ });
});

test('gaps and odd files: empty values and NaN are missing samples; CRLF, blank lines and duplicate timestamps are accepted', () => {
  const s = parseSeriesCsv('timestamp,value\r\n2014-01-01 00:00:00,1\r\n2014-01-01 00:05:00,\r\n\r\n2014-01-01 00:05:00,NaN\r\n2014-01-01 00:10:00,4\r\n', 'gap.csv');
  assert.equal(s.values.length, 4);
  assert.equal(s.values[0], 1);
  assert.ok(Number.isNaN(s.values[1]!) && Number.isNaN(s.values[2]!));
  assert.equal(s.timestamps[1], s.timestamps[2]);
  assert.equal(s.values[3], 4);
});

test('windows and point labels convert both ways', () => {
  const l = windowsToPointLabels([{ start: 1, end: 2 }, { start: 5, end: 5 }], 7);
  assert.deepEqual([...l], [0, 1, 1, 0, 0, 1, 0]);
  assert.deepEqual(labelSegments(l), [{ start: 1, end: 2 }, { start: 5, end: 5 }]);
  assert.deepEqual(labelSegments([1, 1, 0, 1]), [{ start: 0, end: 1 }, { start: 3, end: 3 }]);
});
