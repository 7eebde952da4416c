/**
 * `panoptes lab list` and `panoptes lab run`: the AIOpsLab-style problems on the lab application,
 * solved by the Panoptes pipeline agent (default) or the LLM ReAct agent, scored, and reported.
 */
import { resolve } from 'node:path';
import type { CliCommand, CliIo } from '../core/cli-types.ts';
import { loadConfig, type Config } from '../core/config.ts';
import { UsageError } from '../core/errors.ts';
import { PROBLEMS, problemById, TASKS } from './problems/index.ts';
import type { Problem } from './problems/problem.ts';

export const DEFAULT_BASE_PORT = 18800;
export const DEFAULT_OUT = 'runs';

const list: CliCommand = {
  name: 'lab list',
  summary: 'List the lab problems (application + fault + task + workload + evaluator)',
  usage: '[--task detection|localization|rca|mitigation] [--json]',
  options: [{ name: 'task', type: 'string', description: 'Only problems of this task.' }],
  async run(args, io) {
    const task = args.options.task as string | undefined;
    if (task !== undefined && !(TASKS as readonly string[]).includes(task)) throw new UsageError(`--task: expected one of ${TASKS.join(', ')}, got "${task}"`);
    const ps = PROBLEMS.filter((p) => !task || p.task === task);
    for (const p of ps) {
      if (io.json) io.out(JSON.stringify({ id: p.id, task: p.task, fault: p.fault, workload: p.workload, budgetMs: p.budgetMs, description: p.description }));
      else io.out(`${p.id.padEnd(36)} ${p.description}`);
    }
    if (!io.json) io.out(`\n${ps.length} problems; faults: ${[...new Set(ps.map((p) => p.fault.kind))].join(', ')}. Run one: panoptes lab run --problem ${ps[0]?.id ?? 'ID'}`);
    return 0;
  },
};

/** The lab config: the common configuration, with --transport kafka meaning real brokers (127.0.0.1:9092 unless configured). */
export function labConfig(transport: string | undefined, prefix?: string): Config {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (transport === 'kafka') env.PANOPTES_TRANSPORT = 'kafka';
  else if (transport === 'embedded' || transport === undefined) {
    if (transport === 'embedded' || !env.PANOPTES_TRANSPORT) {
      env.PANOPTES_TRANSPORT = 'embedded';
      delete env.PANOPTES_REGISTRY_URL;
    }
  } else throw new UsageError(`--transport: expected embedded or kafka, got "${transport}"`);
  // Each run gets its own topics so runs never read each other's records.
  env.PANOPTES_TOPIC_PREFIX = prefix ?? `${env.PANOPTES_TOPIC_PREFIX ?? ''}lab.${Date.now().toString(36)}.`;
  if (!env.PANOPTES_LOG_LEVEL) env.PANOPTES_LOG_LEVEL = 'warn';
  return loadConfig({ env });
}

export interface LabRunArgs {
  problems: readonly Problem[];
  agent: 'panoptes' | 'llm';
  transport?: string;
  outDir: string;
  basePort: number;
  command: string;
  warmupMs?: number;
  budgetMs?: number;
  rcaMethod?: string;
}

/** Runs problems and returns the report; shared by `lab run` and `npm start`. */
export async function runLabCommand(a: LabRunArgs, io: CliIo) {
  const { assertPrometheusInstalled } = await import('./orchestrator/prereq.ts');
  assertPrometheusInstalled();
  const notes: string[] = [];
  let agent;
  if (a.agent === 'llm') {
    const { createLlmClient } = await import('../llm/client.ts');
    const { Registry } = await import('prom-client');
    const client = createLlmClient({ registry: new Registry() });
    if (client.name !== 'openai') {
      io.err('lab run --agent llm: OPENAI_API_KEY is not set, so the LLM agent is skipped (no model to ask). The Panoptes agent runs instead; tests cover the LLM agent with the replay server.');
      notes.push('LLM agent skipped: OPENAI_API_KEY not set; the Panoptes agent ran instead');
    } else {
      const { ReactAgent } = await import('./agents/react.ts');
      agent = new ReactAgent(client);
    }
  }
  if (!agent) {
    const { PanoptesAgent } = await import('./agents/panoptes.ts');
    agent = new PanoptesAgent();
  }
  const config = labConfig(a.transport);
  const { runLab } = await import('./orchestrator/index.ts');
  const { installSignalHandlers, cleanupLeftovers } = await import('./faults/index.ts');
  // SIGINT/SIGTERM abort io.signal: the current problem recovers in its `finally`. If that does
  // not finish in time, the lab's handler recovers whatever the state file lists, then exits.
  let finished: () => void = () => undefined;
  const done = new Promise<void>((r) => (finished = r));
  const uninstall = installSignalHandlers(async () => {
    await Promise.race([done, new Promise((r) => setTimeout(r, 12_000))]);
    await cleanupLeftovers({ includeOwn: true });
  }, { timeoutMs: 25_000 });
  try {
    return await runLab(a.problems, {
      config,
      agent,
      outDir: a.outDir,
      basePort: a.basePort,
      command: a.command,
      signal: io.signal,
      err: io.err,
      notes,
      ...(a.warmupMs !== undefined ? { timings: { warmupMs: a.warmupMs } } : {}),
      ...(a.budgetMs !== undefined ? { budgetMs: a.budgetMs } : {}),
      ...(a.rcaMethod !== undefined ? { rcaMethod: a.rcaMethod as 'traversal' } : {}),
    });
  } finally {
    finished();
    uninstall();
  }
}

const run: CliCommand = {
  name: 'lab run',
  summary: 'Run lab problems end to end (app, Prometheus, pipeline, fault, agent) and write a scored report',
  usage: '--problem ID|--all [--transport embedded|kafka] [--agent panoptes|llm] [--out DIR] [--json]',
  options: [
    { name: 'problem', type: 'string[]', placeholder: 'ID', description: 'Problem id(s) to run (repeatable; see `panoptes lab list`).' },
    { name: 'all', type: 'boolean', description: 'Run every problem.' },
    { name: 'task', type: 'string', description: 'With --all: only problems of this task.' },
    { name: 'transport', type: 'string', description: 'embedded (in-process topics) or kafka (real brokers, PANOPTES_BROKERS or 127.0.0.1:9092).', default: 'embedded' },
    { name: 'agent', type: 'string', description: 'panoptes (the pipeline as the agent) or llm (ReAct over pipelines/llm; needs OPENAI_API_KEY).', default: 'panoptes' },
    { name: 'out', type: 'string', placeholder: 'DIR', description: 'Where reports and per-problem files go.', default: DEFAULT_OUT },
    { name: 'base-port', type: 'number', description: 'App services use base..base+12, Prometheus base+20, the receiver base+21.', default: DEFAULT_BASE_PORT },
    { name: 'warmup-ms', type: 'number', description: 'Baseline under workload before the injection.', default: 30000 },
    { name: 'rca-method', type: 'string', description: 'Ranking method of the pipeline\'s RCA stage: traversal, attribution or random-walk.', default: 'traversal' },
  ],
  help: 'Each problem takes about 1.5 minutes. Needs /usr/bin/prometheus (bash infra/debian.sh) and the PostgreSQL and Redis on 127.0.0.1.\nExample: panoptes lab run --problem latency-search-localization',
  async run(args, io) {
    const o = args.options;
    const ids = (o.problem as string[] | undefined) ?? [];
    if (!o.all && ids.length === 0) throw new UsageError('give --problem ID or --all (panoptes lab list shows the ids)');
    const task = o.task as string | undefined;
    const problems = o.all ? PROBLEMS.filter((p) => !task || p.task === task) : ids.map(problemById);
    const rcaMethod = String(o['rca-method']);
    if (!['traversal', 'attribution', 'random-walk'].includes(rcaMethod)) throw new UsageError(`--rca-method: expected traversal, attribution or random-walk, got "${rcaMethod}"`);
    const agent = String(o.agent);
    if (agent !== 'panoptes' && agent !== 'llm') throw new UsageError(`--agent: expected panoptes or llm, got "${agent}"`);
    const { report, files } = await runLabCommand(
      { problems, agent, transport: String(o.transport), outDir: resolve(String(o.out)), basePort: Number(o['base-port']), command: `panoptes lab run ${process.argv.slice(4).join(' ')}`.trim(), warmupMs: Number(o['warmup-ms']), rcaMethod },
      io,
    );
    if (io.json) io.out(JSON.stringify(report));
    else {
      const { summaryTable } = await import('./report/report.ts');
      io.out(summaryTable(report.summary).join('\n'));
      io.out(`\nReport: ${files.markdown} (and report.json)`);
    }
    return report.problems.some((p) => p.status === 'error') ? 1 : 0;
  },
};

export const commands: CliCommand[] = [list, run];
