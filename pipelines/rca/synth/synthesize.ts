/**
 * Atlas-style causal graph synthesis. One agent per catalog component holds that component's page
 * and metric names; for every pair of metrics inside its component, and between its metrics and
 * those of each component it calls (only request→service, request→resource, service→resource and
 * service→service interactions), it asks the judge "A causes B / no direct influence / B causes A"
 * and proposes the edges with the judge's reason. Answers are cached by component type. Typical
 * metrics the telemetry lacks become unobserved nodes, collapsed keeping transitive paths and kept
 * as unmeasured suspects. Optional data validation (validate-data.ts) follows; then the structural
 * validation every graph gets.
 */
import { InputError } from '../../core/errors.ts';
import type { Frame } from '../frame.ts';
import type { Catalog, CatalogPage, ComponentKind } from '../catalog.ts';
import type { CausalGraphRecord, GraphEdge, GraphNode } from '../../graph/index.ts';
import { nodeId, splitNodeId, withVersion } from '../../graph/index.ts';
import { validateGraph, defaultValidateOptions } from '../../graph/index.ts';
import { collapseUnobserved } from './collapse.ts';
import { cacheKey, interactionOf, type CausalJudge, type JudgeAnswer, type NodeView, type PairQuestion } from './judge.ts';
import { defaultDataValidationOptions, validateWithData, type DataValidationOptions, type DataValidationReport } from './validate-data.ts';

/**
 * A cached answer was given for another pair of the same types: its reason names that pair's
 * components and call ("failed calls to payforadoption … surface as failures of
 * payforadoption_client"). Re-state it for this pair: each name and the catalog's reason for the
 * call are replaced by this pair's (longest first, in one pass, so a name inside another is not
 * touched twice). A reason that names neither component gets the pair appended.
 */
export function restateReason(reason: string, asked: PairQuestion, q: PairQuestion): string {
  const swaps = new Map<string, string>();
  const add = (from: string, to: string) => {
    if (from && from !== to && !swaps.has(from)) swaps.set(from, to);
  };
  add(asked.relation, q.relation);
  add(asked.a.component, q.a.component);
  add(asked.b.component, q.b.component);
  let out = reason;
  if (swaps.size > 0) {
    const keys = [...swaps.keys()].sort((x, y) => y.length - x.length);
    const re = new RegExp(keys.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
    out = reason.replace(re, (m) => swaps.get(m)!);
  }
  if (q.interaction === 'within' || out.includes(q.a.component) || out.includes(q.b.component)) return out;
  return `${out} [${q.a.component} → ${q.b.component}]`;
}

export const defaultTypicalMetrics: Record<ComponentKind, string[]> = {
  service: ['latency', 'availability', 'requests', 'saturation'],
  resource: ['latency', 'availability', 'requests', 'utilization'],
  request: ['latency', 'availability', 'requests'],
};

export interface SynthesisInput {
  name: string;
  catalog: Catalog;
  /** Observed node ids (component:metric) in the telemetry. */
  observed: ReadonlySet<string>;
  judge: CausalJudge;
  typicalMetrics?: Record<ComponentKind, string[]>;
  /** No-incident telemetry for data validation; omit to skip it. */
  data?: Frame;
  dataValidation?: Partial<DataValidationOptions>;
  nowMs?: number;
  progress?: (line: string) => void;
}

export interface SynthesisReport {
  agents: number;
  questions: number;
  cacheHits: number;
  proposed: number;
  skippedInteractions: string[];
  undocumented: string[];
  dangling: string[];
  unobserved: string[];
  suspects: string[];
  collapsed: number;
  repairs: string[];
  data?: DataValidationReport;
}

interface AgentNeighbour {
  page: CatalogPage;
  why: string;
}

/** One agent: a component's page, its metrics, and the components it calls or fronts. */
class ComponentAgent {
  constructor(
    readonly page: CatalogPage,
    readonly metrics: string[],
    readonly callees: AgentNeighbour[],
  ) {}

  view(page: CatalogPage, metric: string): NodeView {
    const doc = page.metrics.find((m) => m.target === metric)?.why ?? '';
    return { component: page.component, kind: page.kind, type: page.type, metric, metricDoc: doc, componentDoc: page.description };
  }

  questions(metricsOf: (c: string) => string[]): PairQuestion[] {
    const qs: PairQuestion[] = [];
    const own = this.metrics;
    for (let i = 0; i < own.length; i++) {
      for (let j = i + 1; j < own.length; j++) {
        qs.push({ interaction: 'within', a: this.view(this.page, own[i]!), b: this.view(this.page, own[j]!), relation: '' });
      }
    }
    for (const nb of this.callees) {
      const inter = interactionOf(this.page.kind, nb.page.kind)!;
      for (const ma of own) for (const mb of metricsOf(nb.page.component)) qs.push({ interaction: inter, a: this.view(this.page, ma), b: this.view(nb.page, mb), relation: nb.why });
    }
    return qs;
  }
}

export async function synthesizeGraph(input: SynthesisInput): Promise<{ graph: CausalGraphRecord; report: SynthesisReport }> {
  const typical = input.typicalMetrics ?? defaultTypicalMetrics;
  const progress = input.progress ?? (() => {});
  const observedByComponent = new Map<string, Set<string>>();
  for (const id of input.observed) {
    const { component, metric } = splitNodeId(id);
    if (!observedByComponent.has(component)) observedByComponent.set(component, new Set());
    observedByComponent.get(component)!.add(metric);
  }
  const metricsOf = (c: string): string[] => {
    const page = input.catalog.pages.get(c);
    const ms = new Set<string>(observedByComponent.get(c) ?? []);
    if (page) {
      for (const m of typical[page.kind]) ms.add(m);
      for (const m of page.metrics) ms.add(m.target);
    }
    return [...ms].sort();
  };
  const report: SynthesisReport = {
    agents: 0,
    questions: 0,
    cacheHits: 0,
    proposed: 0,
    skippedInteractions: [],
    undocumented: [...observedByComponent.keys()].filter((c) => !input.catalog.pages.has(c)).sort(),
    dangling: input.catalog.dangling,
    unobserved: [],
    suspects: [],
    collapsed: 0,
    repairs: [],
  };
  const nodes = new Map<string, GraphNode>();
  for (const c of new Set([...input.catalog.pages.keys(), ...observedByComponent.keys()])) {
    for (const m of metricsOf(c)) {
      const id = nodeId(c, m);
      nodes.set(id, { id, component: c, metric: m, observed: input.observed.has(id) });
    }
  }
  report.unobserved = [...nodes.values()].filter((n) => !n.observed).map((n) => n.id).sort();
  const agents: ComponentAgent[] = [];
  for (const page of [...input.catalog.pages.values()].sort((a, b) => a.component.localeCompare(b.component))) {
    const callees: AgentNeighbour[] = [];
    for (const r of [...page.calls, ...page.fronts]) {
      const target = input.catalog.pages.get(r.target);
      if (!target) continue;
      if (!interactionOf(page.kind, target.kind)) {
        report.skippedInteractions.push(`${page.component} (${page.kind}) -> ${target.component} (${target.kind}): not one of the four interaction types`);
        continue;
      }
      callees.push({ page: target, why: r.why || (page.fronts.includes(r) ? `${page.component} is the caller-side endpoint of ${target.component}` : `${page.component} calls ${target.component}`) });
    }
    agents.push(new ComponentAgent(page, metricsOf(page.component), callees));
  }
  report.agents = agents.length;
  const cache = new Map<string, { asked: PairQuestion; answer: Promise<JudgeAnswer> }>();
  const edges = new Map<string, GraphEdge>();
  for (const agent of agents) {
    for (const q of agent.questions(metricsOf)) {
      report.questions++;
      const k = cacheKey(q);
      let hit = cache.get(k);
      if (hit) report.cacheHits++;
      else {
        hit = { asked: q, answer: input.judge.judge(q) };
        cache.set(k, hit);
      }
      const a = await hit.answer;
      if (a.verdict === 'NONE') continue;
      const [from, to] = a.verdict === 'A_CAUSES_B' ? [q.a, q.b] : [q.b, q.a];
      const e: GraphEdge = {
        from: nodeId(from.component, from.metric),
        to: nodeId(to.component, to.metric),
        provenance: 'DOCS',
        confidence: Math.round(a.confidence * 1000) / 1000,
        reason: restateReason(a.reason, hit.asked, q),
      };
      const key = `${e.from}\u0000${e.to}`;
      if (!edges.has(key) || edges.get(key)!.confidence < e.confidence) edges.set(key, e);
    }
    progress(`agent ${agent.page.component}: ${agent.metrics.length} metrics, ${agent.callees.length} callees`);
  }
  report.proposed = edges.size;
  const nodeList = [...nodes.values()].sort((a, b) => a.id.localeCompare(b.id));
  const col = collapseUnobserved(nodeList, [...edges.values()]);
  report.collapsed = col.collapsed;
  report.suspects = col.suspects;
  let graph = withVersion({ name: input.name, nodes: nodeList, edges: col.edges, createdAtMs: input.nowMs ?? 0, source: input.judge.name });
  if (input.data) {
    const v = validateWithData(graph, input.data, { ...defaultDataValidationOptions, ...input.dataValidation });
    graph = withVersion(v.graph);
    report.data = v.report;
    progress(`data validation: ${v.report.confirmed}/${v.report.tested} confirmed, ${v.report.flagged.length} flagged, ${v.report.pruned.length} pruned, ${v.report.added.length} added`);
  }
  const checked = validateGraph(graph, defaultValidateOptions);
  if (!checked.ok || !checked.graph) throw new InputError(`synthesized graph failed validation: ${checked.errors.join('; ')}`);
  report.repairs = checked.repairs;
  return { graph: checked.graph, report };
}
