/**
 * `panoptes dashboard --listen ADDR`: the web dashboard over the pipeline's topics, until
 * SIGINT/SIGTERM. Options come from spec.ts. On the embedded transport the topics live in this
 * process, so `--demo` feeds them with a small pipeline (see cli-demo.ts) to have something to
 * look at.
 */
import type { CliCommand, ReadmeSections } from '../core/cli-types.ts';
import { loadConfig } from '../core/config.ts';
import { UsageError } from '../core/errors.ts';
import { untilAborted } from '../core/lifecycle.ts';
import { dashboardSpec, type DashboardOptions } from './spec.ts';

const dashboard: CliCommand = {
  name: 'dashboard',
  summary: dashboardSpec.summary,
  usage: '[--listen ADDR] [--start earliest|latest] [--basic-auth-file FILE] [--alerts-stream] [--demo]',
  options: dashboardSpec.cliOptions(),
  help: [
    'Open the printed URL in a browser. Everything the page needs is served by this process (no CDN).',
    'JSON API under /api (summary, series, anomalies, rules, incidents, graphs, inference), live feed at /api/events,',
    'Prometheus metrics at /metrics, health at /healthz. The view is bounded (see the limits below) and rebuilt',
    'from the topics on start. With --basic-auth-file the browser asks for the user and password once.',
    'Examples:',
    '  PANOPTES_BROKERS=127.0.0.1:9092 panoptes dashboard --listen 127.0.0.1:8090',
    '  panoptes dashboard --demo          (embedded transport, no broker)',
  ].join('\n'),
  async run(args, io) {
    // Options and their files are checked before anything connects (exit 2 on a bad one).
    const opts = dashboardSpec.fromArgs(args) as DashboardOptions;
    const { startDashboard, dashboardAuth } = await import('./index.ts');
    dashboardAuth(opts);
    const { createRuntime } = await import('../core/runtime.ts');
    const config = loadConfig();
    // The demo writes synthetic records: never into a real cluster's unprefixed topics.
    if (opts.demo && config.transport === 'kafka' && !config.topicPrefix) {
      throw new UsageError('--demo writes synthetic records to the topics: on Kafka it needs a topic prefix of its own (PANOPTES_TOPIC_PREFIX=demo.)');
    }
    const rt = await createRuntime(config, { stage: 'dashboard' });
    let demo: { stop(): Promise<void> } | null = null;
    let alerts: { stop(): Promise<void>; register: NonNullable<Parameters<typeof startDashboard>[2]> } | null = null;
    try {
      if (opts.alertsStream) {
        const { startAlertsStream } = await import('../../connectors/alerts/index.ts');
        alerts = await startAlertsStream({ transport: rt.transport, serde: rt.serde, prefix: rt.config.topicPrefix, registry: rt.metrics, log: rt.log.child({ stage: 'dashboard', part: 'alerts-stream' }) }, { heartbeatMs: opts.heartbeatMs, maxStreams: opts.maxStreams });
      }
      const d = await startDashboard(rt, opts, alerts?.register);
      if (opts.demo) {
        const { startDemo } = await import('./cli-demo.ts');
        demo = await startDemo(rt, { signal: io.signal, log: (l) => io.err(l) });
      }
      io.err(`dashboard on ${d.url} (${rt.config.transport} transport${rt.config.topicPrefix ? `, prefix ${rt.config.topicPrefix}` : ''}); Ctrl-C stops it`);
      if (io.json) io.out(JSON.stringify({ url: d.url }));
      const failed = await Promise.race([untilAborted(io.signal).then(() => null), d.failed]);
      await demo?.stop();
      await d.stop();
      await alerts?.stop();
      alerts = null;
      if (failed) {
        io.err(`dashboard: reading the topics failed: ${(failed as Error).message ?? String(failed)}`);
        return 1;
      }
      return 0;
    } finally {
      await alerts?.stop().catch(() => undefined);
      await rt.close();
    }
  },
};

export const commands: CliCommand[] = [dashboard];

/** The README's option tables, generated from the spec by `npm run docs` (pipelines/core/docs.ts). */
export const readmeSections: ReadmeSections = { options: () => dashboardSpec.markdown() };
