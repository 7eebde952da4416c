/**
 * The pure entry points of root-cause analysis. A consumer of the `incidents` topic calls
 * `handleIncident(incident, graph, telemetry)` with the graph in force (GraphStore) and the
 * telemetry windows it keeps (normal history + the incident window) and produces the returned
 * `RcaResult` to the `rca` topic. No I/O here.
 */
import type { Incident, RcaResult, RootCause, Evidence } from '../core/records.ts';
import type { Frame } from './frame.ts';
import type { CausalGraphRecord } from '../graph/index.ts';
import { indexGraph, splitNodeId } from '../graph/index.ts';
import { attributionRank } from './rank/attribution.ts';
import { ancestors, candidateRows, defaultRankOptions, fitModels, scoreOf, scoresAt, validateRankOptions, windowPeaks, type RankOptions } from './rank/scores.ts';

const defaultTargetThreshold = defaultRankOptions.targetThreshold;
const defaultNodeThreshold = defaultRankOptions.nodeThreshold;
import { traversalRank, type Candidate } from './rank/traversal.ts';
import { randomWalkRank } from './rank/random-walk.ts';
import { defaultHybridOptions, hybridRank } from './rank/hybrid.ts';

export type RankMethod = 'hybrid' | 'traversal' | 'attribution' | 'random-walk';
export const rankMethods: readonly RankMethod[] = ['hybrid', 'traversal', 'attribution', 'random-walk'];
/** The default of `rca`, `rca eval` and the online `rca run` (chosen on the lab corpus's train split: pipelines/rca/README.md). */
export const defaultRankMethod: RankMethod = 'hybrid';

export interface Telemetry {
  /** History without incidents, to fit what normal looks like. */
  normal: Frame;
  /** The incident window. */
  failure: Frame;
}

export interface RankRequest {
  incidentId: string;
  graph: CausalGraphRecord | null;
  /** The affected node (component:metric) whose anomaly is explained. */
  target: string;
  telemetry: Telemetry;
  /** First row of the failure window to search for the target's anomaly. */
  startRow?: number;
  method?: RankMethod;
  options?: Partial<RankOptions>;
  nowMs?: number;
}

export interface RankOutcome extends RcaResult {
  /** Row of the failure window analysed (null when the target was never anomalous). */
  analyzedRow: number | null;
  targetScore: number;
}

function describe(id: string, score: number, failure: Frame, normal: Frame, row: number): Evidence {
  const v = failure.series.get(id)?.[row];
  const n = (normal.series.get(id) ?? []).filter((x) => Number.isFinite(x));
  const medianOf = n.length ? [...n].sort((a, b) => a - b)[n.length >> 1]! : NaN;
  return {
    metric: id,
    score: round(score),
    detail: `${splitNodeId(id).metric} ${fmt(v)} vs normal median ${fmt(medianOf)} (${score.toFixed(1)} robust SDs in the bad direction)`,
  };
}

function fmt(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return 'n/a';
  return Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(3) : v.toPrecision(3);
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Ranks root causes of the target's anomaly. Empty `causes` when the target is not anomalous. */
export function rankCauses(req: RankRequest): RankOutcome {
  const opts = validateRankOptions(req.options);
  const method = req.method ?? defaultRankMethod;
  const { normal, failure } = req.telemetry;
  const graph = req.graph;
  const ids = new Set<string>([...failure.series.keys()].filter((k) => normal.series.has(k)));
  const models = fitModels(normal, ids);
  const base: RankOutcome = {
    incidentId: req.incidentId,
    graphVersion: graph?.version ?? null,
    method,
    causes: [],
    note: '',
    producedAtMs: req.nowMs ?? 0,
    analyzedRow: null,
    targetScore: 0,
  };
  if (!models.has(req.target)) {
    return { ...base, note: `target ${req.target} has no normal history or no data in the incident window: nothing to compare with` };
  }
  const rows = candidateRows(models, failure, req.target, req.startRow ?? 0, opts.targetThreshold, opts.row);
  if (rows.length === 0) {
    return { ...base, note: `target ${req.target} is not anomalous (below ${opts.targetThreshold}) in the incident window: no root cause reported` };
  }
  const inGraph = graph !== null && graph.nodes.some((n) => n.id === req.target);
  const idx = inGraph ? indexGraph(graph) : null;
  const upstream = idx ? ancestors(idx, req.target) : new Set<string>();
  const start = Math.max(0, req.startRow ?? 0);
  let row = -1;
  let at = new Map<string, number>();
  let strongest = 0;
  for (const r of rows) {
    const preRows = opts.discountPreexisting ? Array.from({ length: Math.min(start, r) }, (_, i) => i) : [];
    const s = scoresAt(models, failure, r, preRows, req.target);
    // Without a graph every anomalous series is a possible cause.
    const pool = idx ? [req.target, ...upstream] : [...s.keys()];
    const best = Math.max(0, ...pool.map((id) => s.get(id) ?? 0));
    if (best > strongest || row < 0) {
      row = r;
      at = s;
      strongest = best;
    }
    if (best >= opts.evidenceThreshold) break;
  }
  if (strongest < opts.evidenceThreshold) {
    return {
      ...base,
      analyzedRow: row,
      targetScore: at.get(req.target) ?? 0,
      note: `weak evidence: ${req.target} scores ${(at.get(req.target) ?? 0).toFixed(1)} and nothing upstream reaches ${opts.evidenceThreshold}: no root cause reported`,
    };
  }
  const targetScore = at.get(req.target) ?? 0;
  let cands: Candidate[];
  let note = '';
  if (!idx || !graph) {
    // No graph covers the target: rank every anomalous series by its anomaly alone.
    cands = [...at]
      .filter(([id, s]) => id === req.target || s >= opts.nodeThreshold)
      .map(([id, s]) => ({ node: id, score: s, path: [id, ...(id === req.target ? [] : [req.target])], why: 'anomaly evidence only' }))
      .sort((a, b) => b.score - a.score || a.node.localeCompare(b.node));
    note = `${req.target} is not in ${graph ? `graph ${graph.version}` : 'any graph'}: ranked by anomaly evidence alone, paths are not causal`;
  } else {
    if (method === 'hybrid') {
      const peaks = opts.windowEvidence ? windowPeaks(models, failure, start, row, opts.discountPreexisting, req.target) : undefined;
      cands = hybridRank(idx, req.target, at, normal, failure, row, { ...defaultHybridOptions, threshold: opts.componentThreshold, explainRatio: opts.explainRatio, explainCap: opts.explainCap > 0 ? opts.explainCap : Infinity, residual: opts.residualEvidence, minSupport: opts.minSupport, countFailures: opts.countFailures }, peaks);
    }
    else if (method === 'traversal') cands = traversalRank(idx, req.target, at, opts.nodeThreshold);
    else if (method === 'random-walk') cands = randomWalkRank(idx, req.target, at, normal, failure, row, opts.nodeThreshold);
    else cands = attributionRank(idx, req.target, normal, failure, row, at, opts.nodeThreshold);
    const anc = upstream;
    const graphMetrics = new Set(graph.nodes.map((n) => n.metric));
    const outside = [...at]
      .filter(([id, s]) => s >= opts.nodeThreshold && !anc.has(id) && !idx.nodes.has(id) && graphMetrics.has(splitNodeId(id).metric))
      .map(([id]) => id);
    if (outside.length > 0) note = `anomalous series not in the graph (not ranked): ${outside.sort().slice(0, 10).join(', ')}${outside.length > 10 ? ', …' : ''}`;
  }
  const unmeasured = graph?.nodes.filter((n) => !n.observed && anyPathTo(graph, n.id, req.target)).map((n) => n.id) ?? [];
  if (unmeasured.length > 0) note = [note, `unmeasured suspects upstream: ${unmeasured.join(', ')}`].filter(Boolean).join('; ');
  const causes: RootCause[] = cands.slice(0, opts.maxCauses).map((c) => {
    const comp = splitNodeId(c.node).component;
    const evidence: Evidence[] = [describe(c.node, at.get(c.node) ?? 0, failure, normal, row)];
    for (const [id, s] of at) {
      if (id !== c.node && splitNodeId(id).component === comp && s >= 1) evidence.push(describe(id, s, failure, normal, row));
    }
    evidence.push({ metric: c.node, score: round(c.score), detail: `${method}: ${c.why}` });
    return { node: c.node, component: comp, score: round(c.score), path: c.path, evidence };
  });
  return { ...base, causes, note, analyzedRow: row, targetScore };
}

function anyPathTo(g: CausalGraphRecord, from: string, to: string): boolean {
  return ancestors(indexGraph(g), to).has(from);
}

export interface HandleOptions {
  method?: RankMethod;
  options?: Partial<RankOptions>;
  /** Affected node to explain; default: the incident's most downstream anomalous node. */
  target?: string;
  nowMs?: number;
}

/**
 * RCA for one incident record. The target is, unless given, a series of the incident's most
 * downstream component (the user-facing symptom): of its anomalous ones, the one with the most
 * anomalous causal ancestors, then the most anomalous.
 */
export function handleIncident(incident: Incident, graph: CausalGraphRecord | null, telemetry: Telemetry, opts: HandleOptions = {}): RcaResult {
  const comps = new Set(incident.components);
  const candidates = [...telemetry.failure.series.keys()].filter((id) => comps.has(splitNodeId(id).component));
  let target = opts.target;
  if (!target) {
    // The symptom to explain: the most downstream component (most causal ancestors), and of its
    // series the one most anomalous in the incident window.
    const idx = graph ? indexGraph(graph) : null;
    const depth = (id: string) => (idx && idx.nodes.has(id) ? ancestors(idx, id).size : -1);
    const models = fitModels(telemetry.normal, candidates);
    const peak = (id: string) => Math.max(0, ...telemetry.failure.timestamps.map((_, r) => scoreOf(models, telemetry.failure, id, r)));
    const compDepth = new Map<string, number>();
    for (const id of candidates) {
      const c = splitNodeId(id).component;
      compDepth.set(c, Math.max(compDepth.get(c) ?? -1, depth(id)));
    }
    const scored = candidates.map((id) => ({ id, d: compDepth.get(splitNodeId(id).component)!, p: peak(id), support: 0 }));
    // Of the symptom component's anomalous series, the one with the most anomalous causes in the
    // graph: a flat series (errors at 0) scores in the thousands at its first blip, while the
    // symptom the fault actually travelled to (latency, after a slow database) has the upstream
    // support. Equal support: the more anomalous one.
    const deepest = Math.max(...scored.map((x) => x.d));
    const threshold = opts.options?.targetThreshold ?? defaultTargetThreshold;
    const symptoms = scored.filter((x) => x.d === deepest && x.p >= threshold);
    if (idx && symptoms.length > 1) {
      const up = new Map(symptoms.map((x) => [x.id, [...ancestors(idx, x.id)]]));
      const upModels = fitModels(telemetry.normal, new Set([...up.values()].flat()));
      const upPeak = (id: string) => Math.max(0, ...telemetry.failure.timestamps.map((_, r) => scoreOf(upModels, telemetry.failure, id, r)));
      const nodeThreshold = opts.options?.nodeThreshold ?? defaultNodeThreshold;
      for (const x of symptoms) x.support = up.get(x.id)!.filter((a) => upPeak(a) >= nodeThreshold).length;
    }
    target = scored.sort((a, b) => b.d - a.d || b.support - a.support || b.p - a.p || a.id.localeCompare(b.id))[0]?.id;
  }
  if (!target) {
    return {
      incidentId: incident.id,
      graphVersion: graph?.version ?? null,
      method: opts.method ?? defaultRankMethod,
      causes: [],
      note: `no telemetry for the incident's components (${incident.components.join(', ')})`,
      producedAtMs: opts.nowMs ?? 0,
    };
  }
  const ts = telemetry.failure.timestamps;
  let startRow = 0;
  for (let i = 0; i < ts.length; i++) if (ts[i]! <= incident.openedAtMs) startRow = i;
  const res = rankCauses({ incidentId: incident.id, graph, target, telemetry, startRow, method: opts.method, options: opts.options, nowMs: opts.nowMs });
  const { analyzedRow: _r, targetScore: _s, ...out } = res;
  return out;
}
