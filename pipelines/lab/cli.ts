/**
 * `panoptes lab list` and `panoptes lab run`: the AIOpsLab-style problems on the lab application,
 * solved by the Panoptes pipeline agent (default) or the LLM ReAct agent, scored, and reported.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CliCommand, CliIo, ReadmeSections } from '../core/cli-types.ts';
import { loadConfig, type Config } from '../core/config.ts';
import { UsageError } from '../core/errors.ts';
import { loadProblemFile, problemById, selectSplit, SHIPPED_PROBLEMS_FILE, splitOf, type Split } from './problems/index.ts';
import type { Problem } from './problems/problem.ts';
import type { RankMethod } from '../rca/index.ts';
import { DEFAULT_BASE_PORT, DEFAULT_OUT, LAB_LIST_SPEC, LAB_RUN_SPEC, type LabListOptions, type LabRunOptions } from './spec.ts';

export { DEFAULT_BASE_PORT, DEFAULT_OUT };

/** The problems of a file (the shipped set by default), filtered by task and split half. */
export function selectProblems(o: { problems?: string | undefined; task?: string | undefined; split?: Split }): { file: string; all: Problem[]; selected: Problem[] } {
  const file = o.problems ?? SHIPPED_PROBLEMS_FILE;
  const all = loadProblemFile(file);
  const selected = selectSplit(all, o.split ?? 'all').filter((p) => !o.task || p.task === o.task);
  return { file, all, selected };
}

const list: CliCommand = {
  name: 'lab list',
  summary: 'List the problems of a problem file (the shipped set by default): application + fault + task + workload',
  usage: '[--problems FILE] [--task detection|localization|rca|mitigation] [--split train|held-out|all] [--json]',
  options: LAB_LIST_SPEC.cliOptions(),
  help: 'The file is checked as a whole first: every error with its path and line (exit 2).\nExample: panoptes lab list --split held-out',
  async run(args, io) {
    const o = LAB_LIST_SPEC.fromArgs(args) as unknown as LabListOptions;
    const { file, all, selected: ps } = selectProblems(o);
    const half = splitOf(all);
    for (const p of ps) {
      if (io.json) io.out(JSON.stringify({ id: p.id, task: p.task, fault: p.fault ?? 'none', workload: { shape: p.workload.shape, rps: p.workload.rps, seed: p.workload.seed }, budgetMs: p.budgetMs, split: half.get(p.id), description: p.description }));
      else io.out(`${p.id.padEnd(38)} ${(half.get(p.id) ?? '').padEnd(8)} ${p.workload.shape.padEnd(7)} ${p.description}`);
    }
    if (!io.json) {
      const kinds = [...new Set(ps.map((p) => p.fault?.kind ?? 'none'))];
      io.out(`\n${ps.length} of ${all.length} problems in ${file}${o.split !== 'all' ? ` (${o.split} half)` : ''}; ${ps.filter((p) => !p.fault).length} fault-free; faults: ${kinds.join(', ')}. Run one: panoptes lab run --problem ${ps[0]?.id ?? 'ID'}`);
    }
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
  repeats?: number;
  problemsFile?: string;
  split?: string;
}

/**
 * A warning when the lab's ports (base..base+21) fall in the kernel's ephemeral range: any
 * outgoing connection on the machine may take one of them as its local port for as long as it
 * lives, and the lab then finds its port "in use" (seen with 46000+ on a busy machine).
 */
export function ephemeralPortWarning(basePort: number, rangeFile = '/proc/sys/net/ipv4/ip_local_port_range'): string | null {
  let lo: number;
  let hi: number;
  try {
    [lo, hi] = readFileSync(rangeFile, 'utf8').trim().split(/\s+/).map(Number) as [number, number];
  } catch {
    return null;
  }
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || basePort + 21 < lo || basePort > hi) return null;
  return `lab run: ports ${basePort}..${basePort + 21} lie in the ephemeral port range ${lo}-${hi}; an outgoing connection may hold one of them and the app will not start. Prefer a --base-port below ${lo - 21} (default ${DEFAULT_BASE_PORT}).`;
}

/** Runs problems and returns the report; shared by `lab run` and `npm start`. */
export async function runLabCommand(a: LabRunArgs, io: CliIo) {
  const { assertPrometheusInstalled } = await import('./orchestrator/prereq.ts');
  assertPrometheusInstalled();
  const warning = ephemeralPortWarning(a.basePort);
  if (warning) io.err(warning);
  const notes: string[] = [];
  let agent;
  if (a.agent === 'llm') {
    const { createLlmClient } = await import('../llm/index.ts');
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
      ...(a.rcaMethod !== undefined ? { rcaMethod: a.rcaMethod as RankMethod } : {}),
      ...(a.repeats !== undefined ? { repeats: a.repeats } : {}),
      ...(a.problemsFile !== undefined ? { problemsFile: a.problemsFile } : {}),
      ...(a.split !== undefined ? { split: a.split } : {}),
    });
  } finally {
    finished();
    uninstall();
  }
}

const run: CliCommand = {
  name: 'lab run',
  summary: 'Run lab problems end to end (app, Prometheus, pipeline, fault, agent) and write a scored report',
  usage: '--problem ID|--all [--problems FILE] [--task T] [--split train|held-out|all] [--repeat N] [--transport embedded|kafka] [--agent panoptes|llm] [--out DIR] [--json]',
  options: LAB_RUN_SPEC.cliOptions(),
  help:
    'Each problem takes about 1.5 minutes; progress and the score so far go to stderr. The problem file is checked as a whole before anything starts (every error with its path and line, exit 2). Needs /usr/bin/prometheus (bash infra/debian.sh) and the PostgreSQL and Redis on 127.0.0.1.\n' +
    'Examples: panoptes lab run --problem crash-geo-localization\n          panoptes lab run --all --split held-out --repeat 3 --out runs',
  async run(args, io) {
    const o = LAB_RUN_SPEC.fromArgs(args) as unknown as LabRunOptions;
    const { file, all, selected } = selectProblems(o);
    const problems = o.all ? selected : (o.problem ?? []).map((id) => problemById(id, all, file));
    if (problems.length === 0) throw new UsageError(`no problem in ${file} matches${o.task ? ` --task ${o.task}` : ''}${o.split !== 'all' ? ` --split ${o.split}` : ''}`);
    const { report, files } = await runLabCommand(
      {
        problems,
        agent: o.agent,
        transport: o.transport,
        outDir: resolve(o.out),
        basePort: o.basePort,
        command: `panoptes lab run ${process.argv.slice(4).join(' ')}`.trim(),
        warmupMs: o.warmupMs,
        rcaMethod: o.rcaMethod,
        repeats: o.repeat,
        problemsFile: file,
        split: o.all ? o.split : 'all',
        ...(o.budgetMs !== undefined ? { budgetMs: o.budgetMs } : {}),
      },
      io,
    );
    if (io.json) io.out(JSON.stringify(report));
    else {
      const { spreadTable, summaryTable } = await import('./report/report.ts');
      io.out(summaryTable(report.summary).join('\n'));
      if (report.spread && o.repeat > 1) io.out('\n' + spreadTable(report.spread, o.repeat).join('\n'));
      io.out(`\nReport: ${files.markdown} (and report.json)`);
    }
    return report.problems.some((p) => p.status === 'error') ? 1 : 0;
  },
};

export const commands: CliCommand[] = [list, run];

/** The README's option tables, generated from the spec by `npm run docs` (pipelines/core/docs.ts). */
export const readmeSections: ReadmeSections = { 'lab-run-options': () => LAB_RUN_SPEC.markdown(), 'lab-list-options': () => LAB_LIST_SPEC.markdown() };
