/**
 * Label files in NAB's formats, for any corpus:
 * - windows (`combined_windows.json`): `{ "<rel path>": [["<start ts>", "<end ts>"], ...] }`
 * - points (`combined_labels.json`): `{ "<rel path>": ["<anomaly ts>", ...] }`, turned into
 *   windows with NAB's labeler rule (window length = 10% of the file / number of anomalies,
 *   centred on each anomaly, overlapping windows merged).
 */
import { InputError } from '../../core/errors.ts';
import { parseUtcTimestamp } from './series.ts';
import type { IndexWindow, Series } from './series.ts';

export type LabelEntry =
  | { kind: 'windows'; windows: Array<{ start: number; end: number; text: [string, string] }> }
  | { kind: 'points'; points: Array<{ t: number; text: string }> };

export type LabelFile = Map<string, LabelEntry>;

/** NAB's labeler: windows cover 10% of the file in total. */
export const NAB_WINDOW_FRACTION = 0.1;

export function parseLabelFile(text: string, file: string): LabelFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const m = /position (\d+)/.exec(String((err as Error).message));
    const line = m ? text.slice(0, Number(m[1])).split('\n').length : undefined;
    throw new InputError(`${file}${line ? `:${line}` : ''}: not valid JSON (${(err as Error).message})`, {
      cause: err,
      details: { file, line },
    });
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new InputError(`${file}: expected an object mapping series paths to label lists`, { details: { file } });
  }
  const out: LabelFile = new Map();
  for (const [key, raw] of Object.entries(doc as Record<string, unknown>)) {
    const where = `${file}: "${key}"`;
    if (!Array.isArray(raw)) throw new InputError(`${where}: expected a list, got ${typeof raw}`, { details: { file, key } });
    if (raw.length === 0 || Array.isArray(raw[0])) {
      const windows = raw.map((w, i) => {
        if (!Array.isArray(w) || w.length !== 2 || typeof w[0] !== 'string' || typeof w[1] !== 'string') {
          throw new InputError(`${where}[${i}]: expected ["start timestamp", "end timestamp"]`, { details: { file, key, index: i } });
        }
        const start = parseUtcTimestamp(w[0]);
        const end = parseUtcTimestamp(w[1]);
        if (Number.isNaN(start) || Number.isNaN(end)) {
          throw new InputError(`${where}[${i}]: bad timestamp in ${JSON.stringify(w)}`, { details: { file, key, index: i } });
        }
        if (end < start) throw new InputError(`${where}[${i}]: window ends before it starts`, { details: { file, key, index: i } });
        return { start, end, text: [w[0], w[1]] as [string, string] };
      });
      out.set(key, { kind: 'windows', windows });
    } else {
      const points = raw.map((p, i) => {
        const t = typeof p === 'string' ? parseUtcTimestamp(p) : Number.NaN;
        if (Number.isNaN(t)) throw new InputError(`${where}[${i}]: expected a timestamp string, got ${JSON.stringify(p)}`, { details: { file, key, index: i } });
        return { t, text: p as string };
      });
      out.set(key, { kind: 'points', points });
    }
  }
  return out;
}

/** First row (from `from`) whose timestamp is >= t, scanning in file order; length if none. */
function firstAtOrAfter(ts: Float64Array, t: number, from = 0): number {
  let i = from;
  while (i < ts.length && ts[i]! < t) i++;
  return i;
}

/**
 * The entry's windows as contiguous row ranges, found as NAB's sweeper does: a window opens at the
 * first row whose timestamp reaches its start and closes at the first later row that reaches its
 * end (that row included when it equals the end). Scanning in file order keeps this exact on
 * files whose timestamps repeat. Overlapping windows are merged.
 */
export function resolveWindows(series: Series, entry: LabelEntry, labelFile: string): IndexWindow[] {
  const ts = series.timestamps;
  const n = ts.length;
  let ranges: IndexWindow[];
  if (entry.kind === 'windows') {
    ranges = entry.windows.map((w, i) => {
      const start = firstAtOrAfter(ts, w.start);
      const j = firstAtOrAfter(ts, w.end, start);
      const end = j < n && ts[j] === w.end ? j : j - 1;
      if (start > end) {
        throw new InputError(
          `${labelFile}: "${series.name}"[${i}]: window ${w.text[0]} .. ${w.text[1]} contains no point of the series`,
          { details: { file: labelFile, key: series.name, index: i } },
        );
      }
      return { start, end };
    });
  } else {
    if (entry.points.length === 0) return [];
    const half = Math.floor(Math.floor((NAB_WINDOW_FRACTION * n) / entry.points.length) / 2);
    ranges = entry.points.map((p, i) => {
      const a = ts.indexOf(p.t);
      if (a < 0) {
        throw new InputError(`${labelFile}: "${series.name}"[${i}]: anomaly ${p.text} is not a timestamp of the series`, {
          details: { file: labelFile, key: series.name, index: i },
        });
      }
      return { start: Math.max(0, a - half), end: Math.min(n - 1, a + half) };
    });
  }
  ranges.sort((a, b) => a.start - b.start);
  const merged: IndexWindow[] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else merged.push({ ...r });
  }
  return merged;
}
