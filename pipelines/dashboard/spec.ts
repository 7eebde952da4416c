/**
 * The dashboard's options, declared once: the CLI flags of `panoptes dashboard`, their typed
 * values, validation with paths and the option table of README.md come from here.
 */
import { defineSpec, f, HOSTPORT, type Options } from '../core/spec.ts';

export const dashboardSpec = defineSpec(
  'dashboard',
  {
    listen: f.string({ doc: 'host:port of the dashboard (page, JSON API, live feed, /metrics, /healthz). Port 0 picks a free port.', default: '127.0.0.1:8090', pattern: HOSTPORT, placeholder: 'ADDR' }),
    start: f.enum(['earliest', 'latest'] as const, { doc: 'Build the view from what the topics hold (earliest) or only from new records (latest).', default: 'earliest' }),
    bearerTokenFile: f.string({ doc: 'Require `Authorization: Bearer <token>` on every route but /metrics and /healthz; the file holds the token (as `panoptes ingest`). For API clients and proxies that add the header.', placeholder: 'FILE', nonEmpty: true }),
    basicAuthFile: f.string({ doc: 'Require HTTP basic auth on every route but /metrics and /healthz; the file holds one line `username:password`. Browsers ask for it and send it with the page, the API and the live feed.', placeholder: 'FILE', nonEmpty: true }),
    maxStreams: f.int({ doc: 'Open live-feed streams (/api/events) at most; one more answers 503 with Retry-After. The alerts stream (--alerts-stream) has the same cap of its own.', default: 100, min: 1, max: 100_000 }),
    alertsStream: f.boolean({ doc: 'Also serve the alerts connector\'s SSE stream (GET /v1/alerts/stream?match[]=...) on this port.', default: false }),
    demo: f.boolean({ doc: 'Also run a small pipeline in this process: the detector, incident correlator and RCA consumer over a synthetic shop whose database saturates every 3 min (synthetic inference results too); meant for the embedded transport.', default: false }),
    maxSeries: f.int({ doc: 'Series kept in memory (least recently updated dropped first).', default: 500, min: 1 }),
    pointsPerSeries: f.int({ doc: 'Recent samples kept per series.', default: 720, min: 10, flag: 'points' }),
    anomaliesPerSeries: f.int({ doc: 'Anomalies kept per series.', default: 200, min: 1 }),
    recentAnomalies: f.int({ doc: 'Length of the newest-anomalies list.', default: 200, min: 1 }),
    maxIncidents: f.int({ doc: 'Incidents kept (oldest update dropped first).', default: 200, min: 1 }),
    inferenceWindowMs: f.int({ doc: 'Sliding window of goodput and SLO attainment, ms.', default: 60_000, min: 1000 }),
    replayEvents: f.int({ doc: 'Live events kept for clients resuming with Last-Event-ID.', default: 2000, min: 0, advanced: true }),
    maxClientBufferBytes: f.int({ doc: 'Bytes buffered for a slow live client before it is dropped (it reconnects and resumes).', default: 4 << 20, min: 4096, flag: 'max-client-buffer', advanced: true }),
    heartbeatMs: f.int({ doc: 'Interval of SSE comments that keep idle connections open through proxies, ms.', default: 15_000, min: 100, advanced: true }),
  },
  { summary: 'Web dashboard: series with anomalies and explanations, rules, incidents with causal graphs and root causes, inference goodput; live over SSE' },
);

type Optional = 'bearerTokenFile' | 'basicAuthFile';
/**
 * The typed options. (core/spec.ts's `Options` infers a string field without a default as `{}` and
 * a boolean defaulting to false as `false`: those are restated.)
 */
export type DashboardOptions = Omit<Options<typeof dashboardSpec.fields>, Optional | 'alertsStream' | 'demo'> & { [K in Optional]?: string } & { alertsStream: boolean; demo: boolean };

/** The bounds of the in-memory view. */
export type ViewLimits = Pick<DashboardOptions, 'maxSeries' | 'pointsPerSeries' | 'anomaliesPerSeries' | 'recentAnomalies' | 'maxIncidents' | 'inferenceWindowMs'>;

/** Validates a partial set of options (a test, an embedding program) and fills the defaults; ConfigError names every problem. */
export function dashboardOptions(input: Partial<DashboardOptions> = {}): DashboardOptions {
  return dashboardSpec.parse(input) as DashboardOptions;
}
