import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCsv, parseNumberCell, parseSeriesCsv, parseTimestamp } from '../../../pipelines/core/csv.ts';
import { InputError } from '../../../pipelines/core/errors.ts';

test('a series with gaps, NaN, CRLF, a BOM and a repeated timestamp is read in file order', () => {
  const s = parseSeriesCsv('\uFEFFtimestamp,value\r\n2014-04-01 00:00:00,1.5\r\n2014-04-01 00:05:00,\r\n\r\n2014-04-01 00:05:00,NaN\r\n2014-04-01 00:10:00,"2"\r\n', 'gaps.csv');
  assert.deepEqual([...s.timestamps], [1396310400000, 1396310700000, 1396310700000, 1396311000000]);
  assert.equal(s.values[0], 1.5);
  assert.ok(Number.isNaN(s.values[1]!) && Number.isNaN(s.values[2]!));
  assert.equal(s.values[3], 2);
});

test('a bad row names file:line', () => {
  const bad: [string, RegExp][] = [
    ['timestamp,value\n2014-04-01 00:00:00,1\n2014-04-01 00:05:00,abc\n', /^f\.csv:3: bad value 'abc'/],
    ['timestamp,value\n2014-04-01 00:00:00,1e309\n', /^f\.csv:2: bad value '1e309'/],
    ['timestamp,value\n2014-02-31 00:00:00,1\n', /^f\.csv:2: bad timestamp '2014-02-31 00:00:00'/],
    ['timestamp,value\n2014-04-01 00:00:00,1\n2014-04-01 00:05:00\n', /^f\.csv:3: expected as many fields as the first row/],
    ['time,v\n1,2\n', /^f\.csv:1: header must name 'timestamp' and 'value'/],
    ['', /^f\.csv: empty file/],
    ['timestamp,value\n', /^f\.csv: no data rows/],
  ];
  for (const [text, re] of bad) assert.throws(() => parseSeriesCsv(text, 'f.csv'), (e: unknown) => e instanceof InputError && re.test(e.message), text);
});

test('timestamps: NAB form, ISO with zone, epoch seconds and ms; out-of-range times are refused', () => {
  assert.equal(parseTimestamp('2014-04-01 00:00:00'), Date.UTC(2014, 3, 1));
  assert.equal(parseTimestamp('2014-04-01T02:00:00+02:00'), Date.UTC(2014, 3, 1));
  assert.equal(parseTimestamp('1396310400'), 1396310400000);
  assert.equal(parseTimestamp('1396310400000'), 1396310400000);
  assert.ok(Number.isNaN(parseTimestamp('9000000000000000')));
  assert.ok(Number.isNaN(parseTimestamp('yesterday')));
});

test('number cells: finite float64, NaN for missing, null for anything else', () => {
  assert.equal(parseNumberCell(' -1.5e3 '), -1500);
  assert.ok(Number.isNaN(parseNumberCell('')!));
  assert.ok(Number.isNaN(parseNumberCell('nan')!));
  for (const x of ['1e309', 'Infinity', '0x10', '1,5', 'abc']) assert.equal(parseNumberCell(x), null, x);
});

test('parseCsv keeps line numbers across blank lines and reports the header', () => {
  const t = parseCsv('a,b\r\n\r\n1,2\r\n3,4\r\n', { file: 'x.csv' });
  assert.deepEqual(t.header, ['a', 'b']);
  assert.deepEqual(t.rows, [['1', '2'], ['3', '4']]);
  assert.deepEqual(t.lines, [3, 4]);
});
