/**
 * Prometheus metrics of the alerts connector. Webhook metrics carry the subscription id, so each
 * subscription's deliveries, retries, dead letters and latency can be watched on their own; the
 * series of a deleted subscription are removed with it. They never carry the target's host, port,
 * status code or error code (`/metrics` is open without auth: it must not report what a webhook
 * target answered, or it would be a port scanner's read-out).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export interface AlertsMetrics {
  events: Counter<'kind'>;
  decodeFailures: Counter<'topic'>;
  logLag: Gauge<'topic' | 'partition'>;
  sseClients: Gauge<string>;
  sseEvents: Counter<string>;
  httpRequests: Counter<'route' | 'code'>;
  webhookDeliveries: Counter<'subscription' | 'outcome'>;
  webhookAttempts: Counter<'subscription' | 'result'>;
  webhookLatency: Histogram<'subscription'>;
  webhookLag: Gauge<'subscription' | 'topic' | 'partition'>;
  webhookPauses: Counter<'subscription'>;
  webhookGaps: Counter<'subscription'>;
  subscriptions: Gauge<string>;
  refused: Counter<'reason'>;
  skipped: Counter<'part' | 'reason'>;
  amPushes: Counter<'result'>;
  amAlerts: Gauge<'state'>;
  amRefused: Counter<'kind'>;
  amPushLatency: Histogram<string>;
}

export function alertsMetrics(r: Registry): AlertsMetrics {
  const reg = [r];
  return {
    events: once(r, 'panoptes_alerts_events_total', () => new Counter({ name: 'panoptes_alerts_events_total', help: 'Alert events read from the anomalies, incidents and rca topics.', labelNames: ['kind'], registers: reg })),
    decodeFailures: once(r, 'panoptes_alerts_decode_failures_total', () => new Counter({ name: 'panoptes_alerts_decode_failures_total', help: 'Alert records that did not decode and were skipped.', labelNames: ['topic'], registers: reg })),
    logLag: once(r, 'panoptes_alerts_log_lag_records', () => new Gauge({ name: 'panoptes_alerts_log_lag_records', help: 'Records between the alert log reader and the partition end, at its last batch.', labelNames: ['topic', 'partition'], registers: reg })),
    sseClients: once(r, 'panoptes_alerts_sse_clients', () => new Gauge({ name: 'panoptes_alerts_sse_clients', help: 'Open SSE streams.', registers: reg })),
    sseEvents: once(r, 'panoptes_alerts_sse_events_total', () => new Counter({ name: 'panoptes_alerts_sse_events_total', help: 'Events written to SSE streams.', registers: reg })),
    httpRequests: once(r, 'panoptes_alerts_http_requests_total', () => new Counter({ name: 'panoptes_alerts_http_requests_total', help: 'HTTP API requests by route and status code.', labelNames: ['route', 'code'], registers: reg })),
    webhookDeliveries: once(r, 'panoptes_alerts_webhook_deliveries_total', () => new Counter({ name: 'panoptes_alerts_webhook_deliveries_total', help: 'Alerts a webhook subscription finished with: delivered, or dead_lettered after the last retry.', labelNames: ['subscription', 'outcome'], registers: reg })),
    webhookAttempts: once(r, 'panoptes_alerts_webhook_attempts_total', () => new Counter({ name: 'panoptes_alerts_webhook_attempts_total', help: 'Webhook HTTP attempts by result: ok (2xx) or failed (anything else; the reason is in the log, not here).', labelNames: ['subscription', 'result'], registers: reg })),
    webhookLatency: once(r, 'panoptes_alerts_webhook_delivery_seconds', () => new Histogram({ name: 'panoptes_alerts_webhook_delivery_seconds', help: 'Time from reading an alert to its delivery (retries included).', labelNames: ['subscription'], buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120], registers: reg })),
    webhookLag: once(r, 'panoptes_alerts_webhook_lag_records', () => new Gauge({ name: 'panoptes_alerts_webhook_lag_records', help: 'Records a webhook subscription has not finished yet, per partition, at its last batch.', labelNames: ['subscription', 'topic', 'partition'], registers: reg })),
    webhookPauses: once(r, 'panoptes_alerts_webhook_queue_full_total', () => new Counter({ name: 'panoptes_alerts_webhook_queue_full_total', help: 'Times a webhook subscription\'s queue was full and it stopped taking alerts until it drained.', labelNames: ['subscription'], registers: reg })),
    webhookGaps: once(r, 'panoptes_alerts_webhook_gaps_total', () => new Counter({ name: 'panoptes_alerts_webhook_gaps_total', help: 'Ranges of alerts a webhook subscription skipped because they left the replay buffer before it took them (each is a dead-letter record).', labelNames: ['subscription'], registers: reg })),
    subscriptions: once(r, 'panoptes_alerts_subscriptions', () => new Gauge({ name: 'panoptes_alerts_subscriptions', help: 'Subscriptions held (at most --max-subscriptions).', registers: reg })),
    refused: once(r, 'panoptes_alerts_refused_total', () => new Counter({ name: 'panoptes_alerts_refused_total', help: 'Requests refused by a cap: subscriptions (429) or streams (503).', labelNames: ['reason'], registers: reg })),
    skipped: once(r, 'panoptes_alerts_skipped_records_total', () => new Counter({ name: 'panoptes_alerts_skipped_records_total', help: 'Alert records a part of the server could not use and skipped (e.g. a time outside the date range for Alertmanager), by part and reason.', labelNames: ['part', 'reason'], registers: reg })),
    amPushes: once(r, 'panoptes_alerts_alertmanager_pushes_total', () => new Counter({ name: 'panoptes_alerts_alertmanager_pushes_total', help: 'POSTs to Alertmanager /api/v2/alerts by result (ok, error).', labelNames: ['result'], registers: reg })),
    amAlerts: once(r, 'panoptes_alerts_alertmanager_alerts', () => new Gauge({ name: 'panoptes_alerts_alertmanager_alerts', help: 'Alerts the pusher holds, by state (firing, resolved).', labelNames: ['state'], registers: reg })),
    amRefused: once(r, 'panoptes_alerts_alertmanager_refused_total', () => new Counter({ name: 'panoptes_alerts_alertmanager_refused_total', help: 'Anomaly and incident records refused by the Alertmanager pusher because its state was full (--max-alertmanager-alerts) and they would have started a new alert (label set).', labelNames: ['kind'], registers: reg })),
    amPushLatency: once(r, 'panoptes_alerts_alertmanager_push_seconds', () => new Histogram({ name: 'panoptes_alerts_alertmanager_push_seconds', help: 'Duration of a POST to Alertmanager.', buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: reg })),
  };
}

/** Drops a deleted subscription's series. */
export function forgetSubscription(m: AlertsMetrics, id: string, partitions: string[] = []): void {
  for (const key of partitions) {
    const i = key.lastIndexOf(':');
    m.webhookLag.remove({ subscription: id, topic: key.slice(0, i), partition: key.slice(i + 1) });
  }
  m.webhookDeliveries.remove({ subscription: id, outcome: 'delivered' });
  m.webhookDeliveries.remove({ subscription: id, outcome: 'dead_lettered' });
  for (const result of ['ok', 'failed']) m.webhookAttempts.remove({ subscription: id, result });
  m.webhookLatency.remove({ subscription: id });
  m.webhookPauses.remove({ subscription: id });
  m.webhookGaps.remove({ subscription: id });
}
