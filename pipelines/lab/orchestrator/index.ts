/**
 * A lab run: leftovers of a killed earlier run are cleaned up first, then the problems run one
 * after another (each starts and stops its own app, Prometheus and pipeline), and the report is
 * written as JSON and Markdown under `<out>/<run id>/`.
 */
import { join } from 'node:path';
import { buildRunReport, outcomesOf, writeRunReport, type ProblemReport, type RunReport } from '../report/report.ts';
import { summarize } from '../score/score.ts';
import { Progress } from '../report/progress.ts';
import type { Problem } from '../problems/problem.ts';
import { runProblem, type RunOptions } from './run.ts';

export interface LabRunOptions extends Omit<RunOptions, 'runDir' | 'progress' | 'repeat'> {
  outDir: string;
  command: string;
  err: (line: string) => void;
  notes?: string[];
  /** Runs each problem this many times, with seeds seed, seed+1000, seed+2000, … (default 1). */
  repeats?: number;
  /** Recorded in the report: where the problems came from and which half ran. */
  problemsFile?: string;
  split?: string;
}

/** The problem as run in repeat `r` (1-based): the same problem with its own seed. */
export function repeatOf(problem: Problem, r: number): Problem {
  return r === 1 ? problem : { ...problem, workload: { ...problem.workload, seed: problem.workload.seed + 1000 * (r - 1) } };
}

/** One line of the score so far, for the progress display. */
export function runningScore(reports: readonly ProblemReport[], problems: readonly Problem[]): string {
  const s = summarize(outcomesOf(reports, problems));
  const t = s.byTask;
  const d = s.detection;
  const parts: string[] = [];
  if (t.detection.problems) parts.push(`detection ${t.detection.successes}/${t.detection.problems}${d.faultFree ? ` (false alarms ${d.falseAlarms}/${d.faultFree})` : ''}`);
  if (t.localization.problems) parts.push(`localization top-1 ${t.localization.successes}/${t.localization.problems}`);
  if (t.rca.problems) parts.push(`rca ${t.rca.successes}/${t.rca.problems}`);
  if (t.mitigation.problems) parts.push(`mitigation ${t.mitigation.successes}/${t.mitigation.problems}`);
  const errors = reports.filter((r) => r.status === 'error').length;
  return `score so far: ${parts.join(', ') || 'nothing scored'}${errors ? `; ${errors} error(s)` : ''}`;
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
  const repeats = Math.max(1, o.repeats ?? 1);
  const header = () => ({ runId, startedAt, command: o.command, agent: o.agent.name, transport: o.config.transport, repeats, ...(o.problemsFile ? { problemsFile: o.problemsFile } : {}), ...(o.split ? { split: o.split } : {}) });
  const total = problems.length * repeats;
  const progress = new Progress(o.err, total);
  const reports: ProblemReport[] = [];
  let n = 0;
  for (let r = 1; r <= repeats; r++) {
    for (const problem of problems) {
      if (o.signal.aborted) break;
      progress.problem(n++, repeats > 1 ? `${problem.id} #${r}` : problem.id);
      reports.push(await runProblem(repeatOf(problem, r), { ...o, runDir: join(o.outDir, runId, repeats > 1 ? `repeat-${r}` : '.'), progress, ...(repeats > 1 ? { repeat: r } : {}) }));
      progress.line(runningScore(reports, problems));
      // The report so far is on disk after every problem: a run killed midway keeps what it measured.
      writeRunReport(o.outDir, buildRunReport({ ...header(), finishedAt: new Date().toISOString(), problems: reports, notes: [...(o.notes ?? []), `partial: ${reports.length} of ${total} problem runs so far`] }, problems));
    }
  }
  const notes = [...(o.notes ?? [])];
  if (reports.length < total) notes.push(`interrupted: ${reports.length} of ${total} problem runs ran`);
  const report = buildRunReport(
    { runId, startedAt, finishedAt: new Date().toISOString(), command: o.command, agent: o.agent.name, transport: o.config.transport, problems: reports, repeats, ...(o.problemsFile ? { problemsFile: o.problemsFile } : {}), ...(o.split ? { split: o.split } : {}), notes },
    problems,
  );
  return { report, files: writeRunReport(o.outDir, report) };
}
