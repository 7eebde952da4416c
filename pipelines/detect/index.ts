/** The detect stage's public surface, for the consumer wiring and other stages. */
export type { CheckedRule, RuleKind, RuleSpec, Severity } from './rule.ts';
export { defineRule, prepareRule, ruleVersion } from './rule.ts';
export { parseRuleFile } from './rule-file.ts';
export type { RuleFileResult } from './rule-file.ts';
export { buildRuleSet } from './rule-set.ts';
export type { CheckOptions } from './checker.ts';
export type { Diagnostic } from './diagnostics.ts';
export { RuleDiagnosticsError, RuleSyntaxError, formatDiagnostic } from './diagnostics.ts';
export { RuleRuntimeError } from './program.ts';
export { SeriesDetector } from './series-detector.ts';
export type { Decision, ReloadSummary, RuleFault, SampleStatus, SeriesDetectorOptions, SeriesStats } from './series-detector.ts';
export type { Backend, RuleFiring } from './rule-runner.ts';
export type { ClauseValue } from './explain.ts';
export { combineLabels } from './aggregate.ts';
export { DetectMetrics } from './metrics.ts';
export type { BaseDetector, BaseResult } from './base/types.ts';
export { baseDetectorNames, createBaseDetector } from './base/index.ts';
export { RobustZDetector, robustZDefaults } from './base/robust-z.ts';
export { EwmaForecastDetector, ewmaForecastDefaults } from './base/ewma-forecast.ts';
export { parseSeriesCsv, parseTimestamp } from './csv.ts';
// For the lab (pipelines/lab/pipeline), which runs the detector next to its own stages.
export { toRuleRecord } from './rule-records.ts';
export { startDetector } from './consumer.ts';
export type { DetectorOptions, RunningDetector } from './consumer.ts';
