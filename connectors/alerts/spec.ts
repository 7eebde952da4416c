/**
 * The alerts server's options, declared once: the CLI flags of `panoptes alerts`, their typed
 * values, validation with paths (`alerts.tickMs` in a config file, `--tick-ms` on the command
 * line) and the option table of README.md all come from here.
 */
import { defineSpec, f, HOSTPORT, type Options } from '../../pipelines/core/spec.ts';
import { DEFAULT_MAX_ALERTS } from './alertmanager-state.ts';

const URL_PATTERN = { re: /^https?:\/\/[^\s/?#]+(?:[/?#]\S*)?$/, says: 'http(s) URLs (e.g. http://127.0.0.1:9093)' };

export const alertsSpec = defineSpec(
  'alerts',
  {
    listen: f.string({ doc: 'host:port of the HTTP API: /v1/subscriptions, /v1/alerts/stream (SSE), /metrics, /healthz. Port 0 picks a free port.', default: '127.0.0.1:9095', pattern: HOSTPORT, placeholder: 'ADDR' }),
    alertmanager: f.list({ doc: 'Alertmanager base URLs (POST …/api/v2/alerts is appended). Repeat the option or separate URLs with commas for an HA set: every Alertmanager gets every alert, as Prometheus does. Empty: nothing is pushed.', default: [], pattern: URL_PATTERN, placeholder: 'URL' }),
    bearerTokenFile: f.string({ doc: 'Require `Authorization: Bearer <token>` on every route but /metrics and /healthz; the file holds the token (as `panoptes ingest`).', placeholder: 'FILE', nonEmpty: true }),
    basicAuthFile: f.string({ doc: 'Require HTTP basic auth on every route but /metrics and /healthz; the file holds one line `username:password`.', placeholder: 'FILE', nonEmpty: true }),
    webhookSecretFile: f.string({ doc: 'Master secret (at least 32 bytes) that seals webhook secrets on the subscription topic. Without it, webhook subscriptions are refused.', placeholder: 'FILE', nonEmpty: true }),
    webhookAllowPrivate: f.boolean({ doc: 'Allow webhooks to loopback, link-local, private, multicast and reserved addresses (refused by default, at creation and at each delivery).', default: false }),
    maxSubscriptions: f.int({ doc: 'Subscriptions this server holds; creating one more answers 429.', default: 1000, min: 1, max: 1_000_000 }),
    maxStreams: f.int({ doc: 'Open SSE streams (ad-hoc and subscription streams together); one more answers 503 with Retry-After.', default: 256, min: 1, max: 100_000 }),
    maxWebhookQueue: f.int({ doc: 'Matching alerts one webhook subscription holds in memory while its receiver is slow or down. When full it stops taking alerts and resumes from its position in the replay buffer; alerts evicted meanwhile are reported as a gap (dead-letter record, metric).', default: 10_000, min: 1, max: 10_000_000, advanced: true }),
    resendMs: f.int({ doc: 'Re-send interval of firing alerts to Alertmanager. Each push sets `endsAt` 4 intervals ahead, so Alertmanager resolves them by itself if Panoptes stops for good.', default: 60_000, min: 1 }),
    tickMs: f.int({ doc: 'How often new, changed and resolved alerts are pushed to Alertmanager; a failed push is retried on the next tick. At most --resend-ms.', default: 1000, min: 1 }),
    alertmanagerTimeoutMs: f.int({ doc: 'Timeout of one POST to Alertmanager.', default: 10_000, min: 1 }),
    maxAlertmanagerAlerts: f.int({ doc: 'Alerts (label sets) the Alertmanager pusher holds in memory, firing or resolved and not yet pushed. When full, an anomaly or incident that would start a new alert is refused and counted (panoptes_alerts_alertmanager_refused_total, one warning in the log); alerts already held keep updating and resolving, and a resolved alert makes room once pushed.', default: DEFAULT_MAX_ALERTS, min: 1, max: 10_000_000, advanced: true }),
    anomalyHoldMs: f.int({ doc: 'How long an anomaly alert keeps firing after its latest anomaly when no open incident holds it.', default: 15 * 60_000, min: 1 }),
    heartbeatMs: f.int({ doc: 'Interval of SSE heartbeat comments (`: heartbeat <ms>`), so proxies do not close idle streams.', default: 15_000, min: 1 }),
    bufferPerPartition: f.int({ doc: 'Alert events kept in memory per partition for SSE replay (Last-Event-ID) and for webhooks catching up.', default: 10_000, min: 1, flag: 'buffer' }),
    externalUrl: f.string({ doc: 'The URL users reach this server at (generatorURL of Alertmanager alerts). Default: http://ADDR.', pattern: { re: /^https?:\/\/\S+$/, says: 'an http(s) URL' }, placeholder: 'URL' }),
    maxBodyBytes: f.int({ doc: 'Largest subscription request body; a larger one answers 413.', default: 64 * 1024, min: 1024, max: 16 * 1024 * 1024, advanced: true }),
  },
  {
    summary: 'Alert subscriptions over HTTP: SSE streams, signed webhooks, and push to Alertmanager.',
    rules: (v) => (v.tickMs > v.resendMs ? [{ path: 'tickMs', message: `must not exceed resendMs (${v.resendMs})` }] : []),
  },
);

type Optional = 'bearerTokenFile' | 'basicAuthFile' | 'webhookSecretFile' | 'externalUrl';
/**
 * The typed options. (core/spec.ts's `Options` infers a string field without a default as `{}`,
 * a boolean defaulting to false as `false` and an empty list as `never[]`: those are restated.)
 */
export type AlertsOptions = Omit<Options<typeof alertsSpec.fields>, Optional | 'webhookAllowPrivate' | 'alertmanager'> & { [K in Optional]?: string } & { webhookAllowPrivate: boolean; alertmanager: string[] };
