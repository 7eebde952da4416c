/**
 * `panoptes dashboard --listen ADDR`: the web dashboard over the pipeline's topics, until
 * SIGINT/SIGTERM. On the embedded transport the topics live in this process, so `--demo` feeds
 * them with a small pipeline (see demo.ts) to have something to look at.
 */
import type { CliCommand } from '../core/cli-types.ts';
import { loadConfig } from '../core/config.ts';
import { UsageError } from '../core/errors.ts';
import { untilAborted } from '../core/lifecycle.ts';
import { dashboardCliOptions, optionsFromArgs } from './options.ts';

const dashboard: CliCommand = {
  name: 'dashboard',
  summary: 'Web dashboard: series with anomalies and explanations, rules, incidents with causal graphs and root causes, inference goodput; live over SSE',
  usage: '[--listen ADDR] [--start earliest|latest] [--alerts-stream] [--demo]',
  options: [
    ...dashboardCliOptions,
    { name: 'alerts-stream', type: 'boolean', description: 'Also serve the alerts connector\'s SSE stream (GET /v1/alerts/stream?match[]=...) on this port' },
    { name: 'demo', type: 'boolean', description: 'Also run a small pipeline in this process: the detector, incident correlator and RCA consumer over a synthetic shop whose database saturates every 3 min (synthetic inference results too); meant for the embedded transport' },
  ],
  help: [
    'Open the printed URL in a browser. Everything the page needs is served by this process (no CDN).',
    'JSON API under /api (summary, series, anomalies, rules, incidents, graphs, inference), live feed at /api/events,',
    'Prometheus metrics at /metrics, health at /healthz. The view is bounded (see the limits below) and rebuilt',
    'from the topics on start.',
    'Examples:',
    '  PANOPTES_BROKERS=127.0.0.1:9092 panoptes dashboard --listen 127.0.0.1:8090',
    '  panoptes dashboard --demo          (embedded transport, no broker)',
  ].join('\n'),
  async run(args, io) {
    const opts = optionsFromArgs(args.options);
    const { createRuntime } = await import('../core/runtime.ts');
    const { startDashboard } = await import('./index.ts');
    const config = loadConfig();
    // The demo writes synthetic records: never into a real cluster's unprefixed topics.
    if (args.options.demo === true && config.transport === 'kafka' && !config.topicPrefix) {
      throw new UsageError('--demo writes synthetic records to the topics: on Kafka it needs a topic prefix of its own (PANOPTES_TOPIC_PREFIX=demo.)');
    }
    const rt = await createRuntime(config, { stage: 'dashboard' });
    let demo: { stop(): Promise<void> } | null = null;
    let alerts: { stop(): Promise<void>; route: Parameters<typeof startDashboard>[2] } | null = null;
    try {
      if (args.options['alerts-stream'] === true) {
        const { mountAlertsStream } = await import('./alerts-mount.ts');
        alerts = await mountAlertsStream(rt);
      }
      const d = await startDashboard(rt, opts, alerts?.route);
      if (args.options.demo === true) {
        const { startDemo } = await import('./demo.ts');
        demo = await startDemo(rt, { signal: io.signal, log: (l) => io.err(l) });
      }
      io.err(`dashboard on ${d.url} (${rt.config.transport} transport${rt.config.topicPrefix ? `, prefix ${rt.config.topicPrefix}` : ''}); Ctrl-C stops it`);
      if (io.json) io.out(JSON.stringify({ url: d.url }));
      const failed = await Promise.race([untilAborted(io.signal).then(() => null), d.failed]);
      await demo?.stop();
      await d.stop();
      await alerts?.stop();
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
