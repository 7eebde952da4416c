/**
 * Telemetry as the RCA stage consumes it: a table of series keyed by node id (`component:metric`),
 * aligned on timestamps, NaN where a series has no sample. The same shape serves the PetShop CSVs
 * and, later, windows rebuilt from the metrics topic.
 */
import { parseCsv as readCsv } from '../core/csv.ts';
import { InputError } from '../core/errors.ts';

export interface Frame {
  timestamps: number[];
  /** node id → values aligned with timestamps (NaN = missing). */
  series: Map<string, number[]>;
}

export function emptyFrame(): Frame {
  return { timestamps: [], series: new Map() };
}

export function sliceFrame(f: Frame, start: number, end: number): Frame {
  const series = new Map<string, number[]>();
  for (const [k, v] of f.series) series.set(k, v.slice(start, end));
  return { timestamps: f.timestamps.slice(start, end), series };
}

/** Rows of a CSV text, through the project's one CSV reader (core/csv.ts: BOM, CRLF, quotes, a row of another width is an error naming its line). */
export function parseCsv(text: string, file = 'input'): string[][] {
  return readCsv(text, { file, header: false }).rows;
}

function num(s: string | undefined): number {
  if (s === undefined || s.trim() === '') return NaN;
  const v = Number(s);
  return Number.isFinite(v) ? v : NaN;
}

/**
 * PetShop layout: three header rows (component, metric, statistic), a `unix_timestamp` row, then
 * one row per 5-minute step. Node ids become `component:metric` for the chosen statistic per
 * metric (`Average` unless told), so one frame carries latency, availability and requests.
 */
export function framesFromPetshopCsv(text: string, statistic: (metric: string) => string = (m) => (m === 'requests' ? 'Sum' : 'Average')): Frame {
  const rows = parseCsv(text).filter((r) => r.length > 1 || (r[0] ?? '') !== '');
  if (rows.length < 4) throw new InputError('metrics CSV: expected three header rows (component, metric, statistic) and data rows');
  const [comp, metric, stat] = rows as [string[], string[], string[]];
  if (!/^metric$/i.test(metric[0] ?? '') || !/^statistic$/i.test(stat[0] ?? '')) {
    throw new InputError(`metrics CSV: second and third header rows must start with "metric" and "statistic" (got "${metric[0]}", "${stat[0]}")`);
  }
  const cols: { col: number; id: string }[] = [];
  for (let c = 1; c < comp.length; c++) {
    const component = comp[c] ?? '';
    const m = metric[c] ?? '';
    if (!component || !m) continue;
    if (stat[c] !== statistic(m)) continue;
    cols.push({ col: c, id: `${component}:${m}` });
  }
  const series = new Map<string, number[]>(cols.map((c) => [c.id, []]));
  const timestamps: number[] = [];
  for (const r of rows.slice(3)) {
    const ts = num(r[0]);
    if (!Number.isFinite(ts)) continue;
    timestamps.push(ts * 1000);
    for (const c of cols) series.get(c.id)!.push(num(r[c.col]));
  }
  return { timestamps, series };
}

/**
 * Generic wide CSV: header `timestamp,<node id>,...`, one row per step (the `rca --data` input).
 * Falls back to the PetShop layout when the second row starts with `metric`.
 */
export function frameFromCsv(text: string): Frame {
  const rows = parseCsv(text).filter((r) => r.length > 1 || (r[0] ?? '') !== '');
  if (rows.length >= 2 && /^metric$/i.test(rows[1]![0] ?? '')) return framesFromPetshopCsv(text);
  if (rows.length < 2) throw new InputError('data CSV: expected a header row and at least one data row');
  const header = rows[0]!;
  const series = new Map<string, number[]>();
  for (const h of header.slice(1)) {
    if (!h) throw new InputError('data CSV: empty column name in the header');
    series.set(h, []);
  }
  const timestamps: number[] = [];
  rows.slice(1).forEach((r, i) => {
    const ts = num(r[0]);
    if (!Number.isFinite(ts)) throw new InputError(`data CSV row ${i + 2}: timestamp "${r[0]}" is not a number`);
    timestamps.push(ts);
    header.slice(1).forEach((h, j) => series.get(h)!.push(num(r[j + 1])));
  });
  return { timestamps, series };
}
