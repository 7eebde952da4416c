/**
 * A run's report: one JSON document (everything, for machines) and one Markdown page (the score
 * table and, per problem, what was injected, what the pipeline saw and what the agent did),
 * written to `<out>/<run id>/report.{json,md}`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism, loadavg } from 'node:os';

const cpuCount = () => availableParallelism();
/** The machine's 1-minute load average now. */
export const loadNow = () => Number(loadavg()[0]!.toFixed(2));
import type { Score, Spread, Summary, Figure } from '../score/score.ts';
import { spreadOf, summarize, type RunOutcome } from '../score/score.ts';
import type { StepRecord } from '../interface/cloud.ts';
import type { Answer } from '../problems/problem.ts';

export interface ProblemReport {
  id: string;
  task: string;
  /** 1-based repeat of the problem (`--repeat N`); its workload and app seed differ per repeat. */
  repeat?: number;
  seed?: number;
  /** kind and target `none` for a fault-free problem. */
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
    /**
     * Every anomaly from a minute before the injection (or the agent's call) to the end, compact:
     * [ms relative to the injection, component:signal, FN rule id or '', value]; at most 5000.
     * What agents/tune-detection.ts replays to choose the detection thresholds.
     */
    anomalyLog?: Array<[number, string, string, number]>;
  };
  workload: { sent: number; ok: number; errors: number; p50Ms: number; p99Ms: number } | null;
  /** The machine's 1-minute load average at the injection (figures from a busy machine are noisy). */
  loadAvg?: number;
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
  /** Over every problem run (all repeats together). */
  summary: Summary;
  /** How many times each problem ran, with different seeds. */
  repeats?: number;
  /** One summary per repeat, and the mean and spread of each headline figure over them. */
  perRepeat?: Summary[];
  spread?: Record<Figure, Spread>;
  /** The problem file, and which half of it ran (train, held-out, all). */
  problemsFile?: string;
  split?: string;
  notes: string[];
}

export function outcomesOf(reports: readonly ProblemReport[], problems: ReadonlyArray<RunOutcome['problem']>): RunOutcome[] {
  const out: RunOutcome[] = [];
  for (const r of reports) {
    const p = problems.find((x) => x.id === r.id);
    if (!p) continue;
    const score: Score = r.score ?? {
      task: p.task,
      score: 0,
      success: false,
      ...(p.task === 'detection' ? { detection: { correct: false, faultFree: p.fault === null, falseAlarm: false } } : {}),
      expected: { component: r.fault.target, faultKind: r.fault.kind, faultType: '', mitigation: '' },
      reason: r.error ?? 'not scored',
    };
    out.push({ problem: p, score, ttdMs: r.ttdMs, ttlMs: r.ttlMs, ttmMs: r.ttmMs, steps: r.steps.length, tokens: r.tokens });
  }
  return out;
}

export function buildRunReport(o: Omit<RunReport, 'summary' | 'perRepeat' | 'spread'>, problems: ReadonlyArray<RunOutcome['problem']>): RunReport {
  const repeats = o.repeats ?? 1;
  const perRepeat = Array.from({ length: repeats }, (_, i) => summarize(outcomesOf(o.problems.filter((p) => (p.repeat ?? 1) === i + 1), problems))).filter((s) => s.problems > 0);
  return { ...o, summary: summarize(outcomesOf(o.problems, problems)), perRepeat, spread: spreadOf(perRepeat) };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const secs = (ms: number | null) => (ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`);

const frac = (n: number, d: number) => (d ? `${pct(n / d)} (${n}/${d})` : '—');

export function summaryTable(s: Summary): string[] {
  const t = s.byTask;
  const d = s.detection;
  return [
    '| task | problems | Panoptes agent | successes |',
    '|---|---|---|---|',
    `| detection (accuracy) | ${t.detection.problems} | ${pct(t.detection.accuracy)} | ${t.detection.successes} |`,
    `| detection: faults reported / false-alarm rate | ${d.faulty} with a fault, ${d.faultFree} fault-free | ${frac(d.detected, d.faulty)} / ${frac(d.falseAlarms, d.faultFree)} | — |`,
    `| localization (top-1 / top-3 / AIOpsLab accuracy) | ${t.localization.problems} | ${pct(s.localizationTop1)} / ${pct(s.localizationTop3)} / ${pct(t.localization.accuracy)} | ${t.localization.successes} |`,
    `| root-cause analysis (component + fault kind) | ${t.rca.problems} | ${pct(t.rca.accuracy)} | ${t.rca.successes} |`,
    `| mitigation (live probe) | ${t.mitigation.problems} | ${pct(t.mitigation.accuracy)} | ${t.mitigation.successes} |`,
    '',
    `Mean time to detect ${s.meanTtdS === null ? '—' : `${s.meanTtdS.toFixed(1)} s`}, to localize ${s.meanTtlS === null ? '—' : `${s.meanTtlS.toFixed(1)} s`}, to mitigate ${s.meanTtmS === null ? '—' : `${s.meanTtmS.toFixed(1)} s`}; ${s.steps} steps, ${s.tokens} tokens over ${s.problems} problems.`,
  ];
}

const FIGURE_NAMES: Record<Figure, string> = {
  detectionAccuracy: 'detection accuracy',
  falseAlarmRate: 'false-alarm rate (fault-free detection problems)',
  ttdS: 'time to detect (s)',
  localizationTop1: 'localization top-1',
  localizationTop3: 'localization top-3',
  localizationAccuracy: 'localization AIOpsLab accuracy',
  rca: 'root-cause analysis',
  mitigation: 'mitigation',
};

/** Mean ± standard deviation (min–max) of each figure over the repeats. */
export function spreadTable(spread: Record<Figure, Spread>, repeats: number): string[] {
  const fmt = (k: Figure, v: number | null) => (v === null ? '—' : k === 'ttdS' ? v.toFixed(1) : pct(v));
  return [
    `| figure | mean ± sd over ${repeats} repeat${repeats === 1 ? '' : 's'} | min – max | per repeat |`,
    '|---|---|---|---|',
    ...(Object.keys(FIGURE_NAMES) as Figure[]).map((k) => {
      const x = spread[k];
      return `| ${FIGURE_NAMES[k]} | ${fmt(k, x.mean)}${x.sd === null ? '' : ` ± ${fmt(k, x.sd)}`} | ${fmt(k, x.min)} – ${fmt(k, x.max)} | ${x.values.map((v) => fmt(k, v)).join(', ')} |`;
    }),
  ];
}

function machineLine(r: RunReport): string[] {
  const loads = r.problems.map((p) => p.loadAvg).filter((x): x is number => typeof x === 'number');
  if (loads.length === 0) return [];
  const mean = loads.reduce((a, b) => a + b, 0) / loads.length;
  return [`Machine: ${cpuCount()} cores, 1-minute load average at the injections ${mean.toFixed(1)} on average (${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}).`, ''];
}

export function renderMarkdown(r: RunReport): string {
  const lines = [
    `# Lab run ${r.runId}`,
    '',
    `\`${r.command}\` — agent **${r.agent}**, transport **${r.transport}**, ${r.startedAt} → ${r.finishedAt}.`,
    '',
    ...machineLine(r),
    ...(r.problemsFile ? [`Problems: ${r.problemsFile}${r.split && r.split !== 'all' ? `, the ${r.split} half` : ''}; ${r.repeats ?? 1} repeat(s).`, ''] : []),
    ...summaryTable(r.summary),
    '',
    ...(r.spread && (r.repeats ?? 1) > 1 ? [...spreadTable(r.spread, r.repeats ?? 1), ''] : []),
    '| problem | score | verdict | time | steps | tokens |',
    '|---|---|---|---|---|---|',
    ...r.problems.map((p) => `| ${p.id}${(r.repeats ?? 1) > 1 ? ` #${p.repeat ?? 1}` : ''} | ${p.score ? p.score.score.toFixed(2) : 'error'} | ${(p.score?.reason ?? p.error ?? '').replace(/\|/g, '/')} | ${secs(p.task === 'detection' ? p.ttdMs : p.task === 'mitigation' ? p.ttmMs : p.ttlMs)} | ${p.steps.length} | ${p.tokens.input + p.tokens.output} |`),
  ];
  for (const p of r.problems) {
    lines.push('', `## ${p.id}${(r.repeats ?? 1) > 1 ? ` (repeat ${p.repeat ?? 1}, seed ${p.seed ?? '?'})` : ''}`, '', p.fault.kind === 'none' ? `No fault injected (fault-free problem)${p.injectedAt ? `; the agent started at ${p.injectedAt}` : ''}.` : `Injected: ${p.fault.kind} on ${p.fault.target} — ${p.fault.text}${p.injectedAt ? ` at ${p.injectedAt}` : ''}.`);
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
