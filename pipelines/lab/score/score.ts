/**
 * AIOpsLab's evaluators, as pure functions of the problem, the expected labels (the injector's
 * description of the fault) and what the agent submitted:
 *   - detection: correct when the agent says there is a fault (every problem injects one);
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
  detection?: { correct: boolean };
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


export function scoreAnswer(problem: Problem, d: FaultDescription, answer: Answer | null, probe?: MitigationProbe): Score {
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
      return { ...base, score: correct ? 1 : 0, success: correct, detection: { correct }, reason: correct ? 'fault reported' : 'fault missed (answered no)' };
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
  const mean = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length / 1000 : null;
  };
  return {
    problems: runs.length,
    byTask,
    localizationTop1: loc.length ? loc.filter((r) => r.score.localization?.top1).length / loc.length : 0,
    localizationTop3: loc.length ? loc.filter((r) => r.score.localization?.top3).length / loc.length : 0,
    meanTtdS: mean(runs.map((r) => r.ttdMs)),
    meanTtlS: mean(runs.filter((r) => r.problem.task === 'localization' || r.problem.task === 'rca').map((r) => r.ttlMs)),
    meanTtmS: mean(runs.filter((r) => r.problem.task === 'mitigation').map((r) => r.ttmMs)),
    steps: runs.reduce((s, r) => s + r.steps, 0),
    tokens: runs.reduce((s, r) => s + r.tokens.input + r.tokens.output, 0),
  };
}
