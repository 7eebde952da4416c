/**
 * Hybrid ranking: traversal's structure on the component graph, attribution's evidence per
 * component. It closes the blind spot of node-level methods, which only consider ancestors of the
 * target whose own series in the graph's metric are anomalous: a crashed process has no error
 * ratio at all (its `up` fell), and a failing dependency may barely move its own availability.
 *
 * - Candidates: the target's component and EVERY component upstream of it on the causal graph
 *   (an edge u → v between series makes comp(u) a parent of comp(v)), anomalous or not.
 * - Evidence of a component: the strongest of its series at the analysed row (with `windowEvidence`:
 *   or the strongest it held on two consecutive rows from the incident start up to that row, as the
 *   symptom's peak may come after the faulty component is back — a frozen process resumed, a
 *   restarted one answering again; scores.ts `windowPeaks`), over
 *   every metric the telemetry has for it (not only the graph's), counted in the metric's bad
 *   direction and discounted by what it already showed before the incident started. A series in the graph counts with the
 *   smaller of its marginal score and its attribution residual (what its causal parents leave
 *   unexplained), so a change passed on from upstream is not taken for a change of its own.
 *   Metrics with no known bad direction (traffic, requests) are not evidence.
 *   A series present in fewer than `minSupport` of the normal rows is not evidence either.
 * - Structure: traversal on the component graph, from the target up through anomalous components
 *   (strongest marginal score ≥ threshold). An anomalous component upstream explains another when
 *   its marginal score — over its series that are direct causes of the other's anomalous series
 *   on the graph: a caller's latency is no cause of its callee's, its traffic is — is at least
 *   `explainRatio` of the other's evidence, or — when the other's
 *   evidence is a failure ratio — when it failed more requests beyond normal than the other did
 *   (`countFailures`). Ranking, in tiers: (1) roots: reached anomalous components with no
 *   reached anomalous component upstream, strongest first; (2) suspects: components right upstream
 *   of a root that are NOT anomalous — a fault that barely shows on its own component still sits
 *   there, and nothing else explains the root's anomaly (those whose series went missing at the
 *   analysed row — a restart — first); (3) reached anomalous components with an
 *   anomalous one upstream; (4) anomalous components the walk did not reach (every path to the
 *   target passes a normal component); (5) every other upstream component, strongest evidence
 *   first, then nearest to the target.
 * Each candidate says why: its tier, its strongest series, and the causal path to the target.
 */
import type { Frame } from '../frame.ts';
import type { GraphIndex } from '../../graph/index.ts';
import { splitNodeId } from '../../graph/index.ts';
import { metricDirection } from './anomaly.ts';
import { fitMechanism, residualScore } from './attribution.ts';
import { causalPath, type WindowPeaks } from './scores.ts';
import type { Candidate } from './traversal.ts';

export interface HybridOptions {
  /** A component is anomalous from this evidence on. */
  threshold: number;
  /** Use the attribution residual for series in the graph (min of marginal and residual). */
  residual: boolean;
  /** Tier 2 (non-anomalous parents of roots) ranks before tier 3; false puts it after. */
  suspectsFirst: boolean;
  /** An anomalous component upstream explains c only when its evidence is at least this share of c's. */
  explainRatio: number;
  /** Scores are compared in the explain test only up to this cap (robust SDs): beyond it both are "certainly anomalous". */
  explainCap: number;
  /** A series is evidence only when it has a value in at least this share of the normal rows (0: any series with a model). */
  minSupport: number;
  /** Failure ratios (availability, errors) with a request count are also compared as failed requests in the explain test (upstream failed more). */
  countFailures: boolean;
}


export const defaultHybridOptions: HybridOptions = { threshold: 3, residual: true, suspectsFirst: true, explainRatio: 0.5, explainCap: Infinity, minSupport: 0.5, countFailures: true };

/**
 * Failed-request counts within this share of each other are equal (`countFailures`): they are
 * products of a ratio and a rate, each stored rounded (6 significant digits in the corpus's CSV),
 * so PostgreSQL failing 0.0277778 of 24 calls/s (0.6666672) is the same count as reservation
 * failing 1 of 0.666667 requests/s, not more.
 */
export const COUNT_TIE = 1e-3;

/** A failure ratio: a success share (availability) or a failure share (errors); anything else is not. */
function failureRatioKind(metric: string): 'success' | 'failure' | null {
  const m = metric.toLowerCase();
  if (/(availability|success)/.test(m)) return 'success';
  if (/(error|fail)/.test(m) && !/(count|total)/.test(m)) return 'failure';
  return null;
}

/** The request count (or rate) series of a component, when the telemetry has one. */
function volumeSeries(ids: readonly string[]): string | null {
  return ids.filter((id) => /^(requests|traffic|throughput|calls)$/i.test(splitNodeId(id).metric)).sort()[0] ?? null;
}

/**
 * Failed requests of a component at a row beyond its normal median, from a failure ratio and the
 * request volume: (share failed) × requests. A ratio is in percent when its values exceed 1.
 * What a callee passes to its callers is failed requests, not percentage points: a load balancer
 * that forwarded 24 requests and failed 2 of them (−8 points) is explained by the service behind
 * it failing 21 of 1013 (−2 points). Null when the component has no ratio or no volume.
 */
export function excessFailures(normal: Frame, failure: Frame, ratioId: string, volumeId: string, row: number): number | null {
  const kind = failureRatioKind(splitNodeId(ratioId).metric);
  if (!kind) return null;
  const nr = normal.series.get(ratioId) ?? [];
  const nv = normal.series.get(volumeId) ?? [];
  const v = failure.series.get(ratioId)?.[row];
  const q = failure.series.get(volumeId)?.[row];
  if (v === undefined || q === undefined || !Number.isFinite(v) || !Number.isFinite(q)) return null;
  const percent = nr.reduce((m, x) => (Number.isFinite(x) && x > m ? x : m), v) > 1;
  const unit = percent ? 100 : 1;
  const failed = (r: number, vol: number) => Math.max(0, kind === 'success' ? 1 - r / unit : r / unit) * Math.max(0, vol);
  const base: number[] = [];
  for (let i = 0; i < Math.min(nr.length, nv.length); i++) if (Number.isFinite(nr[i]!) && Number.isFinite(nv[i]!)) base.push(failed(nr[i]!, nv[i]!));
  if (base.length === 0) return null;
  base.sort((a, b) => a - b);
  return Math.max(0, failed(v, q) - base[base.length >> 1]!);
}

interface CompEvidence {
  comp: string;
  score: number;
  /** The series behind the score (null: no series with evidence). */
  series: string | null;
  marginal: number;
}

/** comp → parent comps, from the node graph. */
export function componentParents(idx: GraphIndex): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const id of idx.nodes.keys()) {
    const c = splitNodeId(id).component;
    if (!out.has(c)) out.set(c, new Set());
    for (const p of idx.parents.get(id) ?? []) {
      const pc = splitNodeId(p).component;
      if (pc !== c) out.get(c)!.add(pc);
    }
  }
  return out;
}

function upstreamOf(parents: Map<string, Set<string>>, comp: string): Map<string, number> {
  const dist = new Map<string, number>();
  let frontier = [comp];
  for (let d = 1; frontier.length > 0; d++) {
    const next: string[] = [];
    for (const c of frontier) {
      for (const p of parents.get(c) ?? []) {
        if (p === comp || dist.has(p)) continue;
        dist.set(p, d);
        next.push(p);
      }
    }
    frontier = next;
  }
  return dist;
}

export function hybridRank(idx: GraphIndex, target: string, at: Map<string, number>, normal: Frame, failure: Frame, row: number, o: HybridOptions = defaultHybridOptions, peaks?: WindowPeaks): Candidate[] {
  // A series' evidence: its score at the analysed row, or (with window peaks) its strongest since the incident start.
  const scoreOfId = (id: string) => peaks?.get(id)?.score ?? at.get(id) ?? 0;
  const rowOfId = (id: string) => peaks?.get(id)?.row ?? row;
  const parents = componentParents(idx);
  const targetComp = splitNodeId(target).component;
  const dist = upstreamOf(parents, targetComp);
  const cands = [targetComp, ...[...dist.keys()].sort()];
  const candSet = new Set(cands);
  const seriesOf = new Map<string, string[]>(cands.map((c) => [c, []]));
  const allOf = new Map<string, string[]>(cands.map((c) => [c, []]));
  // A series seen in only a few normal rows (a dependency called now and then) has no basis for
  // "normal": its model is fitted on a handful of values and its score is not evidence.
  const normalRows = normal.timestamps.length;
  const sparse = new Set<string>();
  for (const id of at.keys()) {
    const c = splitNodeId(id).component;
    if (!candSet.has(c)) continue;
    allOf.get(c)!.push(id);
    if (metricDirection(splitNodeId(id).metric) === 'both') continue;
    const present = (normal.series.get(id) ?? []).filter(Number.isFinite).length;
    if (normalRows > 0 && present < o.minSupport * normalRows) {
      sparse.add(id);
      continue;
    }
    seriesOf.get(c)!.push(id);
  }
  const ev = new Map<string, CompEvidence>();
  /** The component's strongest marginal score (any series): what makes it anomalous and lets the walk pass. */
  const marginalOf = new Map<string, number>();
  for (const c of cands) {
    marginalOf.set(c, Math.max(0, ...seriesOf.get(c)!.map(scoreOfId)));
    let best: CompEvidence = { comp: c, score: 0, series: null, marginal: 0 };
    for (const id of seriesOf.get(c)!.sort()) {
      const m = scoreOfId(id);
      if (m <= best.score) continue;
      let s = m;
      if (o.residual && idx.nodes.has(id) && m > 0) {
        const mech = fitMechanism(normal, id, idx.parents.get(id) ?? []);
        if (mech && mech.parents.length > 0) s = Math.min(m, residualScore(mech, failure, id, rowOfId(id)));
      }
      if (s > best.score) best = { comp: c, score: s, series: id, marginal: m };
    }
    ev.set(c, best);
  }
  // Failed requests beyond normal, per component, from its failure ratios and request volume.
  const failuresOf = new Map<string, { ratio: string; excess: number }>();
  if (o.countFailures) {
    for (const c of cands) {
      const vol = volumeSeries(allOf.get(c)!);
      if (!vol) continue;
      let best: { ratio: string; excess: number } | null = null;
      for (const id of seriesOf.get(c)!.filter((x) => failureRatioKind(splitNodeId(x).metric)).sort()) {
        const e = excessFailures(normal, failure, id, vol, row);
        if (e !== null && (!best || e > best.excess)) best = { ratio: id, excess: e };
      }
      if (best) failuresOf.set(c, best);
    }
  }
  // Series that were there in normal data and are missing at the analysed row: the process
  // restarted or stopped reporting. Not a score (missing data is common), but it orders suspects.
  const vanished = new Map<string, string[]>();
  for (const c of cands) {
    const gone: string[] = [];
    for (const id of failure.series.keys()) {
      if (splitNodeId(id).component !== c) continue;
      const v = failure.series.get(id)![row];
      if (v !== undefined && Number.isFinite(v)) continue;
      const n = normal.series.get(id) ?? [];
      const present = n.filter((x) => Number.isFinite(x)).length;
      if (n.length > 0 && present >= 0.9 * n.length) gone.push(id);
    }
    vanished.set(c, gone.sort());
  }
  const anomalous = (c: string) => c === targetComp || (marginalOf.get(c) ?? 0) >= o.threshold;
  // Traversal on the component graph: from the target up through anomalous components only. A
  // component reached this way has a chain of anomalous components between it and the target; an
  // anomalous component that is not reached would have had to pass its fault through normal ones.
  const reached = new Set<string>([targetComp]);
  const queue = [targetComp];
  while (queue.length > 0) {
    const c = queue.shift()!;
    if (c !== targetComp && !anomalous(c)) continue;
    for (const p of parents.get(c) ?? []) {
      if (!candSet.has(p) || reached.has(p)) continue;
      reached.add(p);
      queue.push(p);
    }
  }
  const connected = (c: string) => reached.has(c) && anomalous(c);

  // An anomalous component upstream explains c's anomaly only when it is comparably strong: a
  // wobble of a shared database does not explain a service's own large change. And only through
  // its series that are direct causes of c's anomalous one on the graph: a caller is upstream of
  // its callee (its traffic is the callee's load), but its latency, memory or errors — the symptom
  // the callee passed on to it — are no cause of the callee's latency, so they explain nothing
  // there. Direct: a change that reaches c through other components is explained hop by hop (each
  // hop comparably strong), not by its far end alone.
  const causesOf = (id: string): Set<string> => new Set(idx.parents.get(id) ?? []);
  /** The node of c whose anomaly is to be explained: its evidence series, else its most anomalous series (in the graph). */
  const explainedNode = (c: string): string | null => {
    const e = ev.get(c)!;
    if (e.series && idx.nodes.has(e.series)) return e.series;
    const own = seriesOf.get(c)!.filter((id) => idx.nodes.has(id)).sort((a, b) => scoreOfId(b) - scoreOfId(a) || a.localeCompare(b));
    return own[0] ?? null;
  };
  /**
   * p's strongest marginal score over its series that are direct causes of c's anomalous node. A
   * series the graph does not hold (a graph of one metric, say) counts when some node of p is such
   * a cause: the component stands in for it. All of p's when c's node is not in the graph.
   */
  const causalMarginal = (p: string, c: string): number => {
    const node = explainedNode(c);
    if (node === null) return marginalOf.get(p) ?? 0;
    const anc = causesOf(node);
    const pCauses = [...anc].some((id) => splitNodeId(id).component === p);
    return Math.max(0, ...seriesOf.get(p)!.filter((id) => (idx.nodes.has(id) ? anc.has(id) : pCauses)).map(scoreOfId));
  };
  // p's marginal change against what c's own causes leave unexplained (c's evidence).
  const score = (c: string) => ev.get(c)?.score ?? 0;
  // When c's evidence is a failure ratio, p also explains it by failed requests: p failed MORE
  // requests beyond normal than c did (scores of ratios over different volumes are not comparable:
  // 2 of 24 is −8 points, 21 of 1013 is −2). Not "as many": a callee counts the failed calls its
  // callers make, so failures that could all be c's own calls (a misconfigured service sending
  // bad queries) say nothing about which of the two is behind them; failing more than c sent
  // does (p fails for others too).
  const byCount = (p: string, c: string): boolean => {
    const fc = failuresOf.get(c);
    const fp = failuresOf.get(p);
    if (!fc || !fp || fc.ratio !== ev.get(c)?.series) return false;
    // p's failures reach c along the graph: its ratio must be a direct cause of c's.
    if (idx.nodes.has(fc.ratio) && idx.nodes.has(fp.ratio) && !causesOf(fc.ratio).has(fp.ratio)) return false;
    return fc.excess > 0 && fp.excess > fc.excess * (1 + COUNT_TIE);
  };
  const byScore = (p: string, c: string) => Math.min(causalMarginal(p, c), o.explainCap) >= o.explainRatio * Math.min(score(c), o.explainCap);
  const explains = (p: string, c: string) => byScore(p, c) || byCount(p, c);
  const explainer = (p: string, c: string) => (byScore(p, c) ? p : `${p} (failed ${failuresOf.get(p)!.excess.toFixed(1)} requests beyond normal against ${c}'s ${failuresOf.get(c)!.excess.toFixed(1)})`);
  const anomalousUp = new Map<string, string[]>(cands.map((c) => [c, [...upstreamOf(parents, c).keys()].filter((p) => p !== c && connected(p) && explains(p, c))]));
  const roots = cands.filter((c) => connected(c) && anomalousUp.get(c)!.length === 0);
  const suspects = new Set<string>();
  for (const r of roots) for (const p of parents.get(r) ?? []) if (candSet.has(p) && !anomalous(p)) suspects.add(p);
  const tierOf = (c: string): number => (roots.includes(c) ? 1 : suspects.has(c) ? (o.suspectsFirst ? 2 : 3) : connected(c) ? (o.suspectsFirst ? 3 : 2) : anomalous(c) ? 4 : 5);

  // A node of the graph for the component, to walk the path from: its evidence series when in
  // the graph, else the component's node with the most anomalous value.
  const graphNodeOf = (c: string): string | null => {
    const e = ev.get(c)!;
    if (e.series && idx.nodes.has(e.series)) return e.series;
    const nodes = [...idx.nodes.keys()].filter((id) => splitNodeId(id).component === c);
    return nodes.sort((a, b) => scoreOfId(b) - scoreOfId(a) || a.localeCompare(b))[0] ?? null;
  };
  const nodeAnomalous = (id: string) => id === target || anomalous(splitNodeId(id).component);
  const out: (Candidate & { tier: number; d: number })[] = cands.map((c) => {
    const e = ev.get(c)!;
    const g = graphNodeOf(c);
    let path = g ? causalPath(idx, g, target, nodeAnomalous) : [target];
    if (e.series && path[0] !== e.series) path = [e.series, ...path];
    const node = e.series ?? g ?? target;
    const tier = tierOf(c);
    const missing = vanished.get(c)!.length > 0 ? `; ${vanished.get(c)!.slice(0, 3).join(', ')} missing at the analysed row though always there before` : '';
    const ignored = [...sparse].filter((id) => splitNodeId(id).component === c && scoreOfId(id) >= o.threshold);
    const sparseNote = ignored.length > 0 ? `; ${ignored.slice(0, 3).map((id) => `${id} (${scoreOfId(id).toFixed(1)})`).join(', ')} not counted: values in fewer than ${Math.round(o.minSupport * 100)} % of the normal rows` : '';
    const earlier = e.series ? row - rowOfId(e.series) : 0;
    const when = earlier > 0 ? `, ${earlier} row${earlier === 1 ? '' : 's'} before the analysed row` : '';
    const strongest = e.series ? `strongest signal ${e.series} at ${e.score.toFixed(1)} robust SDs${when}${e.marginal > e.score + 0.05 ? ` (marginal ${e.marginal.toFixed(1)}, the rest explained by its causes)` : ''}${missing}${sparseNote}` : `no signal of its own${missing}${sparseNote}`;
    const why =
      tier === 1
        ? `root: anomalous (${strongest}) and nothing upstream of it is`
        : suspects.has(c)
          ? `suspect: right upstream of root(s) ${roots.filter((r) => parents.get(r)?.has(c)).join(', ')}, ${strongest} (below ${o.threshold}); a fault that barely shows on its own component would look like this`
          : connected(c)
            ? `anomalous (${strongest}), but ${anomalousUp.get(c)!.map((p) => explainer(p, c)).join(', ')} upstream is comparably anomalous and explains it`
            : anomalous(c)
              ? `anomalous (${strongest}), but every path to ${targetComp} passes a component that is not`
              : `upstream of ${targetComp} (${dist.get(c)} hop${dist.get(c) === 1 ? '' : 's'}), ${strongest}`;
    return { node, score: e.score, path, why, tier, d: dist.get(c) ?? 0 };
  });
  const gone = (node: string) => (vanished.get(splitNodeId(node).component)!.length > 0 ? 1 : 0);
  out.sort((a, b) => a.tier - b.tier || (a.tier === 2 || a.tier === 5 ? gone(b.node) - gone(a.node) : 0) || b.score - a.score || a.d - b.d || a.node.localeCompare(b.node));
  // Scores stay monotone with rank: a lower tier never shows more than the tier above it.
  let floor = Infinity;
  return out.map(({ tier: _t, d: _d, ...c }) => {
    const score = Math.min(c.score, floor);
    floor = score;
    return { ...c, score };
  });
}
