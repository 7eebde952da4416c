/**
 * `handleIncident` with the stage's metrics, for the rca consumer: counts analyses by outcome
 * and times them on the Registry it is given. The ranking itself stays pure in rca.ts.
 */
import { performance } from 'node:perf_hooks';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Incident, RcaResult } from '../core/records.ts';
import type { CausalGraphRecord } from '../graph/index.ts';
import { defaultRankMethod, handleIncident, type HandleOptions, type Telemetry } from './rca.ts';

export type AnalysisOutcome = 'ranked' | 'no_cause' | 'no_graph' | 'error';

export class RcaAnalyzer {
  private readonly analyses: Counter<'outcome' | 'method'>;
  private readonly duration: Histogram<'method'>;

  constructor(
    registry: Registry,
    private readonly defaults: HandleOptions = {},
  ) {
    const a = 'panoptes_rca_analyses_total';
    const d = 'panoptes_rca_analysis_duration_seconds';
    this.analyses =
      (registry.getSingleMetric(a) as Counter<'outcome' | 'method'> | undefined) ??
      new Counter({ name: a, help: 'Incidents analysed, by outcome (ranked, no_cause, no_graph, error) and method.', labelNames: ['outcome', 'method'], registers: [registry] });
    this.duration =
      (registry.getSingleMetric(d) as Histogram<'method'> | undefined) ??
      new Histogram({ name: d, help: 'Time to rank the root causes of one incident.', labelNames: ['method'], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [registry] });
  }

  analyze(incident: Incident, graph: CausalGraphRecord | null, telemetry: Telemetry, opts: HandleOptions = {}): RcaResult {
    const o = { ...this.defaults, ...opts };
    const method = o.method ?? defaultRankMethod;
    const t0 = performance.now();
    try {
      const res = handleIncident(incident, graph, telemetry, o);
      const outcome: AnalysisOutcome = graph === null ? 'no_graph' : res.causes.length > 0 ? 'ranked' : 'no_cause';
      this.analyses.inc({ outcome, method });
      return res;
    } catch (err) {
      this.analyses.inc({ outcome: 'error', method });
      throw err;
    } finally {
      this.duration.observe({ method }, (performance.now() - t0) / 1000);
    }
  }
}
