/**
 * The symptom an incident of the corpus asks to explain, chosen from the data as a detector would
 * see it, never from the root cause. A series' evidence is its peak score in the fault window
 * (robust SDs in the bad direction against the no-incident data) minus its peak in the rows before
 * the injection (drift that predates the fault is not news). Then, from the strongest series S:
 * of the user-facing series (latency, errors, up) with evidence ≥ `minScore` on S's component or
 * on a component that calls it (directly or not), one of the most downstream component, its
 * strongest; if there is none, S itself (a leak or a busy loop that users do not feel yet). Null
 * when nothing reaches `minScore`: the fault left no visible symptom, and the issue is skipped.
 * (An earlier rule took the most downstream user-facing series anywhere; on the train split it
 * picked noise — a 6-SD blip of an unrelated service — for faults users did not feel.)
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

/** Components that call `comp` directly or through others (stores count as calls). */
export function callersOf(topo: LabTopology, comp: string): Set<string> {
  const out = new Set<string>();
  let frontier = [comp];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const c of frontier) for (const s of topo.services) if (!out.has(s) && [...(topo.calls[s] ?? []), ...(topo.stores[s] ?? [])].includes(c)) {
      out.add(s);
      next.push(s);
    }
    frontier = next;
  }
  return out;
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
  if (strong.length === 0) return null;
  const top = [...strong].sort((a, b) => b.e - a.e || a.c.localeCompare(b.c) || a.m.localeCompare(b.m))[0]!;
  const callers = callersOf(topo, top.c);
  const facing = strong.filter((x) => USER_FACING.includes(x.m) && (x.c === top.c || callers.has(x.c)));
  const best = facing.length > 0 ? facing.sort((a, b) => (depth.get(a.c) ?? 99) - (depth.get(b.c) ?? 99) || b.e - a.e || a.c.localeCompare(b.c) || a.m.localeCompare(b.m))[0]! : top;
  return { node: best.c, metric: best.m, peak: best.e };
}

export interface RelabelResult {
  issues: number;
  changed: number;
  /** Issues moved to `<scenario>/no-symptom/` (no series moved enough). */
  noSymptom: number;
}
