/**
 * `panoptes alerts`: the alerts server (subscription API, SSE, webhooks, Alertmanager push) until
 * SIGINT/SIGTERM. Options come from spec.ts; Kafka, registry and topic prefix from the common
 * configuration.
 */
import type { CliCommand, ReadmeSections } from '../../pipelines/core/cli-types.ts';
import { alertsSpec, type AlertsOptions } from './spec.ts';

export const commands: CliCommand[] = [
  {
    name: 'alerts',
    summary: alertsSpec.summary,
    usage: '--listen ADDR [--alertmanager URL] [--bearer-token-file FILE] [--webhook-secret-file FILE] [options]',
    options: alertsSpec.cliOptions(),
    requiresBroker: true,
    help: `Reads the anomalies, incidents and rca topics. Subscriptions (Prometheus selectors, severities,
kinds, optional webhook) are created with POST /v1/subscriptions and kept on the compacted
alert-subscriptions topic. GET /v1/alerts/stream?match[]={service="checkout"} streams as SSE and
resumes from Last-Event-ID. Regexes run on RE2 (linear time). Webhooks to internal addresses are
refused unless --webhook-allow-private. See connectors/alerts/README.md.
Example: panoptes alerts --listen 127.0.0.1:9095 --alertmanager http://127.0.0.1:19093 --bearer-token-file token --webhook-secret-file master.key`,
    async run(args, io) {
      // Options and their files are checked before anything connects, so a bad one fails fast (exit 2).
      const options = alertsSpec.fromArgs(args) as AlertsOptions;
      const { readAlertsSecrets, AlertsServer } = await import('./server.ts');
      readAlertsSecrets(options);
      const { loadConfig } = await import('../../pipelines/core/config.ts');
      const { createRuntime } = await import('../../pipelines/core/runtime.ts');
      const { untilAborted } = await import('../../pipelines/core/lifecycle.ts');
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

/** The README's option tables, generated from the spec by `npm run docs` (pipelines/core/docs.ts). */
export const readmeSections: ReadmeSections = { options: () => alertsSpec.markdown() };
