/**
 * Wiring for a training run: one llm client (provider `openai` when configured, else `offline`
 * with this folder's agents as handlers), one session, and the adapters the CLI and the Argos
 * evaluation protocol use.
 */
import type { Registry } from 'prom-client';
import { createLlmClient, type LlmClient, type LlmClientOptions } from '../../llm/index.ts';
import type { CheckedRule } from '../../detect/index.ts';
import type { LabelledSeries } from '../data/series.ts';
import type { ArgosContext, BaseFn, LabelFn, RuleSet } from '../eval/detector.ts';
import { ArgosAgents } from './agents.ts';
import { createOfflineSession, offlineHandlers } from './offline-agents.ts';
import type { OfflineSession } from './offline-agents.ts';
import type { SeriesTrainingReport } from './report.ts';
import { runRule } from './rule-labels.ts';
import { trainSeries } from './trainer.ts';
import type { TrainContext, TrainOptions } from './trainer.ts';

export interface TrainingRunOptions {
  registry: Registry;
  /** Force a provider; default: from the environment (`openai` when OPENAI_API_KEY is set). */
  provider?: 'offline' | 'openai';
  env?: NodeJS.ProcessEnv;
  /** Extra client options (tests wire a replay endpoint here). */
  client?: Partial<Omit<LlmClientOptions, 'registry' | 'offline'>>;
  maxTokensPerCall?: number;
  signal?: AbortSignal;
}

export interface TrainingRun extends TrainContext {
  llm: LlmClient;
}

export function createTrainingRun(o: TrainingRunOptions): TrainingRun {
  const session: OfflineSession = createOfflineSession();
  const llm = createLlmClient({
    registry: o.registry,
    offline: offlineHandlers(session),
    ...(o.env ? { env: o.env } : {}),
    ...o.client,
    config: { ...o.client?.config, ...(o.provider ? { provider: o.provider } : {}) },
  });
  return fromClient(llm, session, o);
}

/** A run over an existing client (the replay tests build theirs with `replayClient`). */
export function fromClient(llm: LlmClient, session: OfflineSession = createOfflineSession(), o: { maxTokensPerCall?: number; signal?: AbortSignal } = {}): TrainingRun {
  const agents = new ArgosAgents(llm, { ...(o.maxTokensPerCall ? { maxTokens: o.maxTokensPerCall } : {}), ...(o.signal ? { signal: o.signal } : {}) });
  const model = llm.config.defaultModel;
  return { llm, agents, session, provider: llm.name === 'offline' ? 'offline' : `openai${model ? ` (${model})` : ''}` };
}

/** Label functions for pipelines/train's Argos protocol: FN rules fire 1, FP rules give 0 where they veto. */
export function ruleSetOf(rules: readonly CheckedRule[]): RuleSet {
  const fired = (r: CheckedRule) => (s: { timestamps: Float64Array; values: Float64Array }) => runRule(r, s.timestamps, s.values).fired;
  return {
    fnRules: rules.filter((r) => r.spec.kind === 'FN').map((r): LabelFn => fired(r)),
    fpRules: rules.filter((r) => r.spec.kind === 'FP').map((r): LabelFn => (s) => fired(r)(s).map((x) => x ^ 1)),
  };
}

/**
 * `trainRules` for runArgosEval: trains on the protocol's train split (labels of the test split
 * are never passed in), publishes through the accuracy guarantee, and keeps each report.
 */
export function argosRuleTrainer(
  run: TrainingRun,
  base: BaseFn,
  options: Partial<TrainOptions>,
  reports: SeriesTrainingReport[],
): (series: LabelledSeries, ctx: ArgosContext) => Promise<RuleSet> {
  return async (series, ctx) => {
    const baseLabels = base(series, ctx);
    const r = await trainSeries(
      { name: series.name, timestamps: series.timestamps, values: series.values, truth: ctx.trainLabels, base: baseLabels, trainEnd: ctx.trainEnd },
      run,
      options,
    );
    reports.push(r.report);
    return ruleSetOf(r.published);
  };
}
