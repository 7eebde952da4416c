/**
 * The project's one CSV reader (over csv-parse), used by every command that reads CSV: `detect
 * --csv`, `eval`, `train`, `rca`. Rules, the same everywhere:
 * - a UTF-8 BOM, CRLF or LF line endings, quoted fields and blank lines are accepted;
 * - a row whose field count differs from the header's is an error naming `file:line`;
 * - in a series, an empty value or `NaN` is a missing sample (as a Prometheus staleness marker
 *   is); a value outside float64 (`1e309`) or any other text is an error naming `file:line`;
 * - rows keep file order, also when timestamps repeat or step back (NAB's own files do both, and
 *   NAB scores by row position).
 */
import { readFileSync, statSync } from 'node:fs';
import { CsvError, parse } from 'csv-parse/sync';
import { InputError } from './errors.ts';
import { isDateTime } from './time.ts';

export interface CsvTable {
  file: string;
  /** Column names as written (trimmed), or [] when `header: false`. */
  header: string[];
  rows: string[][];
  /** 1-based line number of each row, for messages. */
  lines: number[];
}

export interface CsvOptions {
  /** Name used in messages (a path, or `input`). */
  file?: string;
  /** First record is the header (default true). */
  header?: boolean;
  /** Stop after this many data rows (e.g. peeking at a header). */
  maxRows?: number;
}

function fail(file: string, line: number | undefined, what: string): InputError {
  return new InputError(line === undefined ? `${file}: ${what}` : `${file}:${line}: ${what}`, { details: { file, line } });
}

/** Parses CSV text into rows of trimmed strings; throws one InputError naming file:line. */
export function parseCsv(text: string, opts: CsvOptions = {}): CsvTable {
  const file = opts.file ?? 'input';
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      bom: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: false,
      relax_quotes: false,
      info: true,
      ...(opts.maxRows !== undefined ? { to: opts.maxRows + (opts.header === false ? 0 : 1) } : {}),
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (err) {
    if (err instanceof CsvError) {
      const line = (err as CsvError & { lines?: number }).lines;
      const what =
        err.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH'
          ? `expected as many fields as the first row, ${err.message.replace(/^.*?(got \d+).*$/s, '$1').replace(/^Invalid.*$/s, 'found another count')}`
          : err.message.replace(/^Invalid Record Length: /, '').replace(/ on line \d+$/, '');
      throw fail(file, line, what);
    }
    throw err;
  }
  const useHeader = opts.header !== false;
  if (useHeader && records.length === 0) throw fail(file, undefined, 'empty file (expected a header row and data rows)');
  const header = useHeader ? records[0]!.record : [];
  const data = useHeader ? records.slice(1) : records;
  return { file, header, rows: data.map((r) => r.record), lines: data.map((r) => r.info.lines) };
}

/** Reads a CSV file; a missing path or a folder is one clear InputError. */
export function readCsvFile(path: string, opts: Omit<CsvOptions, 'file'> & { what?: string } = {}): CsvTable {
  return parseCsv(readTextFile(path, opts.what ?? 'CSV file'), { ...opts, file: path });
}

export function readTextFile(path: string, what = 'file'): string {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new InputError(`${what} ${path} does not exist`);
  }
  if (st.isDirectory()) throw new InputError(`${what} ${path} is a folder, expected a file`);
  return readFileSync(path, 'utf8');
}

// YYYY-MM-DD[ T]HH:MM[:SS[.fff]] with an optional Z: NAB's and Prometheus exports' form (UTC).
const NAIVE = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?Z?$/;

/**
 * A timestamp in epoch milliseconds, or NaN when the text is none: `2014-04-01 00:00:00` (UTC),
 * ISO 8601 with a zone offset, epoch seconds, or epoch milliseconds (numbers ≥ 1e11 are ms).
 * Impossible dates (2014-02-31) and times outside JavaScript's Date range are NaN.
 */
export function parseTimestamp(text: string): number {
  const x = text.trim();
  if (x === '') return Number.NaN;
  let t: number;
  if (/^-?\d+(\.\d+)?$/.test(x)) {
    const n = Number(x);
    t = Math.abs(n) >= 1e11 ? n : n * 1000;
  } else {
    const m = NAIVE.exec(x);
    if (m) {
      const [, y, mo, d, h, mi, s, frac] = m;
      const month = Number(mo);
      const day = Number(d);
      const hour = Number(h ?? 0);
      const minute = Number(mi ?? 0);
      const second = Number(s ?? 0);
      if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return Number.NaN;
      t = Date.UTC(Number(y), month - 1, day, hour, minute, second, frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1000));
      // Date.UTC rolls 2014-02-31 over into March: refuse instead.
      if (new Date(t).getUTCDate() !== day) return Number.NaN;
    } else if (/^\d{4}-\d{2}-\d{2}T.+([+-]\d{2}:?\d{2})$/.test(x)) t = Date.parse(x);
    else return Number.NaN;
  }
  return isDateTime(t) ? t : Number.NaN;
}

/**
 * A numeric cell: a finite float64, or NaN for a missing value (empty, `NaN`, `nan`). Anything
 * else (text, `1e309`, `Infinity`) is null: the caller reports it with its line.
 */
export function parseNumberCell(text: string): number | null {
  const x = text.trim();
  if (x === '' || x.toLowerCase() === 'nan') return Number.NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(x)) return null;
  const v = Number(x);
  return Number.isFinite(v) ? v : null;
}

export interface SeriesColumns {
  timestamps: Float64Array;
  /** NaN marks a missing sample. */
  values: Float64Array;
}

/**
 * A `timestamp,value` series (NAB's format). The columns are found by name in the header (any
 * case, other columns ignored); a file whose first row holds a timestamp has no header and is read
 * as `timestamp,value`.
 */
export function parseSeriesCsv(text: string, file = 'input'): SeriesColumns {
  const t = parseCsv(text, { file, header: false });
  if (t.rows.length === 0) throw fail(file, undefined, "empty file (expected a 'timestamp,value' header and rows)");
  let ti = 0;
  let vi = 1;
  let first = 0;
  const head = t.rows[0]!.map((h) => h.toLowerCase());
  if (head.includes('timestamp') || head.includes('value') || Number.isNaN(parseTimestamp(head[0] ?? ''))) {
    ti = head.indexOf('timestamp');
    vi = head.indexOf('value');
    if (ti < 0 || vi < 0) throw fail(file, t.lines[0], `header must name 'timestamp' and 'value' columns, found '${t.rows[0]!.join(',')}'`);
    first = 1;
  } else if (head.length < 2) throw fail(file, t.lines[0], `expected 2 fields 'timestamp,value', found ${head.length}`);
  const n = t.rows.length - first;
  if (n === 0) throw fail(file, undefined, 'no data rows after the header');
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = t.rows[i + first]!;
    const line = t.lines[i + first];
    const ts = parseTimestamp(row[ti]!);
    if (Number.isNaN(ts)) throw fail(file, line, `bad timestamp '${row[ti]}' (expected 2014-04-01 00:00:00, ISO 8601 or epoch seconds/ms)`);
    const v = parseNumberCell(row[vi]!);
    if (v === null) throw fail(file, line, `bad value '${row[vi]}' (expected a finite number, or empty/NaN for a missing sample)`);
    timestamps[i] = ts;
    values[i] = v;
  }
  return { timestamps, values };
}
