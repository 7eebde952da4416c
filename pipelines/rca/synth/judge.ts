/**
 * The question every Atlas agent answers for a pair of (component, metric) nodes it can see: does
 * A cause B, is there no direct influence, or does B cause A? Providers implement `CausalJudge`:
 * the deterministic offline one (offline-judge.ts) and the LLM one (llm-judge.ts).
 */
import type { ComponentKind } from '../catalog.ts';

export type Interaction = 'request→service' | 'request→resource' | 'service→resource' | 'service→service' | 'within';

/** Atlas considers only these caller → callee interactions (plus metric pairs inside one component). */
export function interactionOf(caller: ComponentKind, callee: ComponentKind): Interaction | null {
  if (caller === 'request' && callee === 'service') return 'request→service';
  if (caller === 'request' && callee === 'resource') return 'request→resource';
  if (caller === 'service' && callee === 'resource') return 'service→resource';
  if (caller === 'service' && callee === 'service') return 'service→service';
  return null;
}

export type Verdict = 'A_CAUSES_B' | 'NONE' | 'B_CAUSES_A';
export const verdicts: readonly Verdict[] = ['A_CAUSES_B', 'NONE', 'B_CAUSES_A'];

export interface NodeView {
  component: string;
  kind: ComponentKind;
  type: string;
  metric: string;
  /** What the metric means, from the catalog page (may be empty). */
  metricDoc: string;
  /** The component's page text (what it is). */
  componentDoc: string;
}

export interface PairQuestion {
  interaction: Interaction;
  /** For interactions, A is the caller and B the callee. */
  a: NodeView;
  b: NodeView;
  /** Why A calls B, from the catalog ('' within a component). */
  relation: string;
}

export interface JudgeAnswer {
  verdict: Verdict;
  /** Share of votes for the verdict (1 for the offline judge). */
  confidence: number;
  reason: string;
}

export interface CausalJudge {
  readonly name: string;
  judge(q: PairQuestion): Promise<JudgeAnswer>;
}

/** Answers are reused across components of the same types (Atlas's cache by component type). */
export function cacheKey(q: PairQuestion): string {
  return [q.interaction, q.a.kind, q.a.type, q.a.metric, q.b.kind, q.b.type, q.b.metric].join('|');
}
