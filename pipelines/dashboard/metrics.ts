/**
 * Prometheus metrics of the dashboard stage (besides the shared transport metrics). Get-or-create
 * on the registry: two dashboards in one process (tests, an embedding program) share the series.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export class DashboardMetrics {
  readonly applied: Counter<'topic'>;
  readonly decodeErrors: Counter<'topic'>;
  readonly sseClients: Gauge;
  readonly sseEvents: Counter<'type'>;
  readonly sseDropped: Counter;
  readonly sseRefused: Counter;
  readonly http: Histogram<'route' | 'status'>;
  readonly series: Gauge;
  readonly lastRecordAge: Gauge<'topic'>;

  constructor(registers: Registry) {
    const r = [registers];
    this.applied = once(registers, 'panoptes_dashboard_records_applied_total', () => new Counter({ name: 'panoptes_dashboard_records_applied_total', help: 'Records applied to the in-memory view, by topic.', labelNames: ['topic'], registers: r }));
    this.decodeErrors = once(registers, 'panoptes_dashboard_decode_errors_total', () => new Counter({ name: 'panoptes_dashboard_decode_errors_total', help: 'Records that did not decode and were skipped (the dashboard only reads).', labelNames: ['topic'], registers: r }));
    this.sseClients = once(registers, 'panoptes_dashboard_sse_clients', () => new Gauge({ name: 'panoptes_dashboard_sse_clients', help: 'Browsers connected to the live feed.', registers: r }));
    this.sseEvents = once(registers, 'panoptes_dashboard_sse_events_total', () => new Counter({ name: 'panoptes_dashboard_sse_events_total', help: 'Events written to live clients, by type.', labelNames: ['type'], registers: r }));
    this.sseDropped = once(registers, 'panoptes_dashboard_sse_dropped_clients_total', () => new Counter({ name: 'panoptes_dashboard_sse_dropped_clients_total', help: 'Live clients dropped because they read too slowly.', registers: r }));
    this.sseRefused = once(registers, 'panoptes_dashboard_sse_refused_total', () => new Counter({ name: 'panoptes_dashboard_sse_refused_total', help: 'Live clients refused (503) because --max-streams streams were open.', registers: r }));
    this.http = once(registers, 'panoptes_dashboard_http_request_seconds', () => new Histogram({ name: 'panoptes_dashboard_http_request_seconds', help: 'HTTP request handling time (the live feed counts until its headers).', labelNames: ['route', 'status'], buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1], registers: r }));
    this.series = once(registers, 'panoptes_dashboard_series', () => new Gauge({ name: 'panoptes_dashboard_series', help: 'Series held in the view.', registers: r }));
    this.lastRecordAge = once(registers, 'panoptes_dashboard_last_record_timestamp_seconds', () => new Gauge({ name: 'panoptes_dashboard_last_record_timestamp_seconds', help: 'Kafka timestamp of the newest record applied, by topic (time() minus it is how stale the view is).', labelNames: ['topic'], registers: r }));
  }
}
