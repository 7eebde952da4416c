/**
 * `timestamp,value` CSV series (NAB's format). Timestamps: `2014-04-01 00:00:00` (UTC), ISO 8601
 * (UTC unless it names a zone), epoch seconds or epoch milliseconds (numbers ≥ 1e11 are taken as
 * ms). Values: numbers; empty or `NaN` is a missing value (the detector skips it).
 */
import { InputError } from '../core/errors.ts';

export interface Series {
  t: number[];
  v: number[];
}

const naive = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$/;

export function parseTimestamp(s: string): number {
  const x = s.trim();
  if (x === '') return NaN;
  if (/^-?\d+(\.\d+)?$/.test(x)) {
    const n = Number(x);
    return Math.abs(n) >= 1e11 ? n : n * 1000;
  }
  const m = naive.exec(x);
  if (m) return Date.parse(`${m[1]}T${m[2]}Z`);
  if (/^\d{4}-\d{2}-\d{2}$/.test(x)) return Date.parse(`${x}T00:00:00Z`);
  return /^\d{4}-\d{2}-\d{2}T/.test(x) ? Date.parse(x) : NaN;
}

function splitLine(line: string): string[] {
  return line.split(',').map((f) => f.trim().replace(/^"(.*)"$/, '$1'));
}

export function parseSeriesCsv(text: string, file = 'input'): Series {
  const lines = text.split(/\r?\n/);
  const out: Series = { t: [], v: [] };
  let ti = 0;
  let vi = 1;
  let first = 0;
  while (first < lines.length && lines[first]!.trim() === '') first++;
  if (first >= lines.length) throw new InputError(`${file}: empty file (expected a 'timestamp,value' header and rows)`);
  const header = splitLine(lines[first]!).map((h) => h.toLowerCase());
  // A first line whose first field is no timestamp is a header, and must name the columns.
  if (header.includes('timestamp') || header.includes('value') || !Number.isFinite(parseTimestamp(header[0] ?? ''))) {
    ti = header.indexOf('timestamp');
    vi = header.indexOf('value');
    if (ti < 0 || vi < 0) throw new InputError(`${file}:${first + 1}: header must name 'timestamp' and 'value' columns, found '${lines[first]!.trim()}'`);
    first++;
  }
  for (let i = first; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const f = splitLine(line);
    const ts = f[ti];
    const vs = f[vi];
    if (ts === undefined || vs === undefined) throw new InputError(`${file}:${i + 1}: expected ${Math.max(ti, vi) + 1} fields, found ${f.length}: '${line.trim()}'`);
    const t = parseTimestamp(ts);
    if (!Number.isFinite(t)) throw new InputError(`${file}:${i + 1}: bad timestamp '${ts}' (expected 2014-04-01 00:00:00, ISO 8601 or epoch seconds/ms)`);
    let v: number;
    if (vs === '' || vs.toLowerCase() === 'nan') v = NaN;
    else {
      v = Number(vs);
      if (Number.isNaN(v)) throw new InputError(`${file}:${i + 1}: bad value '${vs}' (expected a number, empty or NaN)`);
    }
    out.t.push(t);
    out.v.push(v);
  }
  return out;
}
