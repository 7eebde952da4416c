/**
 * The in-memory shape of an evaluation series and the parser for `timestamp,value` CSV text.
 * Timestamps are epoch milliseconds (UTC); NAB writes them without a zone and means UTC.
 */
import { parseSeriesCsv as parseCoreSeriesCsv, parseTimestamp } from '../../core/csv.ts';

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

/** Parses a UTC timestamp (the one parser of pipelines/core/csv.ts); NaN when the text is not one. */
export function parseUtcTimestamp(text: string): number {
  return parseTimestamp(text);
}

/**
 * Parses `timestamp,value` CSV text with the project's one CSV reader (pipelines/core/csv.ts):
 * CRLF, a BOM and quoted fields are accepted; an empty value or `NaN` is a missing sample (NaN,
 * which detectors skip and never alarm on); errors name the file and the 1-based line. Rows keep
 * file order even when timestamps repeat or step back: NAB's own files do both (DST hours in
 * realAWSCloudwatch, a clock step in machine_temperature) and NAB scores by row position.
 */
export function parseSeriesCsv(text: string, name: string, file: string = name): Series {
  const { timestamps, values } = parseCoreSeriesCsv(text, file);
  return { name, timestamps, values };
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
