/**
 * Records the dashboard tests publish: one latency series with a spike, the anomalies a rule found
 * on it (with clause values), the rule with its training score, a causal graph, an incident with
 * its ranked root causes, and inference results. Shapes are the Avro records of schemas/.
 */
import type { Anomaly, CausalGraphRecord, Incident, InferenceResult, MetricBatch, RcaResult, RuleRecord } from '../../../pipelines/core/records.ts';

export const LABELS = { __name__: 'http_request_duration_seconds', service: 'checkout', quantile: '0.99' };
export const FINGERPRINT = 'fp-checkout-latency';
export const STEP_MS = 60_000;

export function metricBatches(startMs: number, n: number, spikeAt: number[]): MetricBatch[] {
  const out: MetricBatch[] = [];
  const chunk = 30;
  for (let i = 0; i < n; i += chunk) {
    const samples = [];
    for (let j = i; j < Math.min(n, i + chunk); j++) {
      const base = 0.12 + 0.015 * Math.sin(j / 9) + 0.004 * Math.cos(j * 1.7);
      samples.push({ timestampMs: startMs + j * STEP_MS, value: spikeAt.includes(j) ? base + 0.55 : base, stale: false });
    }
    out.push({ fingerprint: FINGERPRINT, labels: LABELS, samples, source: 'test', receivedAtMs: Date.now(), exemplarsDropped: 0, histogramsDropped: 0 });
  }
  return out;
}

export const RULE: RuleRecord = {
  id: 'latency-spike',
  version: '3f9a1c2b7d4e5a60',
  kind: 'FN',
  severity: 'critical',
  description: 'p99 latency far above its recent level',
  expr: 'value > mean(60m) + 4 * std(60m) and value > 0.3',
  selector: { service: 'checkout' },
  source: 'offline',
  trainingScore: 0.912,
  publishedAtMs: Date.now(),
};

export function anomaly(startMs: number, index: number, value: number): Anomaly {
  const ts = startMs + index * STEP_MS;
  return {
    id: `${FINGERPRINT}@${ts}/${RULE.id}@${RULE.version}`,
    fingerprint: FINGERPRINT,
    labels: LABELS,
    timestampMs: ts,
    value,
    ruleId: RULE.id,
    ruleVersion: RULE.version,
    ruleKind: 'FN',
    severity: 'critical',
    detector: 'robust-z',
    baseScore: 7.4,
    explanation: `p99 latency ${value.toFixed(3)} s is above mean(60m) + 4 * std(60m) = 0.171 and above 0.3`,
    clauses: [
      { text: 'value > mean(60m) + 4 * std(60m)', value: 1 },
      { text: 'mean(60m) + 4 * std(60m)', value: 0.171 },
      { text: 'value > 0.3', value: 1 },
    ],
    detectedAtMs: Date.now(),
  };
}

export const GRAPH: CausalGraphRecord = {
  name: 'shop',
  version: 'g-7c1d',
  nodes: [
    { id: 'frontend:latency', component: 'frontend', metric: 'latency', observed: true },
    { id: 'checkout:latency', component: 'checkout', metric: 'latency', observed: true },
    { id: 'checkout:cpu', component: 'checkout', metric: 'cpu', observed: true },
    { id: 'payments:latency', component: 'payments', metric: 'latency', observed: true },
    { id: 'db:connections', component: 'db', metric: 'connections', observed: true },
    { id: 'db:lock_wait', component: 'db', metric: 'lock_wait', observed: false },
  ],
  edges: [
    { from: 'db:lock_wait', to: 'db:connections', provenance: 'DOCS', confidence: 0.7, reason: 'locks hold connections' },
    { from: 'db:connections', to: 'payments:latency', provenance: 'BOTH', confidence: 0.9, reason: 'payments waits for a connection' },
    { from: 'payments:latency', to: 'checkout:latency', provenance: 'BOTH', confidence: 0.85, reason: 'checkout calls payments' },
    { from: 'checkout:cpu', to: 'checkout:latency', provenance: 'DATA', confidence: 0.5, reason: 'CPU saturation slows requests' },
    { from: 'checkout:latency', to: 'frontend:latency', provenance: 'DOCS', confidence: 0.8, reason: 'frontend calls checkout' },
  ],
  createdAtMs: Date.now(),
  source: 'offline',
};

export function incident(anomalyIds: string[], startMs: number): Incident {
  return {
    id: 'inc-checkout-1',
    status: 'OPEN',
    openedAtMs: startMs,
    updatedAtMs: Date.now(),
    resolvedAtMs: null,
    severity: 'critical',
    components: ['checkout', 'payments'],
    anomalyIds,
    anomalyCount: anomalyIds.length,
    summary: 'checkout p99 latency spike with payments slow',
  };
}

export const RCA: RcaResult = {
  incidentId: 'inc-checkout-1',
  graphVersion: GRAPH.version,
  method: 'attribution',
  causes: [
    { node: 'db:connections', component: 'db', score: 0.81, path: ['db:connections', 'payments:latency', 'checkout:latency'], evidence: [{ metric: 'db:connections', score: 0.81, detail: 'pool at its limit from 10:42' }] },
    { node: 'checkout:cpu', component: 'checkout', score: 0.22, path: ['checkout:cpu', 'checkout:latency'], evidence: [] },
  ],
  note: '',
  producedAtMs: Date.now(),
};

export function inferenceResults(n: number): InferenceResult[] {
  return Array.from({ length: n }, (_, i) => ({
    requestId: `req-${i}`,
    model: i % 3 === 0 ? 'resnet-tiny' : 'anomaly-scorer',
    status: i % 20 === 7 ? 'late' : i % 25 === 3 ? 'rejected' : 'ok',
    outputs: [],
    error: null,
    queueMs: 2,
    batchWaitMs: 1,
    execMs: 4 + (i % 5),
    totalMs: 7 + (i % 5),
    batchSize: 4,
  }));
}
