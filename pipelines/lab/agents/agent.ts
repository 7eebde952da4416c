/** What every lab agent implements: work on one problem through the cloud interface until it submits or the budget ends. */
import type { AgentCloud } from '../interface/cloud.ts';

export interface LabAgent {
  readonly name: string;
  /** Resolves when the agent submitted or gave up; must return by `deadlineMs` (epoch ms) or when `signal` aborts. */
  solve(cloud: AgentCloud, deadlineMs: number, signal: AbortSignal): Promise<void>;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
