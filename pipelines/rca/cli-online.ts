/**
 * Commands of the RCA stage that talk to the pipeline: `rca run` (the online consumer) and
 * `graph publish` (a validated graph onto `causal-graphs`). Listed through rca/cli.ts; the
 * runtime and the consumer load lazily, so `panoptes --help` stays fast.
 */
import type { CliCommand, CliIo, ParsedArgs } from '../core/cli-types.ts';
import { InputError, UsageError } from '../core/errors.ts';
import type { RcaResult } from '../core/records.ts';
import { rcaRunSpec } from './spec.ts';

function str(args: ParsedArgs, name: string): string | undefined {
  const v = args.options[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw new UsageError(`--${name}: expected a value`);
  return v;
}

export function formatRca(r: RcaResult): string {
  const top = r.causes.slice(0, 3).map((c) => `${c.node} (${c.score.toFixed(2)}; ${c.path.join(' → ')})`);
  return `${r.incidentId} [${r.method}${r.graphVersion ? ` @${r.graphVersion}` : ', no graph'}] ${top.length ? top.join(' | ') : 'no cause'}${r.note ? ` — ${r.note}` : ''}`;
}

const run: CliCommand = {
  name: 'rca run',
  requiresBroker: true,
  summary: 'Run the online RCA consumer: incidents + metric windows + causal-graphs → rca',
  usage: '[--method hybrid|attribution|traversal|random-walk] [--graph FILE] [options below]',
  options: rcaRunSpec.cliOptions(),
  help: 'Runs until SIGINT/SIGTERM. Serves /metrics when metricsListen is configured. With --json prints each rca record.\nExample: panoptes rca run --method attribution --graph graph.json',
  async run(args: ParsedArgs, io: CliIo): Promise<number> {
    // Checked before connecting: bad values are usage errors naming the flag.
    const o = rcaRunSpec.fromArgs(args);
    const [{ loadConfig }, { createRuntime }, { untilAborted }, { startRcaFromSpec }, { readFallbackGraph }] = await Promise.all([
      import('../core/config.ts'),
      import('../core/runtime.ts'),
      import('../core/lifecycle.ts'),
      import('./consumer.ts'),
      import('./io.ts'),
    ]);
    const fallbackGraph = typeof o.graph === 'string' ? readFallbackGraph(o.graph) : undefined;
    const method = o.method;
    const rt = await createRuntime(loadConfig(), { stage: 'rca' });
    try {
      let running: { health(): { ok: boolean; detail: Record<string, unknown> } } | undefined;
      await rt.serveMetrics(() => running?.health() ?? { ok: true, detail: { stage: 'rca', ready: false } });
      const group = o.groupId;
      const c = (running = await startRcaFromSpec(rt, o, {
        ...(fallbackGraph ? { fallbackGraph } : {}),
        onOutput: (r) => io.out(io.json ? JSON.stringify(r) : formatRca(r)),
      }));
      io.err(`rca consumer running on ${rt.config.transport} (group ${group}, method ${method}, graph ${c.graph()?.version ?? 'none yet'}); Ctrl-C stops it`);
      const failed = await Promise.race([untilAborted(io.signal).then(() => null), c.failed]);
      await c.stop();
      if (failed !== null) {
        io.err(`rca consumer stopped on an error: ${(failed as Error)?.message ?? String(failed)}`);
        return 1;
      }
      return 0;
    } finally {
      await rt.close();
    }
  },
};

const publish: CliCommand = {
  name: 'graph publish',
  summary: 'Validate a causal graph file and put it on the compacted causal-graphs topic',
  usage: '--graph FILE [--name NAME]',
  options: [
    { name: 'graph', type: 'string', description: 'Causal graph JSON (as graph synthesize writes it)', required: true, placeholder: 'FILE' },
    { name: 'name', type: 'string', description: 'Graph name, the record key (default: the file\'s name field)', placeholder: 'NAME' },
  ],
  help: 'A graph the consumers would reject (malformed, unknown or dangling nodes, size limits) is not published; the reason is printed. Cycles are broken as the consumers would, and the repairs listed.\nExample: panoptes graph publish --graph graph.json --name lab',
  async run(args, io) {
    const file = str(args, 'graph');
    if (!file) throw new UsageError('--graph is required');
    const [{ loadConfig }, { createRuntime }, { readText }, { publishGraph }, { GraphStore }] = await Promise.all([
      import('../core/config.ts'),
      import('../core/runtime.ts'),
      import('./io.ts'),
      import('./publish.ts'),
      import('../graph/index.ts'),
    ]);
    const text = readText(file, 'graph file');
    // Checked before connecting: a bad file fails the same way with or without a broker.
    const checked = new GraphStore().propose(text);
    if (checked.status === 'rejected') throw new InputError(`graph ${file} rejected, nothing published: ${checked.reason}`);
    const rt = await createRuntime(loadConfig(), { stage: 'graph' });
    try {
      const p = await publishGraph(rt, text, { name: str(args, 'name'), source: 'file' });
      for (const r of p.repairs) io.err(`repair: ${r}`);
      io.out(io.json ? JSON.stringify(p) : `published graph ${p.name}@${p.version} (${p.nodes} nodes, ${p.edges} edges) on ${p.topic}`);
      return 0;
    } finally {
      await rt.close();
    }
  },
};

export const onlineCommands: CliCommand[] = [run, publish];
