/**
 * The rca stage's options, declared once (core/spec.ts): the ranking options shared by `rca`,
 * `rca eval` and `rca run` (`rankSpec`), and the online consumer's (`consumerSpec`). CLI options,
 * validation with paths (`rca.<key>`) and the README tables come from here.
 */
import { defineSpec, f, type Options } from '../core/spec.ts';

export const RANK_METHODS = ['hybrid', 'traversal', 'attribution', 'random-walk'] as const;

export const rankSpec = defineSpec(
  'rca',
  {
    targetThreshold: f.number({ doc: 'Least score (robust SDs, bad direction) of the affected node for anything to be reported.', default: 2, min: 0 }),
    evidenceThreshold: f.number({ doc: 'Least score of the target or one of its causal ancestors for an incident to be explained (one strong signal).', default: 5, min: 0 }),
    nodeThreshold: f.number({ doc: 'traversal, attribution, random-walk: least score of a node to be a candidate cause.', default: 2, min: 0 }),
    componentThreshold: f.number({ doc: 'hybrid: a component is anomalous when its strongest series (any metric with a bad direction) reaches this.', default: 3, min: 0 }),
    explainRatio: f.number({ doc: 'hybrid: an anomalous component upstream explains another only when its evidence is at least this share of the other\'s.', default: 0.5, min: 0 }),
    explainCap: f.number({ doc: 'hybrid: scores are compared in the explain test only up to this many robust SDs (0: no cap).', default: 0, min: 0, advanced: true }),
    residualEvidence: f.boolean({ doc: 'hybrid: a series in the graph counts with the smaller of its marginal score and its attribution residual.', default: true, advanced: true }),
    minSupport: f.number({ doc: 'hybrid: a series is evidence only when it has a value in at least this share of the normal rows (a dependency called now and then has no basis for normal).', default: 0.5, min: 0, max: 1, advanced: true }),
    countFailures: f.boolean({ doc: 'hybrid: a failure ratio (availability, errors) with a request count is also compared as failed requests in the explain test (the upstream component explains when it failed more).', default: true, advanced: true }),
    windowEvidence: f.boolean({ doc: 'hybrid: a series counts with its score at the analysed row or the strongest it held on two consecutive rows since the incident start (a frozen or restarted component may be back by the symptom\'s peak).', default: true, advanced: true }),
    maxCauses: f.int({ doc: 'Causes returned at most.', default: 10, min: 1, advanced: true }),
    row: f.enum(['peak', 'first'] as const, { doc: 'Row of the incident window analysed: the target\'s peak, or the first row where it is anomalous.', default: 'peak', advanced: true }),
    discountPreexisting: f.boolean({ doc: 'A non-target node\'s score is reduced by its highest score before the incident start.', default: true, advanced: true }),
  },
  { summary: 'Root-cause ranking' },
);

export const consumerSpec = defineSpec(
  'rca',
  {
    method: f.enum(RANK_METHODS, { doc: 'Ranking method (hybrid: traversal structure with attribution evidence; chosen on the lab corpus\'s train split).', default: 'hybrid' }),
    groupId: f.string({ doc: 'Consumer group on the incidents topic (prefixed like topics).', default: 'panoptes-rca', flag: 'group', nonEmpty: true }),
    instanceId: f.string({ doc: 'Instance name (default: the host name).', flag: 'instance', nonEmpty: true }),
    graphName: f.string({ doc: 'Follow only this graph name on causal-graphs (default: the latest accepted of any name).', placeholder: 'NAME', nonEmpty: true }),
    componentLabel: f.string({ doc: 'Series label naming the component of node component:metric (fallbacks: service, job).', default: 'component', nonEmpty: true }),
    metricLabel: f.string({ doc: 'Series label naming the metric of node component:metric (fallback: __name__).', default: 'signal', nonEmpty: true }),
    debounceMs: f.int({ doc: 'Quiet time (ms) after an incident\'s latest record before it is analysed.', default: 2000, min: 0 }),
    maxDelayMs: f.int({ doc: 'Longest wait (ms) of a pending incident under continuous updates.', default: 10_000, min: 0 }),
    stepMs: f.int({ doc: 'Sample alignment step (ms) of the metric windows.', default: 1000, min: 1 }),
    windowMs: f.int({ doc: 'Metric history (ms) kept per node.', default: 1_800_000, min: 1 }),
    normalGapMs: f.int({ doc: 'History this close (ms) before the incident is not used as normal.', default: 5000, min: 0 }),
    catchUpTimeoutMs: f.int({ doc: 'Longest wait (ms) for the metrics tail to reach the topic\'s end before an analysis.', default: 5000, min: 0, advanced: true }),
    maxPointsPerNode: f.int({ doc: 'Aligned samples kept per series at most.', default: 3600, min: 1, advanced: true }),
    maxNodes: f.int({ doc: 'Nodes with metric windows at most.', default: 5000, min: 1, advanced: true }),
  },
  { summary: 'The online rca consumer: incidents + metric windows + causal-graphs → rca' },
);

/**
 * Everything `rca run` takes (and `stages.rca` of a pipeline file): the graph file used until one
 * arrives on causal-graphs, the consumer's options and the ranking's.
 */
export const rcaRunSpec = defineSpec(
  'rca',
  {
    graph: f.string({ doc: 'Causal graph JSON used until a good graph arrives on causal-graphs.', placeholder: 'FILE', nonEmpty: true }),
    ...consumerSpec.fields,
    ...rankSpec.fields,
  },
  { summary: consumerSpec.summary },
);

export type RcaRunOptions = Options<typeof rcaRunSpec.fields>;
