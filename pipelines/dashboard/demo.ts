/** Placeholder until the demo lands. */
import type { Runtime } from '../core/runtime.ts';
export async function startDemo(_rt: Runtime, _o: { signal: AbortSignal; log: (l: string) => void }): Promise<{ stop(): Promise<void> }> {
  return { async stop() {} };
}
