/**
 * Commands of the RCA stage that talk to the pipeline: `rca run` (the online consumer) and
 * `graph publish` (a validated graph onto `causal-graphs`). Listed through rca/cli.ts; the
 * runtime and the consumer load lazily, so `panoptes --help` stays fast.
 */
import { hostname } from 'node:os';
import type { CliCommand, CliIo, ParsedArgs } from '../core/cli-types.ts';
import { InputError, UsageError } from '../core/errors.ts';
import type { RcaResult } from '../core/records.ts';
import { rankMethods, type RankMethod } from './rca.ts';
import { defaultRankOptions } from './rank/scores.ts';

function str(args: ParsedArgs, name: string): string | undefined {
  const v = args.options[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw new UsageError(`--${name}: expected a value`);
  return v;
}

function int(args: ParsedArgs, name: string, dflt: number, min = 0): number {
  const v = args.options[name];
  if (v === undefined) return dflt;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name}: expected an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return n;
}

function numOpt(args: ParsedArgs, name: string, dflt: number): number {
  const v = args.options[name];
  const n = v === undefined ? dflt : typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name}: expected a number, got ${JSON.stringify(v)}`);
  return n;
}

export function formatRca(r: RcaResult): string {
  const top = r.causes.slice(0, 3).map((c) => `${c.node} (${c.score.toFixed(2)}; ${c.path.join(' → ')})`);
  return `${r.incidentId} [${r.method}${r.graphVersion ? ` @${r.graphVersion}` : ', no graph'}] ${top.length ? top.join(' | ') : 'no cause'}${r.note ? ` — ${r.note}` : ''}`;
}

const run: CliCommand = {
  name: 'rca run',
  requiresBroker: true,
  summary: 'Run the online RCA consumer: incidents + metric windows + causal-graphs → rca',
  usage: '[--method attribution|traversal|random-walk] [--graph FILE] [--graph-name NAME] [--component-label L] [--metric-label L]',
  options: [
    { name: 'group', type: 'string', description: 'Consumer group on the incidents topic', default: 'panoptes-rca' },
    { name: 'instance', type: 'string', description: 'Instance name (default: host name)' },
    { name: 'method', type: 'string', description: 'attribution, traversal or random-walk', default: 'attribution' },
    { name: 'graph', type: 'string', description: 'Causal graph JSON used until a good graph arrives on causal-graphs', placeholder: 'FILE' },
    { name: 'graph-name', type: 'string', description: 'Follow only this graph name on causal-graphs (default: the latest of any)', placeholder: 'NAME' },
    { name: 'component-label', type: 'string', description: 'Series label naming the component (fallbacks service, job)', default: 'component' },
    { name: 'metric-label', type: 'string', description: 'Series label naming the metric of node component:metric (fallback __name__)', default: 'signal' },
    { name: 'debounce-ms', type: 'number', description: 'Quiet time after an incident update before it is analysed', default: 2000 },
    { name: 'max-delay-ms', type: 'number', description: 'Longest wait of a pending incident under continuous updates', default: 10000 },
    { name: 'step-ms', type: 'number', description: 'Sample alignment step of the metric windows', default: 1000 },
    { name: 'window-ms', type: 'number', description: 'How much metric history per node is kept', default: 1800000 },
    { name: 'normal-gap-ms', type: 'number', description: 'History this close before the incident is not used as normal', default: 5000 },
    { name: 'target-threshold', type: 'number', description: 'Least score of the affected node for anything to be reported', default: defaultRankOptions.targetThreshold },
    { name: 'evidence-threshold', type: 'number', description: 'Least score of the target or one of its causes for an incident to be explained', default: defaultRankOptions.evidenceThreshold },
    { name: 'node-threshold', type: 'number', description: 'Least score of a node to be a candidate cause', default: defaultRankOptions.nodeThreshold },
  ],
  help: 'Runs until SIGINT/SIGTERM. Serves /metrics when metricsListen is configured. With --json prints each rca record.\nExample: panoptes rca run --method attribution --graph graph.json',
  async run(args: ParsedArgs, io: CliIo): Promise<number> {
    const method = (str(args, 'method') ?? 'attribution') as RankMethod;
    if (!rankMethods.includes(method)) throw new UsageError(`--method: expected one of ${rankMethods.join(', ')}, got "${method}"`);
    const [{ loadConfig }, { createRuntime }, { untilAborted }, { startRcaConsumer }, { readText }, { parseGraphJson, GraphStore }] = await Promise.all([
      import('../core/config.ts'),
      import('../core/runtime.ts'),
      import('../core/lifecycle.ts'),
      import('./consumer.ts'),
      import('./io.ts'),
      import('./store.ts'),
    ]);
    const gpath = str(args, 'graph');
    const fallbackGraph = gpath ? parseGraphJson(readText(gpath, 'graph file')) : undefined;
    if (fallbackGraph) {
      // Refused here with the reason, as graph publish does, rather than as a consumer start failure.
      const verdict = new GraphStore().propose(fallbackGraph);
      if (verdict.status === 'rejected') throw new InputError(`graph ${gpath} rejected: ${verdict.reason}`);
    }
    const rt = await createRuntime(loadConfig(), { stage: 'rca' });
    try {
      await rt.serveMetrics(() => ({ ok: true }));
      const group = str(args, 'group') ?? 'panoptes-rca';
      const c = await startRcaConsumer(rt, {
        groupId: group,
        instanceId: str(args, 'instance') ?? hostname(),
        method,
        rank: {
          targetThreshold: numOpt(args, 'target-threshold', defaultRankOptions.targetThreshold),
          evidenceThreshold: numOpt(args, 'evidence-threshold', defaultRankOptions.evidenceThreshold),
          nodeThreshold: numOpt(args, 'node-threshold', defaultRankOptions.nodeThreshold),
        },
        graphName: str(args, 'graph-name'),
        fallbackGraph,
        componentLabel: str(args, 'component-label') ?? 'component',
        metricLabel: str(args, 'metric-label') ?? 'signal',
        debounceMs: int(args, 'debounce-ms', 2000),
        maxDelayMs: int(args, 'max-delay-ms', 10000),
        stepMs: int(args, 'step-ms', 1000, 1),
        windowMs: int(args, 'window-ms', 1800000, 1),
        normalGapMs: int(args, 'normal-gap-ms', 5000),
        onOutput: (r) => io.out(io.json ? JSON.stringify(r) : formatRca(r)),
      });
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
      import('./store.ts'),
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
