/**
 * A run's report: one JSON document (everything, for machines) and one Markdown page (the score
 * table and, per problem, what was injected, what the pipeline saw and what the agent did),
 * written to `<out>/<run id>/report.{json,md}`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Score, Summary } from '../score/score.ts';
import { summarize, type RunOutcome } from '../score/score.ts';
import type { StepRecord } from '../interface/cloud.ts';
import type { Answer } from '../problems/problem.ts';

export interface ProblemReport {
  id: string;
  task: string;
  fault: { kind: string; target: string; text: string };
  agent: string;
  transport: string;
  status: 'scored' | 'error';
  error?: string;
  injectedAt: string | null;
  answer: Answer | null;
  score: Score | null;
  ttdMs: number | null;
  ttlMs: number | null;
  ttmMs: number | null;
  steps: StepRecord[];
  tokens: { input: number; output: number };
  observed: {
    /** Anomalies during the warm-up, before anything was injected (false alarms). */
    anomaliesBeforeInjection?: number;
    anomalies: number;
    firstAnomaly: string | null;
    /** The first anomaly of each series after the injection (up to 8), explained. */
    firstAnomalies?: string[];
    incidents: Array<{ id: string; status: string; components: string[]; summary: string }>;
    rootCauses: Array<{ component: string; node: string; score: number }>;
    rcaNote: string | null;
  };
  workload: { sent: number; ok: number; errors: number; p50Ms: number; p99Ms: number } | null;
  durationMs: number;
  recovered: boolean;
}

export interface RunReport {
  runId: string;
  startedAt: string;
  finishedAt: string;
  command: string;
  agent: string;
  transport: string;
  problems: ProblemReport[];
  summary: Summary;
  notes: string[];
}

export function outcomesOf(reports: readonly ProblemReport[], problems: ReadonlyArray<RunOutcome['problem']>): RunOutcome[] {
  const out: RunOutcome[] = [];
  for (const r of reports) {
    const p = problems.find((x) => x.id === r.id);
    if (!p) continue;
    const score: Score = r.score ?? { task: p.task, score: 0, success: false, expected: { component: r.fault.target, faultKind: r.fault.kind, faultType: '', mitigation: '' }, reason: r.error ?? 'not scored' };
    out.push({ problem: p, score, ttdMs: r.ttdMs, ttlMs: r.ttlMs, ttmMs: r.ttmMs, steps: r.steps.length, tokens: r.tokens });
  }
  return out;
}

export function buildRunReport(o: Omit<RunReport, 'summary'>, problems: ReadonlyArray<RunOutcome['problem']>): RunReport {
  return { ...o, summary: summarize(outcomesOf(o.problems, problems)) };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const secs = (ms: number | null) => (ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`);

export function summaryTable(s: Summary): string[] {
  const t = s.byTask;
  return [
    '| task | problems | Panoptes agent | successes |',
    '|---|---|---|---|',
    `| detection (accuracy) | ${t.detection.problems} | ${pct(t.detection.accuracy)} | ${t.detection.successes} |`,
    `| localization (top-1 / top-3 / AIOpsLab accuracy) | ${t.localization.problems} | ${pct(s.localizationTop1)} / ${pct(s.localizationTop3)} / ${pct(t.localization.accuracy)} | ${t.localization.successes} |`,
    `| root-cause analysis (component + fault kind) | ${t.rca.problems} | ${pct(t.rca.accuracy)} | ${t.rca.successes} |`,
    `| mitigation (live probe) | ${t.mitigation.problems} | ${pct(t.mitigation.accuracy)} | ${t.mitigation.successes} |`,
    '',
    `Mean time to detect ${s.meanTtdS === null ? '—' : `${s.meanTtdS.toFixed(1)} s`}, to localize ${s.meanTtlS === null ? '—' : `${s.meanTtlS.toFixed(1)} s`}, to mitigate ${s.meanTtmS === null ? '—' : `${s.meanTtmS.toFixed(1)} s`}; ${s.steps} steps, ${s.tokens} tokens over ${s.problems} problems.`,
  ];
}

export function renderMarkdown(r: RunReport): string {
  const lines = [
    `# Lab run ${r.runId}`,
    '',
    `\`${r.command}\` — agent **${r.agent}**, transport **${r.transport}**, ${r.startedAt} → ${r.finishedAt}.`,
    '',
    ...summaryTable(r.summary),
    '',
    '| problem | score | verdict | time | steps | tokens |',
    '|---|---|---|---|---|---|',
    ...r.problems.map((p) => `| ${p.id} | ${p.score ? p.score.score.toFixed(2) : 'error'} | ${(p.score?.reason ?? p.error ?? '').replace(/\|/g, '/')} | ${secs(p.task === 'detection' ? p.ttdMs : p.task === 'mitigation' ? p.ttmMs : p.ttlMs)} | ${p.steps.length} | ${p.tokens.input + p.tokens.output} |`),
  ];
  for (const p of r.problems) {
    lines.push('', `## ${p.id}`, '', `Injected: ${p.fault.kind} on ${p.fault.target} — ${p.fault.text}${p.injectedAt ? ` at ${p.injectedAt}` : ''}.`);
    lines.push(`Pipeline: ${p.observed.anomalies} anomalies${p.observed.firstAnomaly ? ` (first: ${p.observed.firstAnomaly})` : ''}; ${p.observed.incidents.length} incident(s)${p.observed.incidents[0] ? `: ${p.observed.incidents[0].summary}` : ''}.`);
    if (p.observed.rootCauses.length) lines.push(`Ranked root causes: ${p.observed.rootCauses.map((c, i) => `${i + 1}. ${c.node} (${c.score})`).join(', ')}.`);
    lines.push(`Answer: \`${JSON.stringify(p.answer)}\` → ${p.score ? `${p.score.score.toFixed(2)} (${p.score.reason})` : `error: ${p.error}`}. Recovered: ${p.recovered ? 'yes' : 'NO'}.`);
    if (p.steps.length) lines.push('', '| # | t | action | args | result |', '|---|---|---|---|---|', ...p.steps.map((s) => `| ${s.n} | ${(s.atMs / 1000).toFixed(1)} s | ${s.action} | ${s.args.replace(/\|/g, '/')} | ${(s.ok ? '' : 'FAILED: ') + s.result.replace(/\|/g, '/')} |`));
  }
  if (r.notes.length) lines.push('', '## Notes', '', ...r.notes.map((n) => `- ${n}`));
  return lines.join('\n') + '\n';
}

export function writeRunReport(dir: string, r: RunReport): { json: string; markdown: string } {
  const d = join(dir, r.runId);
  mkdirSync(d, { recursive: true });
  const json = join(d, 'report.json');
  const markdown = join(d, 'report.md');
  writeFileSync(json, JSON.stringify(r, null, 2) + '\n');
  writeFileSync(markdown, renderMarkdown(r));
  return { json, markdown };
}
