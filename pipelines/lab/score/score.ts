/**
 * AIOpsLab's evaluators, as pure functions of the problem, the expected labels (the injector's
 * description of the fault) and what the agent submitted:
 *   - detection: correct when the agent's yes/no matches whether a fault was injected (a
 *     fault-free problem scores 1 only for "no fault"); reported as accuracy, false-alarm rate
 *     (fault-free problems answered "fault") and time to detect, separately;
 *   - localization: AIOpsLab's accuracy (1 for exactly [answer], 1/len for a longer list that
 *     contains it, else 0), plus exact top-1 and top-3;
 *   - rca: the component and the fault kind both right (AIOpsLab: system level + fault type);
 *     the AIOpsLab fault type (code-defect, misconfiguration, …) is reported beside it;
 *   - mitigation: whatever the agent did, the live application must be back to normal (the
 *     orchestrator probes it and passes the probe's verdict in).
 * Times are from the injection to the first submission or observation that counts.
 */
import type { FaultDescription } from '../types.ts';
import type { Answer, Problem, Task } from '../problems/problem.ts';

export interface MitigationProbe {
  ok: boolean;
  detail: string;
}

export interface Score {
  task: Task;
  /** The task's main figure in [0, 1] (detection/rca/mitigation: 0 or 1; localization: AIOpsLab accuracy). */
  score: number;
  success: boolean;
  detection?: { correct: boolean; faultFree: boolean; falseAlarm: boolean };
  localization?: { accuracy: number; top1: boolean; top3: boolean };
  rca?: { component: boolean; faultKind: boolean; faultType: boolean; correct: boolean };
  mitigation?: MitigationProbe;
  expected: { component: string; faultKind: string; faultType: string; mitigation: string };
  /** Why the verdict is what it is, one line. */
  reason: string;
}

export function localizationAccuracy(components: readonly string[], expected: string): { accuracy: number; top1: boolean; top3: boolean } {
  const list = [...new Set(components)];
  const hit = list.includes(expected);
  return { accuracy: hit ? 1 / list.length : 0, top1: list[0] === expected, top3: list.slice(0, 3).includes(expected) };
}


/** `d` is null for a fault-free problem (detection only). */
export function scoreAnswer(problem: Problem, d: FaultDescription | null, answer: Answer | null, probe?: MitigationProbe): Score {
  if (!d) {
    const expected = { component: 'none', faultKind: 'none', faultType: 'none', mitigation: 'none' };
    const base = { task: problem.task, expected };
    if (problem.task !== 'detection') return { ...base, score: 0, success: false, reason: `a fault-free ${problem.task} problem cannot be scored` };
    // No answer by the deadline is not a "no": an agent must say it.
    if (!answer || typeof answer.detected !== 'boolean') return { ...base, score: 0, success: false, detection: { correct: false, faultFree: true, falseAlarm: false }, reason: 'no answer submitted within the budget' };
    const correct = answer.detected === false;
    return { ...base, score: correct ? 1 : 0, success: correct, detection: { correct, faultFree: true, falseAlarm: !correct }, reason: correct ? 'no fault, and none reported' : 'false alarm: a fault reported where none was injected' };
  }
  const expected = {
    component: d.component,
    faultKind: d.kind,
    faultType: d.faultType,
    mitigation: d.mitigation.op === 'scale' ? `scale ${d.mitigation.target} ${d.mitigation.workers ?? ''}`.trim() : `${d.mitigation.op} ${d.mitigation.target}`,
  };
  const base = { task: problem.task, expected };
  if (problem.task === 'mitigation') {
    const ok = probe?.ok === true;
    return { ...base, score: ok ? 1 : 0, success: ok, mitigation: probe ?? { ok: false, detail: 'not probed' }, reason: probe ? probe.detail : 'the application was not probed' };
  }
  if (!answer) return { ...base, score: 0, success: false, reason: 'no answer submitted within the budget' };
  switch (problem.task) {
    case 'detection': {
      const correct = answer.detected === true;
      return { ...base, score: correct ? 1 : 0, success: correct, detection: { correct, faultFree: false, falseAlarm: false }, reason: correct ? 'fault reported' : 'fault missed (answered no)' };
    }
    case 'localization': {
      const l = localizationAccuracy((answer.components ?? []).map(String), d.component);
      return { ...base, score: l.accuracy, success: l.top1, localization: l, reason: `submitted [${(answer.components ?? []).join(', ')}], expected ${d.component}` };
    }
    case 'rca': {
      const component = answer.component === d.component;
      const faultKind = answer.faultKind === d.kind;
      const correct = component && faultKind;
      return {
        ...base,
        score: correct ? 1 : 0,
        success: correct,
        rca: { component, faultKind, faultType: faultKind, correct },
        reason: `submitted ${answer.component ?? '?'}/${answer.faultKind ?? '?'}, expected ${d.component}/${d.kind}`,
      };
    }
  }
}

/** Summary figures over many runs (the README table). */
export interface Summary {
  problems: number;
  byTask: Record<Task, { problems: number; accuracy: number; successes: number }>;
  /** Detection split by whether a fault was injected: missed faults and false alarms are separate figures. */
  detection: {
    /** Detection problems with a fault; how many were reported. */
    faulty: number;
    detected: number;
    /** Fault-free detection problems; how many were answered "fault" (false alarms). */
    faultFree: number;
    falseAlarms: number;
    /** falseAlarms / faultFree (null without fault-free problems). */
    falseAlarmRate: number | null;
    /** detected / faulty (null without faulty problems). */
    recall: number | null;
  };
  localizationTop1: number;
  localizationTop3: number;
  meanTtdS: number | null;
  meanTtlS: number | null;
  meanTtmS: number | null;
  steps: number;
  tokens: number;
}

export interface RunOutcome {
  problem: Problem;
  score: Score;
  ttdMs: number | null;
  ttlMs: number | null;
  ttmMs: number | null;
  steps: number;
  tokens: { input: number; output: number };
}

export function summarize(runs: readonly RunOutcome[]): Summary {
  const tasks: Task[] = ['detection', 'localization', 'rca', 'mitigation'];
  const byTask = Object.fromEntries(
    tasks.map((t) => {
      const rs = runs.filter((r) => r.problem.task === t);
      return [t, { problems: rs.length, accuracy: rs.length ? rs.reduce((s, r) => s + r.score.score, 0) / rs.length : 0, successes: rs.filter((r) => r.score.success).length }];
    }),
  ) as Summary['byTask'];
  const loc = runs.filter((r) => r.problem.task === 'localization');
  const det = runs.filter((r) => r.problem.task === 'detection');
  const faulty = det.filter((r) => r.problem.fault !== null);
  const quiet = det.filter((r) => r.problem.fault === null);
  const detected = faulty.filter((r) => r.score.success).length;
  const falseAlarms = quiet.filter((r) => r.score.detection?.falseAlarm === true).length;
  const mean = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length / 1000 : null;
  };
  return {
    problems: runs.length,
    byTask,
    detection: { faulty: faulty.length, detected, faultFree: quiet.length, falseAlarms, falseAlarmRate: quiet.length ? falseAlarms / quiet.length : null, recall: faulty.length ? detected / faulty.length : null },
    localizationTop1: loc.length ? loc.filter((r) => r.score.localization?.top1).length / loc.length : 0,
    localizationTop3: loc.length ? loc.filter((r) => r.score.localization?.top3).length / loc.length : 0,
    // Time to detect: detection problems with a fault that was reported (a fault-free one has none).
    meanTtdS: mean(faulty.map((r) => r.ttdMs)),
    meanTtlS: mean(runs.filter((r) => r.problem.task === 'localization' || r.problem.task === 'rca').map((r) => r.ttlMs)),
    meanTtmS: mean(runs.filter((r) => r.problem.task === 'mitigation').map((r) => r.ttmMs)),
    steps: runs.reduce((s, r) => s + r.steps, 0),
    tokens: runs.reduce((s, r) => s + r.tokens.input + r.tokens.output, 0),
  };
}

/** The headline figures of one summary (a run, or one repeat of it). */
export const FIGURES = ['detectionAccuracy', 'falseAlarmRate', 'ttdS', 'localizationTop1', 'localizationTop3', 'localizationAccuracy', 'rca', 'mitigation'] as const;
export type Figure = (typeof FIGURES)[number];

export function figuresOf(s: Summary): Record<Figure, number | null> {
  const t = s.byTask;
  return {
    detectionAccuracy: t.detection.problems ? t.detection.accuracy : null,
    falseAlarmRate: s.detection.falseAlarmRate,
    ttdS: s.meanTtdS,
    localizationTop1: t.localization.problems ? s.localizationTop1 : null,
    localizationTop3: t.localization.problems ? s.localizationTop3 : null,
    localizationAccuracy: t.localization.problems ? t.localization.accuracy : null,
    rca: t.rca.problems ? t.rca.accuracy : null,
    mitigation: t.mitigation.problems ? t.mitigation.accuracy : null,
  };
}

export interface Spread {
  /** Mean over the repeats that have the figure. */
  mean: number | null;
  /** Sample standard deviation (0 for one repeat). */
  sd: number | null;
  min: number | null;
  max: number | null;
  /** Per repeat, in order. */
  values: Array<number | null>;
}

/** Mean and spread of each figure over the repeats of a run (`--repeat N`). */
export function spreadOf(perRepeat: readonly Summary[]): Record<Figure, Spread> {
  const figs = perRepeat.map(figuresOf);
  return Object.fromEntries(
    FIGURES.map((k) => {
      const values = figs.map((f) => f[k]);
      const v = values.filter((x): x is number => x !== null);
      if (v.length === 0) return [k, { mean: null, sd: null, min: null, max: null, values }];
      const mean = v.reduce((a, b) => a + b, 0) / v.length;
      const sd = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
      return [k, { mean, sd, min: Math.min(...v), max: Math.max(...v), values }];
    }),
  ) as Record<Figure, Spread>;
}
