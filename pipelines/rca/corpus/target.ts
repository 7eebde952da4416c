/**
 * The symptom an incident of the corpus asks to explain, chosen from the data as a detector would
 * see it, never from the root cause: the most downstream component (by the call topology) with a
 * series whose peak in the fault window scores at least `minScore` robust SDs in the bad
 * direction; of its series, the user-facing ones (latency, errors, up) first, the highest peak
 * among them. Null when nothing moved (the fault left no visible symptom: such issues are skipped).
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

export function chooseTarget(normal: Frame, failure: Frame, fromRow: number, topo: LabTopology, minScore = 3): { node: string; metric: string; peak: number } | null {
  const models = fitModels(normal, failure.series.keys());
  const peaks = new Map<string, number>();
  for (const id of models.keys()) {
    let p = 0;
    for (let r = fromRow; r < failure.timestamps.length; r++) p = Math.max(p, scoreOf(models, failure, id, r));
    peaks.set(id, p);
  }
  const depth = depthOrder(topo);
  const comps = [...new Set([...peaks.keys()].map((id) => id.slice(0, id.lastIndexOf(':'))))].sort((a, b) => (depth.get(a) ?? 99) - (depth.get(b) ?? 99) || a.localeCompare(b));
  for (const c of comps) {
    const own = [...peaks].filter(([id, p]) => id.startsWith(`${c}:`) && p >= minScore).map(([id, p]) => ({ metric: id.slice(c.length + 1), p }));
    if (own.length === 0) continue;
    const facing = own.filter((x) => USER_FACING.includes(x.metric));
    const pick = (facing.length > 0 ? facing : own).sort((a, b) => b.p - a.p || a.metric.localeCompare(b.metric))[0]!;
    return { node: c, metric: pick.metric, peak: pick.p };
  }
  return null;
}
