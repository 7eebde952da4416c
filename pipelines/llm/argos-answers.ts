/**
 * What the Argos agents answer (prompts/argos-*.v1.md), as JSON Schemas for `chatJson`. The rule
 * text itself is only a string here: the rule compiler (pipelines/detect) is what judges it.
 */

import type { JsonSchema } from './types.ts';

export interface DetectionAnswer {
  kind: 'FN' | 'FP';
  expr: string;
  description: string;
  rationale: string;
}

export interface RepairAnswer {
  expr: string;
  description: string;
  fix: string;
}

export interface ReviewAnswer {
  decision: 'keep' | 'revise' | 'revert';
  /** Present with `revise`. */
  expr?: string;
  reason: string;
}

const expr = { type: 'string', minLength: 1, maxLength: 2000 };
const text = { type: 'string', maxLength: 2000 };

export const detectionAnswerSchema: JsonSchema = {
  type: 'object',
  required: ['kind', 'expr', 'description', 'rationale'],
  additionalProperties: false,
  properties: { kind: { enum: ['FN', 'FP'] }, expr, description: text, rationale: text },
};

export const repairAnswerSchema: JsonSchema = {
  type: 'object',
  required: ['expr', 'description', 'fix'],
  additionalProperties: false,
  properties: { expr, description: text, fix: text },
};

export const reviewAnswerSchema: JsonSchema = {
  type: 'object',
  required: ['decision', 'reason'],
  additionalProperties: false,
  properties: { decision: { enum: ['keep', 'revise', 'revert'] }, expr, reason: text },
  // A revision without the revised rule is useless to the loop.
  anyOf: [{ properties: { decision: { const: 'revise' } }, required: ['expr'] }, { properties: { decision: { enum: ['keep', 'revert'] } } }],
};

/** Agent names the Argos prompts are written for (also their PANOPTES_LLM_MODEL_<AGENT> keys). */
export const argosAgents = { detection: 'argos-detection', repair: 'argos-repair', review: 'argos-review' } as const;
