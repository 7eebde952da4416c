import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../../pipelines/core/errors.ts';
import { parseSeriesCsv, parseTimestamp } from '../../../pipelines/detect/csv.ts';

describe('CSV series', () => {
  it('reads NAB timestamps as UTC, ISO, epoch seconds and milliseconds', () => {
    const ms = Date.UTC(2014, 3, 1, 0, 0, 0);
    assert.equal(parseTimestamp('2014-04-01 00:00:00'), ms);
    assert.equal(parseTimestamp('2014-04-01 00:00:00.000000'), ms);
    assert.equal(parseTimestamp('2014-04-01T00:00:00Z'), ms);
    assert.equal(parseTimestamp('2014-04-01T02:00:00+02:00'), ms);
    assert.equal(parseTimestamp('2014-04-01T00:00'), ms);
    assert.equal(parseTimestamp(String(ms / 1000)), ms);
    assert.equal(parseTimestamp(String(ms)), ms);
    assert.ok(Number.isNaN(parseTimestamp('yesterday')));
  });

  it('parses rows, with missing values as NaN', () => {
    const s = parseSeriesCsv('timestamp,value\n2014-04-01 00:00:00,1.5\n2014-04-01 00:05:00,\n\n2014-04-01 00:10:00,NaN\n', 'x.csv');
    assert.deepEqual(s.v.map(String), ['1.5', 'NaN', 'NaN']);
    assert.equal(s.t[1]! - s.t[0]!, 300_000);
    const swapped = parseSeriesCsv('value,timestamp\n3,0\n', 'y.csv');
    assert.deepEqual(swapped, { t: [0], v: [3] });
  });

  it('reports bad lines with their line number', () => {
    const bad = (text: string, msg: string) => assert.throws(() => parseSeriesCsv(text, 'd.csv'), (e: unknown) => e instanceof InputError && e.message === msg);
    bad('timestamp,value\n2014-04-01 00:00:00,1\n2014-04-01 00:05:00,abc\n', "d.csv:3: bad value 'abc' (expected a number, empty or NaN)");
    bad('timestamp,value\nnot-a-time,1\n', "d.csv:2: bad timestamp 'not-a-time' (expected 2014-04-01 00:00:00, ISO 8601 or epoch seconds/ms)");
    bad('timestamp,value\n2014-04-01 00:00:00\n', "d.csv:2: expected 2 fields, found 1: '2014-04-01 00:00:00'");
    bad('time,val\n1,2\n', "d.csv:1: header must name 'timestamp' and 'value' columns, found 'time,val'");
    bad('\n\n', "d.csv: empty file (expected a 'timestamp,value' header and rows)");
  });
});
