/** The llm stage's front door: what other folders may import. */
export { createLlmClient, type LlmClient } from './client.ts';
export type { ChatMessage, JsonSchema } from './types.ts';
