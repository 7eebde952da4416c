/**
 * The detect stage's front door: the only module other folders import (the boundary check in
 * `npm run check:boundaries` enforces it). Inside the stage:
 * - `rules/`: the rule language (lexer, parser, checker, compiler, codegen, printer), rule files
 *   and the Rule records of the `rules` topic;
 * - `engine/`: the per-series detector, its windows, the rule runner, explanations and the online
 *   state (OnlineDetector);
 * - `base/`: the base detectors;
 * - `spec.ts` (options), `consumer.ts` (Kafka wiring), `cli.ts` / `cli-online.ts` (commands).
 */

// Rules: the language and rule files.
export type { CheckedRule, RuleKind, RuleSpec, Severity } from './rules/rule.ts';
export { defineRule, prepareRule, ruleVersion, ruleKinds, severities } from './rules/rule.ts';
export { parseRuleFile } from './rules/rule-file.ts';
export type { RuleFileResult } from './rules/rule-file.ts';
export { loadRules } from './rules/load.ts';
export { buildRuleSet } from './rules/rule-set.ts';
export type { CheckOptions } from './rules/checker.ts';
export { functionList, functions } from './rules/functions.ts';
export type { FunctionSpec } from './rules/functions.ts';
export type { Diagnostic } from './rules/diagnostics.ts';
export { RuleDiagnosticsError, RuleSyntaxError, formatDiagnostic } from './rules/diagnostics.ts';
export { MAX_RULE_CHARS, MAX_RULE_DEPTH } from './rules/parser.ts';
export { RuleRuntimeError, TRUE, FALSE, UNKNOWN } from './rules/program.ts';
export type { RuleProgram } from './rules/program.ts';
export { compileProgram } from './rules/compiler.ts';
export { RuleSet, toRuleRecord } from './rules/rule-records.ts';
export type { DeployedRule, RuleUpdate } from './rules/rule-records.ts';

// Engine: detection over one series and the online state.
export { SeriesDetector } from './engine/series-detector.ts';
export type { Decision, ReloadSummary, RuleFault, SampleStatus, SeriesDetectorOptions, SeriesStats } from './engine/series-detector.ts';
export type { Backend, RuleFiring } from './engine/rule-runner.ts';
export type { ClauseValue } from './engine/explain.ts';
export { fmt } from './engine/explain.ts';
export { combineLabels } from './engine/aggregate.ts';
export { DetectMetrics } from './engine/metrics.ts';
export { OrderStats } from './engine/windows/order-stats.ts';
export { anomalyRecord, toAnomaly } from './engine/anomaly.ts';
export type { AnomalyRecord } from './engine/anomaly.ts';
export { OnlineDetector } from './engine/online.ts';

// Base detectors.
export type { BaseDetector, BaseResult } from './base/types.ts';
export { DEFAULT_BASE_DETECTOR, baseDetectorNames, createBaseDetector, ensembleDefaults } from './base/index.ts';
export { RestGate, combineTrace, lastAlarmBefore, traceAlarms, traceBase, traceOfLabels } from './base/rest.ts';
export type { BaseTrace } from './base/rest.ts';
export type { BaseDetectorName } from './base/index.ts';
export { RobustZDetector, robustZDefaults } from './base/robust-z.ts';
export { EwmaForecastDetector, ewmaForecastDefaults } from './base/ewma-forecast.ts';

// Options and the online detector.
export { detectSpec, baseOptionsOf } from './spec.ts';
export type { DetectOptions } from './spec.ts';
export { startDetector, startDetectorFromSpec } from './consumer.ts';
export type { DetectorOptions, RunningDetector } from './consumer.ts';
