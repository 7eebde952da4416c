/**
 * A lab run: leftovers of a killed earlier run are cleaned up first, then the problems run one
 * after another (each starts and stops its own app, Prometheus and pipeline), and the report is
 * written as JSON and Markdown under `<out>/<run id>/`.
 */
import { join } from 'node:path';
import { buildRunReport, writeRunReport, type ProblemReport, type RunReport } from '../report/report.ts';
import { Progress } from '../report/progress.ts';
import type { Problem } from '../problems/problem.ts';
import { runProblem, type RunOptions } from './run.ts';

export interface LabRunOptions extends Omit<RunOptions, 'runDir' | 'progress'> {
  outDir: string;
  command: string;
  err: (line: string) => void;
  notes?: string[];
}

export function newRunId(now = new Date()): string {
  return `lab-${now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}`;
}

export async function runLab(problems: readonly Problem[], o: LabRunOptions): Promise<{ report: RunReport; files: { json: string; markdown: string } }> {
  const { cleanupLeftovers } = await import('../faults/index.ts');
  const left = await cleanupLeftovers();
  if (left.killed.length || left.faultsRecovered.length || left.tablesDropped.length) {
    o.err(`cleaned up after an earlier run: ${left.killed.length} processes, ${left.faultsRecovered.length} faults, ${left.tablesDropped.length} tables`);
  }
  const runId = newRunId();
  const startedAt = new Date().toISOString();
  const progress = new Progress(o.err, problems.length);
  const reports: ProblemReport[] = [];
  for (const [i, problem] of problems.entries()) {
    if (o.signal.aborted) break;
    progress.problem(i, problem.id);
    reports.push(await runProblem(problem, { ...o, runDir: join(o.outDir, runId), progress }));
  }
  const notes = [...(o.notes ?? [])];
  if (reports.length < problems.length) notes.push(`interrupted: ${reports.length} of ${problems.length} problems ran`);
  const report = buildRunReport({ runId, startedAt, finishedAt: new Date().toISOString(), command: o.command, agent: o.agent.name, transport: o.config.transport, problems: reports, notes }, problems);
  return { report, files: writeRunReport(o.outDir, report) };
}
