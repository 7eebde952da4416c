/**
 * `panoptes alerts`: the alerts server (subscription API, SSE, webhooks, Alertmanager push) until
 * SIGINT/SIGTERM. Kafka, registry and topic prefix come from the common configuration.
 */
import type { CliCommand, CliOption, ParsedArgs } from '../../pipelines/core/cli-types.ts';
import { ALERTS_DEFAULTS, alertsOptions, type AlertsOptions } from './config.ts';

export const ALERTS_OPTIONS: CliOption[] = [
  { name: 'listen', type: 'string', placeholder: 'ADDR', default: ALERTS_DEFAULTS.listen, description: 'host:port of the HTTP API: /v1/subscriptions, /v1/alerts/stream (SSE), /metrics, /healthz.' },
  { name: 'alertmanager', type: 'string[]', placeholder: 'URL', description: 'Alertmanager base URL (POST …/api/v2/alerts); repeat or comma-separate for an HA set. Without it nothing is pushed.' },
  { name: 'resend-ms', type: 'number', default: ALERTS_DEFAULTS.resendMs, description: 'Re-send interval of firing alerts to Alertmanager (their endsAt is 4 intervals ahead).' },
  { name: 'tick-ms', type: 'number', default: ALERTS_DEFAULTS.tickMs, description: 'How often new, changed and resolved alerts are pushed to Alertmanager.' },
  { name: 'alertmanager-timeout-ms', type: 'number', default: ALERTS_DEFAULTS.alertmanagerTimeoutMs, description: 'Timeout of one POST to Alertmanager.' },
  { name: 'anomaly-hold-ms', type: 'number', default: ALERTS_DEFAULTS.anomalyHoldMs, description: 'An anomaly alert no open incident holds fires this long after its latest anomaly, then resolves.' },
  { name: 'heartbeat-ms', type: 'number', default: ALERTS_DEFAULTS.heartbeatMs, description: 'Interval of SSE heartbeat comments.' },
  { name: 'buffer', type: 'number', default: ALERTS_DEFAULTS.bufferPerPartition, description: 'Alert events kept per partition for SSE replay (Last-Event-ID).' },
  { name: 'external-url', type: 'string', placeholder: 'URL', description: 'URL users reach this server at (generatorURL of Alertmanager alerts). Default: http://ADDR.' },
];

export function alertsOptionsFromArgs(args: ParsedArgs): AlertsOptions {
  const o = args.options;
  const num = (k: string) => (o[k] === undefined ? undefined : (o[k] as number));
  return alertsOptions({
    listen: o.listen as string | undefined,
    alertmanager: (o.alertmanager as string[] | undefined) ?? [],
    resendMs: num('resend-ms'),
    tickMs: num('tick-ms'),
    alertmanagerTimeoutMs: num('alertmanager-timeout-ms'),
    anomalyHoldMs: num('anomaly-hold-ms'),
    heartbeatMs: num('heartbeat-ms'),
    bufferPerPartition: num('buffer'),
    externalUrl: o['external-url'] as string | undefined,
  });
}

export const commands: CliCommand[] = [
  {
    name: 'alerts',
    summary: 'Alert subscriptions over HTTP: SSE streams, signed webhooks, and push to Alertmanager.',
    usage: '--listen ADDR [--alertmanager URL] [options]',
    options: ALERTS_OPTIONS,
    requiresBroker: true,
    help: `Reads the anomalies, incidents and rca topics. Subscriptions (Prometheus selectors, severities,
kinds, optional webhook) are created with POST /v1/subscriptions and kept on the compacted
alert-subscriptions topic. GET /v1/alerts/stream?match[]={service="checkout"} streams as SSE and
resumes from Last-Event-ID. See connectors/alerts/README.md.
Example: panoptes alerts --listen 127.0.0.1:9095 --alertmanager http://127.0.0.1:19093   (infra/alertmanager/up.sh; 9093 is Kafka's controller here)`,
    async run(args, io) {
      // Options are validated before anything connects, so a bad one fails fast.
      const options = alertsOptionsFromArgs(args);
      const { loadConfig } = await import('../../pipelines/core/config.ts');
      const { createRuntime } = await import('../../pipelines/core/runtime.ts');
      const { untilAborted } = await import('../../pipelines/core/lifecycle.ts');
      const { AlertsServer } = await import('./server.ts');
      const rt = await createRuntime(loadConfig(), { stage: 'alerts' });
      const server = new AlertsServer(options, { transport: rt.transport, serde: rt.serde, prefix: rt.config.topicPrefix, registry: rt.metrics, log: rt.log });
      try {
        const url = await server.start();
        rt.log.info('alerts server listening', { url, alertmanager: options.alertmanager, subscriptions: server.store.list().length });
        io.out(io.json ? JSON.stringify({ url, alertmanager: options.alertmanager }) : `alerts listening on ${url} (alertmanager: ${options.alertmanager.join(', ') || 'off'})`);
        await untilAborted(io.signal);
        rt.log.info('alerts server stopping');
      } finally {
        await server.close();
        await rt.close();
      }
      return 0;
    },
  },
];
