/**
 * The training / held-out split of a problem list, so the agent's settings are chosen on one half
 * and scored on the other (issue 20). Deterministic and balanced:
 *   1. problems are grouped into strata: (task, with a fault), and fault-free ones by workload shape
 *      (so every shape's quiet load is in both halves);
 *   2. within a stratum they are ordered by the SHA-256 of their id;
 *   3. alternately assigned: the 1st, 3rd, 5th … to training, the 2nd, 4th … to held-out.
 * So each task, and the fault-free detection problems, are split about evenly (a stratum's odd one
 * goes to training: the shipped set's 60 split 33 / 27), and which problem
 * lands where depends only on its id and task (never on the file's name or order). In the shipped
 * set each (fault kind, component) pair is one problem, so the held-out half holds pairs the agent
 * was never tuned on.
 */
import { createHash } from 'node:crypto';
import type { Problem } from './problem.ts';

export const SPLITS = ['train', 'held-out', 'all'] as const;
export type Split = (typeof SPLITS)[number];

const key = (id: string) => createHash('sha256').update(id).digest('hex');

/** Which half each problem id belongs to. */
export function splitOf(problems: readonly Problem[]): Map<string, 'train' | 'held-out'> {
  const strata = new Map<string, Problem[]>();
  for (const p of problems) {
    const s = p.fault ? `${p.task}/fault` : `${p.task}/none/${p.workload.shape}`;
    strata.set(s, [...(strata.get(s) ?? []), p]);
  }
  const out = new Map<string, 'train' | 'held-out'>();
  for (const ps of strata.values()) {
    [...ps].sort((a, b) => (key(a.id) < key(b.id) ? -1 : 1)).forEach((p, i) => out.set(p.id, i % 2 === 0 ? 'train' : 'held-out'));
  }
  return out;
}

export function selectSplit(problems: readonly Problem[], split: Split): Problem[] {
  if (split === 'all') return [...problems];
  const s = splitOf(problems);
  return problems.filter((p) => s.get(p.id) === split);
}
