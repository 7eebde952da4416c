/** Turns a model's text into a schema-valid value, or an LlmOutputError a repair loop can feed back. */

import { LlmOutputError } from '../core/errors.ts';
import { extractJson } from './json-extract.ts';
import type { JsonSchema } from './types.ts';
import { validateSchema } from './validate-schema.ts';

export function parseJsonAnswer<T>(text: string, schema: JsonSchema, agent: string): T {
  const got = extractJson(text);
  if (!got.ok) {
    throw new LlmOutputError(`answer of '${agent}' is not JSON: ${got.problem}`, text, [got.problem], { details: { kind: 'invalid_output', agent } });
  }
  const problems = validateSchema(schema, got.value);
  if (problems.length > 0) {
    throw new LlmOutputError(`answer of '${agent}' does not match the schema: ${problems.slice(0, 5).join('; ')}`, text, problems, {
      details: { kind: 'invalid_output', agent },
    });
  }
  return got.value as T;
}
