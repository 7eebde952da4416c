/**
 * `panoptes run --config pipeline.yaml`: the stages a pipeline file names, in one process, on one
 * runtime (spec.ts: the file; index.ts: the stages). The file is checked as a whole before
 * anything connects; SIGINT/SIGTERM stops every stage (ingest first) and exits 0; a stage that
 * fails to start stops the others and exits 1 with one line naming it.
 */
import { checkTransport, TRANSPORT_OPTION } from '../core/cli.ts';
import type { CliCommand } from '../core/cli-types.ts';
import { describeError, UsageError } from '../core/errors.ts';

const run: CliCommand = {
  name: 'run',
  summary: 'Run the stages a pipeline file names (ingest, detect, incidents, rca, alerts, serve, dashboard) in one process',
  usage: '--config FILE [--instance NAME]',
  options: [
    { name: 'instance', type: 'string', placeholder: 'NAME', description: "Instance name of every stage whose options name none (its transactional id's suffix, so a restarted copy fences its former self). Default: the host name; give each copy on one machine its own." },
    // The broker check of server commands (CliCommand.requiresBroker), made here after the whole
    // file is checked, so a bad file reports every problem, not only its connection settings.
    TRANSPORT_OPTION,
  ],
  help: `The file is a config file (brokers, registryUrl, topicPrefix, …) plus a stages: map; each stage's
options are those of its own command (stages.detect: panoptes detect's, stages.incidents:
incidents run's, …), by their config names. Every problem of the file is reported with its path
before anything starts. Copies of the same command on other machines share the work: each
consumer stage joins its group (ids from the file or the defaults). See pipelines/run/README.md.
Example: panoptes run --config pipelines/run/pipeline.example.yaml`,
  async run(args, io) {
    const file = process.env.PANOPTES_CONFIG;
    if (!file) throw new UsageError('run needs a pipeline file: --config FILE (or PANOPTES_CONFIG); see pipelines/run/pipeline.example.yaml');
    const instance = typeof args.options.instance === 'string' && args.options.instance !== '' ? args.options.instance : undefined;
    const [{ loadPipeline, startPipeline, StageStartError }, { createRuntime }, { untilAborted }] = await Promise.all([
      import('./index.ts'),
      import('../core/runtime.ts'),
      import('../core/lifecycle.ts'),
    ]);
    const withBroker = { ...run, requiresBroker: true };
    if (args.options[TRANSPORT_OPTION.name] !== undefined) checkTransport(withBroker, args);
    const pipeline = loadPipeline(file);
    checkTransport(withBroker, args);
    const rt = await createRuntime(pipeline.config, { stage: 'run' });
    try {
      let running: Awaited<ReturnType<typeof startPipeline>> | null = null;
      const metrics = await rt.serveMetrics(() => running?.health() ?? { ok: true, detail: { ready: false } });
      if (metrics) io.err(`metrics: ${metrics.url}/metrics (/healthz, /readyz: every stage)`);
      try {
        running = await startPipeline(pipeline, { rt, ...(instance !== undefined ? { instance } : {}), warn: io.err });
      } catch (err) {
        if (!(err instanceof StageStartError)) throw err;
        io.err(`panoptes run: ${err.message.replace(/\s*\n\s*/g, ' ')}`);
        return 1;
      }
      for (const h of running.stages.slice().reverse()) io.err(`${h.name}: ${h.description}`);
      const summary = { transport: rt.config.transport, topicPrefix: rt.config.topicPrefix, stages: running.stages.slice().reverse().map((h) => h.name) };
      if (io.json) io.out(JSON.stringify(summary));
      else io.err(`pipeline running on ${summary.transport}${summary.topicPrefix ? ` (prefix ${summary.topicPrefix})` : ''}: ${summary.stages.join(', ')}; Ctrl-C stops it`);
      const failed = await Promise.race([untilAborted(io.signal).then(() => null), running.failed]);
      await running.close();
      if (failed) {
        io.err(`panoptes run: stage ${failed.stage} stopped on an error: ${describeError(failed.error)}; the other stages were stopped`);
        return 1;
      }
      return 0;
    } finally {
      await rt.close();
    }
  },
};

export const commands: CliCommand[] = [run];
