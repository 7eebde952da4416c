/**
 * The llm stage's front door for other folders (only re-exports; the stage's own files import each
 * other directly): the client every caller uses, its accounting, prompts, and the Argos agents'
 * answer schemas with their offline handlers.
 */
export { createLlmClient } from './client.ts';
export type { LlmClient, LlmClientOptions } from './client.ts';
export type { UsageSnapshot } from './accounting.ts';
export { prompt } from './prompts.ts';
export type { PromptVars } from './prompts.ts';
export { argosAgents, detectionAnswerSchema, repairAnswerSchema, reviewAnswerSchema } from './argos-answers.ts';
export type { DetectionAnswer, RepairAnswer, ReviewAnswer } from './argos-answers.ts';
export type { OfflineHandler } from './offline-provider.ts';
export type * from './types.ts';
