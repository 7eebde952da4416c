/**
 * The symptom an incident of the corpus asks to explain, chosen from the data as a detector would
 * see it, never from the root cause. A series' evidence is its peak score in the fault window
 * (robust SDs in the bad direction against the no-incident data) minus its peak in the rows before
 * the injection (drift that predates the fault is not news). Then:
 * 1. of the user-facing series (latency, errors, up) with evidence ≥ `minScore`, one of the most
 *    downstream component (by the call topology), its strongest;
 * 2. otherwise the strongest series of any kind (a leak or a busy loop that users do not feel yet);
 * 3. otherwise null: the fault left no visible symptom, and the issue is skipped.
 */
import type { Frame } from '../frame.ts';
import { fitModels, scoreOf } from '../rank/scores.ts';
import type { LabTopology } from './plan.ts';

const USER_FACING = ['latency', 'errors', 'up'];

/** Callers before callees: frontend 0, its callees 1, … resources last. */
export function depthOrder(topo: LabTopology): Map<string, number> {
  const depth = new Map<string, number>();
  const roots = topo.services.filter((s) => !topo.services.some((o) => (topo.calls[o] ?? []).includes(s)));
  const queue = roots.map((r) => [r, 0] as [string, number]);
  while (queue.length > 0) {
    const [c, d] = queue.shift()!;
    if ((depth.get(c) ?? -1) >= d) continue;
    depth.set(c, d);
    for (const n of [...(topo.calls[c] ?? []), ...(topo.stores[c] ?? [])]) queue.push([n, d + 1]);
  }
  return depth;
}

export function chooseTarget(normal: Frame, failure: Frame, fromRow: number, topo: LabTopology, minScore = 5): { node: string; metric: string; peak: number } | null {
  const models = fitModels(normal, failure.series.keys());
  const evidence = new Map<string, number>();
  for (const id of models.keys()) {
    let peak = 0;
    for (let r = fromRow; r < failure.timestamps.length; r++) peak = Math.max(peak, scoreOf(models, failure, id, r));
    let before = 0;
    for (let r = 0; r < fromRow; r++) before = Math.max(before, scoreOf(models, failure, id, r));
    evidence.set(id, peak - before);
  }
  const depth = depthOrder(topo);
  const split = (id: string) => ({ c: id.slice(0, id.lastIndexOf(':')), m: id.slice(id.lastIndexOf(':') + 1) });
  const strong = [...evidence].filter(([, e]) => e >= minScore).map(([id, e]) => ({ ...split(id), e }));
  const facing = strong.filter((x) => USER_FACING.includes(x.m));
  const pool = facing.length > 0 ? facing : strong;
  if (pool.length === 0) return null;
  const best = pool.sort((a, b) => (facing.length > 0 ? (depth.get(a.c) ?? 99) - (depth.get(b.c) ?? 99) : 0) || b.e - a.e || a.c.localeCompare(b.c) || a.m.localeCompare(b.m))[0]!;
  return { node: best.c, metric: best.m, peak: best.e };
}

export interface RelabelResult {
  issues: number;
  changed: number;
  /** Issues moved to `<scenario>/no-symptom/` (no series moved enough). */
  noSymptom: number;
}
