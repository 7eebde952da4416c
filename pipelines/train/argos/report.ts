/** The training report: every step of a run, as JSON and as Markdown for people. */
import type { UsageSnapshot } from '../../llm/index.ts';

export interface FitScore {
  eventF1: number | null;
  pointAdjustedF1: number | null;
  precision: number | null;
  recall: number | null;
  /** Labelled events detected / missed; runs of alarms outside events. */
  tp: number;
  fnEvents: number;
  fpEvents: number;
}

export interface RepairStep {
  attempt: number;
  /** What the compiler or runtime said about the previous text. */
  errors: string;
  expr: string;
  fix: string;
}

export interface CandidateRecord {
  iteration: number;
  /** Index among this iteration's candidates of the same kind. */
  rank: number;
  requestedKind: 'FN' | 'FP';
  kind: 'FN' | 'FP';
  /** Set when the review agent's revision replaced the detection agent's rule. */
  source?: 'review';
  expr?: string;
  version?: string;
  description?: string;
  rationale?: string;
  repairs: RepairStep[];
  /** An error the candidate survived (e.g. an answer that was not JSON, then repaired). */
  error?: string;
  fit?: { before: FitScore; after: FitScore; deltaF1: number };
  review?: { decision: 'keep' | 'revise' | 'revert'; reason: string; revisedExpr?: string };
  outcome: 'accepted' | 'rejected' | 'eligible' | 'invalid' | 'error' | 'no-proposal' | 'duplicate';
  reason: string;
  ruleId?: string;
  ms: number;
}

export interface IterationRecord {
  iteration: number;
  chunk: { start: number; end: number; missed: number; falseAlarms: number };
  candidates: CandidateRecord[];
  accepted?: string;
  fitAfter: FitScore;
  ms: number;
}

export interface TrainedRuleRecord {
  id: string;
  kind: 'FN' | 'FP';
  expr: string;
  version: string;
  description: string;
  iteration: number;
  fitBefore: FitScore;
  fitAfter: FitScore;
}

/** A range rule (trainer option `rangeRules`): vetted on the training split's normal rows, not by the review. */
export interface RangeRuleRecord {
  id: string;
  side: 'above' | 'below';
  expr: string;
  /** Largest (above) / smallest (below) value of the fit split outside labelled windows. */
  extreme: number;
  bound: number;
  published: boolean;
  reason: string;
  fit?: { before: FitScore; after: FitScore };
}

export interface SeriesTrainingReport {
  series: string;
  provider: string;
  seed: number;
  options: Record<string, number>;
  split: { fitRows: number; validationRows: number; trainEnd: number };
  baseFit: FitScore;
  finalFit: FitScore;
  iterations: IterationRecord[];
  stoppedBecause: string;
  repairs: { attempted: number; fixed: number };
  rules: TrainedRuleRecord[];
  validation: { base: FitScore; withRules: FitScore; hasEvents: boolean; passed: boolean; reason: string };
  published: string[];
  /** Range rules proposed after the loop (empty when the option is off). */
  rangeRules: RangeRuleRecord[];
  usage: UsageSnapshot;
  agentTimeMs: Record<string, number>;
  timeMs: number;
}

export interface TrainingReport {
  kind: 'argos-training';
  provider: string;
  seed: number;
  data: string;
  labels: string;
  base: string;
  series: SeriesTrainingReport[];
  published: number;
  trained: number;
  usage: UsageSnapshot;
  timeMs: number;
}

const f = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : x.toFixed(3));
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderTrainingMarkdown(r: TrainingReport): string {
  const lines: string[] = [];
  lines.push(`# Argos training report`, '');
  lines.push(`provider ${r.provider}, seed ${r.seed}, base detector ${r.base}, data ${r.data}, labels ${r.labels}`, '');
  lines.push(`${r.series.length} series, ${r.trained} rule(s) trained, ${r.published} published, ${(r.timeMs / 1000).toFixed(1)} s.`, '');
  lines.push('| series | fit F1 base → rules | validation F1 base → base+rules | rules kept | published | range rules published | stopped | time |', '|---|---|---|---:|---|---:|---|---:|');
  for (const s of r.series) {
    lines.push(
      `| ${cell(s.series)} | ${f(s.baseFit.eventF1)} → ${f(s.finalFit.eventF1)} | ${f(s.validation.base.eventF1)} → ${f(s.validation.withRules.eventF1)} | ${s.rules.length} | ${s.validation.passed ? 'yes' : `no: ${cell(s.validation.reason)}`} | ${s.rangeRules.filter((x) => x.published).length} | ${cell(s.stoppedBecause)} | ${(s.timeMs / 1000).toFixed(2)} s |`,
    );
  }
  lines.push('', '## Token usage per agent', '', '| agent | calls | failed | retries | prompt tokens | completion tokens |', '|---|---:|---:|---:|---:|---:|');
  for (const [agent, u] of Object.entries(r.usage.agents)) lines.push(`| ${agent} | ${u.calls} | ${u.failedCalls} | ${u.retries} | ${u.promptTokens} | ${u.completionTokens} |`);
  for (const s of r.series) {
    lines.push('', `## ${s.series}`, '');
    lines.push(`Fit rows [0, ${s.split.fitRows}), validation rows [${s.split.fitRows}, ${s.split.trainEnd}). Repairs: ${s.repairs.fixed} fixed of ${s.repairs.attempted} attempts. Validation: ${s.validation.reason}.`, '');
    if (s.rules.length > 0) {
      lines.push('| rule | kind | expression | fit F1 before → after |', '|---|---|---|---|');
      for (const rule of s.rules) lines.push(`| ${cell(rule.id)} | ${rule.kind} | \`${cell(rule.expr)}\` | ${f(rule.fitBefore.eventF1)} → ${f(rule.fitAfter.eventF1)} |`);
      lines.push('');
    }
    if (s.rangeRules.length > 0) {
      lines.push('| range rule | expression | normal fit extreme | published |', '|---|---|---:|---|');
      for (const x of s.rangeRules) lines.push(`| ${cell(x.id)} | \`${cell(x.expr)}\` | ${x.extreme} | ${x.published ? 'yes' : 'no'}: ${cell(x.reason)} |`);
      lines.push('');
    }
    lines.push('| it | chunk | kind | candidate | repairs | review | fit ΔF1 | outcome |', '|---:|---|---|---|---:|---|---:|---|');
    for (const it of s.iterations) {
      for (const c of it.candidates) {
        lines.push(
          `| ${it.iteration} | ${it.chunk.start}-${it.chunk.end - 1} | ${c.kind} | ${c.expr ? `\`${cell(c.expr)}\`` : '—'} | ${c.repairs.length} | ${c.review ? c.review.decision : '—'} | ${c.fit ? c.fit.deltaF1.toFixed(3) : '—'} | ${c.outcome}: ${cell(c.reason)} |`,
        );
      }
    }
  }
  return lines.join('\n') + '\n';
}
