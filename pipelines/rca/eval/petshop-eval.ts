/**
 * PetShop evaluation protocol (after the dataset's `rca_task.py`): for every issue, rank root
 * causes of the target's anomaly and check whether the true root-cause node is in the top 1 / top 3
 * (an empty answer counts as a miss); specificity on no-issue data splits the no-issue history at
 * 50%, 60%, …, uses the first part as normal and the rest as a fake incident window, and counts
 * the splits where no root cause is reported. Pure: scenarios come in loaded.
 */
import { InputError } from '../../core/errors.ts';
import type { Frame } from '../frame.ts';
import { sliceFrame } from '../frame.ts';
import type { CausalGraphRecord } from '../../graph/index.ts';
import { withVersion } from '../../graph/index.ts';
import { rankCauses, type RankMethod } from '../rca.ts';
import { splitNodeId } from '../../graph/index.ts';
import { baselineRank } from './petshop-baseline.ts';
import type { RankOptions } from '../rank/scores.ts';
import { validateGraph, defaultValidateOptions } from '../../graph/index.ts';
import type { CallGraph, PetshopScenario } from './petshop-data.ts';

export type GraphKind = 'truth' | 'data' | 'synth';

/** The dataset's call graph as a causal graph for one metric: faults travel callee → caller. */
export function truthGraph(cg: CallGraph, metric: string, name = 'petshop-truth'): CausalGraphRecord {
  return withVersion({
    name,
    nodes: cg.nodes.map((n) => ({ id: `${n}:${metric}`, component: n, metric, observed: true })),
    edges: cg.calls
      .filter(([a, b]) => a !== b)
      .map(([caller, callee]) => ({ from: `${callee}:${metric}`, to: `${caller}:${metric}`, provenance: 'FEEDBACK' as const, confidence: 1, reason: `${caller} calls ${callee} (dataset call graph, reversed)` })),
    createdAtMs: 0,
    source: 'file',
  });
}

export interface IssueResult {
  scenario: string;
  issue: string;
  metric: string;
  rootCause: string;
  ranked: string[];
  top1: boolean;
  top3: boolean;
  note: string;
}

export interface EvalRow {
  scenario: string;
  metric: string;
  graph: GraphKind;
  method: EvalMethod;
  issues: number;
  top1: number | null;
  top3: number | null;
  specificity: number | null;
  specificityWindows: number;
  normalFrom: string;
}

/** The ranking methods plus the re-implemented PetShop baseline. */
export type EvalMethod = RankMethod | 'baseline';

/** Runs one method; `causes` holds components in rank order. */
function runMethod(method: EvalMethod, req: Parameters<typeof rankCauses>[0]): { components: string[]; note: string } {
  if (method === 'baseline') {
    const ranked = baselineRank(req.graph!, req.target, req.telemetry.normal, req.telemetry.failure);
    return { components: rankedComponents(ranked.map((c) => ({ component: splitNodeId(c.node).component }))), note: ranked.length === 0 ? 'baseline: nothing reported' : '' };
  }
  const res = rankCauses({ ...req, method });
  return { components: rankedComponents(res.causes), note: res.note };
}

export interface EvalOptions {
  methods: EvalMethod[];
  rank?: Partial<RankOptions>;
  /** Rows of the fake incident window in specificity runs (the issue windows have 5). 0 = the whole rest. */
  specificityWindow: number;
  /** Row where specificity runs start searching (the dataset's protocol uses 2). */
  specificityStartRow: number;
}

export const defaultEvalOptions: EvalOptions = { methods: ['traversal', 'attribution'], specificityWindow: 5, specificityStartRow: 2 };

export type GraphProvider = (metric: string, normal: Frame) => CausalGraphRecord | Promise<CausalGraphRecord>;

function acyclic(g: CausalGraphRecord): CausalGraphRecord {
  const v = validateGraph(g, defaultValidateOptions);
  if (!v.ok || !v.graph) throw new InputError(`graph ${g.name} failed validation: ${v.errors.join('; ')}`);
  return v.graph;
}

/** Component of the ranked causes, in order, without repeats. */
function rankedComponents(causes: { component: string }[]): string[] {
  const out: string[] = [];
  for (const c of causes) if (!out.includes(c.component)) out.push(c.component);
  return out;
}

export function startRowFor(failure: Frame, timestampMs: number): number {
  let row = 0;
  for (let i = 0; i < failure.timestamps.length; i++) if (failure.timestamps[i]! <= timestampMs) row = i;
  return row;
}

export async function evaluateScenario(
  s: PetshopScenario,
  normal: Frame,
  normalFrom: string,
  kind: GraphKind,
  graphFor: GraphProvider,
  opts: EvalOptions,
  hasOwnNormal: boolean,
  progress: (line: string) => void = () => {},
): Promise<{ rows: EvalRow[]; details: IssueResult[] }> {
  const rows: EvalRow[] = [];
  const details: IssueResult[] = [];
  const metrics = [...new Set(s.issues.map((i) => i.targetMetric))].sort().reverse();
  const graphCache = new Map<string, CausalGraphRecord>();
  const graph = async (metric: string, nf: Frame, key: string) => {
    const k = `${metric}|${key}`;
    if (!graphCache.has(k)) graphCache.set(k, acyclic(await graphFor(metric, nf)));
    return graphCache.get(k)!;
  };
  for (const metric of metrics) {
    const issues = s.issues.filter((i) => i.targetMetric === metric);
    for (const method of opts.methods) {
      let hit1 = 0;
      let hit3 = 0;
      for (const issue of issues) {
        const g = await graph(metric, normal, 'full');
        const res = runMethod(method, {
          incidentId: `${s.name}/${issue.name}`,
          graph: g,
          target: `${issue.targetNode}:${metric}`,
          telemetry: { normal, failure: issue.failure },
          startRow: startRowFor(issue.failure, issue.targetTimestampMs),
          options: opts.rank,
        });
        const ranked = res.components;
        const t1 = ranked.slice(0, 1).includes(issue.rootCause);
        const t3 = ranked.slice(0, 3).includes(issue.rootCause);
        if (t1) hit1++;
        if (t3) hit3++;
        details.push({ scenario: s.name, issue: issue.name, metric, rootCause: issue.rootCause, ranked: ranked.slice(0, 5), top1: t1, top3: t3, note: res.note });
      }
      let spec: number | null = null;
      let windows = 0;
      const targets = [...new Set(issues.map((i) => `${i.targetNode}:${metric}`))];
      if (hasOwnNormal) {
        const n = normal.timestamps.length;
        let ok = 0;
        for (let split = Math.floor(n / 2); split < n - 3; split += Math.floor(n * 0.1)) {
          const nf = sliceFrame(normal, 0, split);
          const end = opts.specificityWindow > 0 ? Math.min(n, split + opts.specificityWindow) : n;
          const ff = sliceFrame(normal, split, end);
          const g = await graph(metric, nf, `split${split}`);
          for (const target of targets) {
            const res = runMethod(method, { incidentId: `${s.name}/noissue@${split}`, graph: g, target, telemetry: { normal: nf, failure: ff }, startRow: opts.specificityStartRow, options: opts.rank });
            windows++;
            if (res.components.length === 0) ok++;
          }
        }
        spec = windows > 0 ? ok / windows : null;
      }
      progress(`${s.name} ${metric} ${kind} ${method}: top1 ${hit1}/${issues.length} top3 ${hit3}/${issues.length} specificity ${spec === null ? 'n/a' : spec.toFixed(3)}`);
      rows.push({
        scenario: s.name,
        metric,
        graph: kind,
        method,
        issues: issues.length,
        top1: issues.length ? hit1 / issues.length : null,
        top3: issues.length ? hit3 / issues.length : null,
        specificity: spec,
        specificityWindows: windows,
        normalFrom,
      });
    }
  }
  return { rows, details };
}

/** Pools the no-issue data of other scenarios (for scenarios shipped without their own). */
export function poolFrames(frames: Frame[]): Frame {
  const ids = new Set<string>();
  for (const f of frames) for (const k of f.series.keys()) ids.add(k);
  const timestamps: number[] = [];
  const series = new Map<string, number[]>([...ids].map((k) => [k, []]));
  for (const f of frames) {
    timestamps.push(...f.timestamps);
    for (const k of ids) series.get(k)!.push(...(f.series.get(k) ?? new Array<number>(f.timestamps.length).fill(NaN)));
  }
  return { timestamps, series };
}
