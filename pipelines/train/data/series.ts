/**
 * The in-memory shape of an evaluation series and the parser for `timestamp,value` CSV text.
 * Timestamps are epoch milliseconds (UTC); NAB writes them without a zone and means UTC.
 */
import { InputError } from '../../core/errors.ts';

export interface Series {
  /** Path relative to the data folder, with `/` separators: the key used by label files. */
  name: string;
  timestamps: Float64Array;
  values: Float64Array;
}

/** Inclusive index range of one labelled anomaly window inside a series. */
export interface IndexWindow {
  start: number;
  end: number;
}

export interface LabelledSeries extends Series {
  /** Sorted, non-overlapping windows. */
  windows: IndexWindow[];
}

// YYYY-MM-DD HH:MM[:SS[.ffffff]] with ' ' or 'T', optional trailing Z: the forms NAB and
// Prometheus exports use. Anything with another zone is refused rather than silently shifted.
const TS_RE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?Z?$/;

/** Parses a UTC timestamp; returns NaN when the text is not one. */
export function parseUtcTimestamp(text: string): number {
  const m = TS_RE.exec(text.trim());
  if (!m) return Number.NaN;
  const [, y, mo, d, h, mi, s, frac] = m;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return Number.NaN;
  const ms = frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1000);
  const t = Date.UTC(Number(y), month - 1, day, hour, minute, second, ms);
  // Date.UTC rolls 2014-02-31 over into March: reject instead.
  if (new Date(t).getUTCDate() !== day) return Number.NaN;
  return t;
}

/**
 * Parses CSV text with a `timestamp,value` header. Errors name the file and the 1-based line.
 * Rows keep file order even when timestamps repeat or step back: NAB's own files do both (DST
 * hours in realAWSCloudwatch, a clock step in machine_temperature) and NAB scores by row position.
 */
export function parseSeriesCsv(text: string, name: string, file: string = name): Series {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').replace(/^\uFEFF/, '').trim().toLowerCase();
  const cols = header.split(',').map((c) => c.trim());
  if (cols.length !== 2 || cols[0] !== 'timestamp' || cols[1] !== 'value') {
    throw new InputError(`${file}:1: expected header "timestamp,value", got "${lines[0] ?? ''}"`, {
      details: { file, line: 1 },
    });
  }
  const ts: number[] = [];
  const vs: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') {
      // Blank lines are only tolerated at the end of the file.
      if (lines.slice(i + 1).every((l) => l.trim() === '')) break;
      throw bad(file, i + 1, 'empty line in the middle of the data');
    }
    const comma = line.indexOf(',');
    if (comma < 0 || line.indexOf(',', comma + 1) >= 0) throw bad(file, i + 1, `expected 2 fields "timestamp,value", got "${line}"`);
    const t = parseUtcTimestamp(line.slice(0, comma));
    if (Number.isNaN(t)) throw bad(file, i + 1, `bad timestamp "${line.slice(0, comma)}" (expected YYYY-MM-DD HH:MM:SS, UTC)`);
    const vText = line.slice(comma + 1).trim();
    const v = vText === '' ? Number.NaN : Number(vText);
    if (!Number.isFinite(v)) throw bad(file, i + 1, `bad value "${vText}" (expected a finite number)`);
    ts.push(t);
    vs.push(v);
  }
  if (ts.length === 0) throw new InputError(`${file}: no data rows after the header`, { details: { file } });
  return { name, timestamps: Float64Array.from(ts), values: Float64Array.from(vs) };
}

function bad(file: string, line: number, what: string): InputError {
  return new InputError(`${file}:${line}: ${what}`, { details: { file, line } });
}

/** Point labels (1 inside a window, 0 outside) for a series of `length` points. */
export function windowsToPointLabels(windows: readonly IndexWindow[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (const w of windows) out.fill(1, Math.max(0, w.start), Math.min(length, w.end + 1));
  return out;
}

/** Maximal runs of 1s in a 0/1 array, as inclusive index windows. */
export function labelSegments(labels: ArrayLike<number>): IndexWindow[] {
  const out: IndexWindow[] = [];
  let start = -1;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      out.push({ start, end: i - 1 });
      start = -1;
    }
  }
  if (start >= 0) out.push({ start, end: labels.length - 1 });
  return out;
}
