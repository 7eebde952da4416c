/**
 * The dashboard's options: one declaration (name, default, bound, doc) from which the CLI options,
 * their help and the validation come. Validation reports every problem at once.
 */
import type { CliOption } from '../core/cli-types.ts';
import { ConfigError, type ConfigIssue } from '../core/errors.ts';
import { parseListen } from '../core/config.ts';

export interface ViewLimits {
  /** Series kept (least recently updated dropped first). */
  maxSeries: number;
  /** Samples kept per series. */
  pointsPerSeries: number;
  /** Anomalies kept per series. */
  anomaliesPerSeries: number;
  /** Length of the newest-anomalies list. */
  recentAnomalies: number;
  maxIncidents: number;
  /** Sliding window of the goodput and SLO attainment figures. */
  inferenceWindowMs: number;
}

export interface DashboardOptions extends ViewLimits {
  listen: string;
  /** `earliest` rebuilds the view from what the topics still hold; `latest` shows only new records. */
  start: 'earliest' | 'latest';
  /** Events kept for SSE clients that reconnect with Last-Event-ID. */
  replayEvents: number;
  /** A client whose socket buffer grows past this is dropped (it reconnects and resumes). */
  maxClientBufferBytes: number;
  heartbeatMs: number;
}

interface NumSpec {
  key: Exclude<keyof DashboardOptions, 'listen' | 'start'>;
  flag: string;
  min: number;
  def: number;
  doc: string;
}

const NUMBERS: NumSpec[] = [
  { key: 'maxSeries', flag: 'max-series', min: 1, def: 500, doc: 'Series kept in memory (least recently updated dropped first)' },
  { key: 'pointsPerSeries', flag: 'points', min: 10, def: 720, doc: 'Recent samples kept per series' },
  { key: 'anomaliesPerSeries', flag: 'anomalies-per-series', min: 1, def: 200, doc: 'Anomalies kept per series' },
  { key: 'recentAnomalies', flag: 'recent-anomalies', min: 1, def: 200, doc: 'Length of the newest-anomalies list' },
  { key: 'maxIncidents', flag: 'max-incidents', min: 1, def: 200, doc: 'Incidents kept (oldest update dropped first)' },
  { key: 'inferenceWindowMs', flag: 'inference-window-ms', min: 1000, def: 60_000, doc: 'Sliding window of goodput and SLO attainment' },
  { key: 'replayEvents', flag: 'replay-events', min: 0, def: 2000, doc: 'Live events kept for clients resuming with Last-Event-ID' },
  { key: 'maxClientBufferBytes', flag: 'max-client-buffer', min: 4096, def: 4 << 20, doc: 'Bytes buffered for a slow live client before it is dropped (it reconnects)' },
  { key: 'heartbeatMs', flag: 'heartbeat-ms', min: 100, def: 15_000, doc: 'Interval of SSE comments that keep idle connections open through proxies' },
];

export const DEFAULT_LISTEN = '127.0.0.1:8090';

export const dashboardCliOptions: CliOption[] = [
  { name: 'listen', type: 'string', placeholder: 'ADDR', description: 'host:port of the dashboard (page, JSON API, live feed, /metrics, /healthz)', default: DEFAULT_LISTEN },
  { name: 'start', type: 'string', placeholder: 'earliest|latest', description: 'Build the view from what the topics hold (earliest) or only from new records (latest)', default: 'earliest' },
  ...NUMBERS.map((n): CliOption => ({ name: n.flag, type: 'number', description: n.doc, default: n.def })),
];

/** Validates a partial set of options (from the CLI or a test) and fills the defaults. */
export function dashboardOptions(input: Partial<DashboardOptions> = {}): DashboardOptions {
  const issues: ConfigIssue[] = [];
  const out: Record<string, unknown> = {};
  const listen = input.listen ?? DEFAULT_LISTEN;
  try {
    parseListen(listen, 'listen');
  } catch (err) {
    if (err instanceof ConfigError) issues.push(...err.issues);
    else throw err;
  }
  const start = input.start ?? 'earliest';
  if (start !== 'earliest' && start !== 'latest') issues.push({ path: 'start', message: `expected earliest or latest, got ${JSON.stringify(start)}` });
  for (const n of NUMBERS) {
    const v = input[n.key] ?? n.def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < n.min) issues.push({ path: n.flag, message: `expected an integer >= ${n.min}, got ${JSON.stringify(v)}` });
    out[n.key] = v;
  }
  if (issues.length) throw new ConfigError(issues);
  return { ...(out as Omit<DashboardOptions, 'listen' | 'start'>), listen, start };
}

/** Options from parsed CLI values (flag names → option keys). */
export function optionsFromArgs(values: Record<string, unknown>): DashboardOptions {
  const input: Record<string, unknown> = {};
  if (values.listen !== undefined) input.listen = values.listen;
  if (values.start !== undefined) input.start = values.start;
  for (const n of NUMBERS) if (values[n.flag] !== undefined) input[n.key] = values[n.flag];
  return dashboardOptions(input as Partial<DashboardOptions>);
}
