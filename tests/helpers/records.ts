/** One realistic record per Avro schema, for round-trip tests and benchmarks. */
import type { TopicKey } from '../../pipelines/core/topics.ts';

export function sampleRecords(): Partial<Record<TopicKey, unknown>> {
  return {
    metrics: {
      fingerprint: '9f2c1a7be04d3e11',
      labels: { __name__: 'http_request_duration_seconds', job: 'checkout', instance: '10.0.0.7:9100', le: '0.25' },
      samples: [
        { timestampMs: 1764288000000, value: 0.125, stale: false },
        { timestampMs: 1764288015000, value: Number.NaN, stale: false },
        { timestampMs: 1764288030000, value: Number.NaN, stale: true },
      ],
      source: 'remote-write',
      receivedAtMs: 1764288031000,
      exemplarsDropped: 2,
      histogramsDropped: 0,
    },
    anomalies: {
      id: 'a-1', fingerprint: '9f2c1a7be04d3e11', labels: { __name__: 'latency', service: 'checkout' }, timestampMs: 1764288000000, value: 93.1,
      ruleId: 'latency-spike', ruleVersion: '3f1a9c0b2d4e', ruleKind: 'FN', severity: 'critical', detector: 'robust-z', baseScore: 6.6,
      explanation: 'value 93.1 is 6.6 standard deviations above its 1h mean 41.2 for 3 samples',
      clauses: [{ text: 'value > mean(1h) + 4 * std(1h)', value: 1 }], detectedAtMs: 1764288000100,
    },
    rules: { id: 'latency-spike', version: '3f1a9c0b2d4e', kind: 'FN', severity: 'critical', description: 'Latency far above its hourly mean', expr: 'value > mean(1h) + 4 * std(1h) for 3', selector: { service: 'checkout' }, source: 'manual', trainingScore: 0.82, publishedAtMs: 1764288000000 },
    incidents: { id: 'inc-1', status: 'OPEN', openedAtMs: 1764288000000, updatedAtMs: 1764288060000, resolvedAtMs: null, severity: 'critical', components: ['checkout', 'payments'], anomalyIds: ['a-1', 'a-2'], anomalyCount: 2, summary: '2 anomalies on checkout, payments' },
    causalGraphs: { name: 'shop', version: 'c0ffee123456', nodes: [{ id: 'db:latency', component: 'db', metric: 'latency', observed: true }, { id: 'checkout:latency', component: 'checkout', metric: 'latency', observed: true }], edges: [{ from: 'db:latency', to: 'checkout:latency', provenance: 'BOTH', confidence: 0.9, reason: 'checkout calls db' }], createdAtMs: 1764288000000, source: 'offline' },
    rca: { incidentId: 'inc-1', graphVersion: 'c0ffee123456', method: 'traversal', causes: [{ node: 'db:latency', component: 'db', score: 0.91, path: ['db:latency', 'checkout:latency'], evidence: [{ metric: 'db:latency', score: 7.2, detail: '7.2σ above normal' }] }], note: '', producedAtMs: 1764288070000 },
    inferenceRequests: { id: 'r-1', model: 'mlp-small', modelVersion: null, inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [0.5, 1, -2, 3.25] }], deadlineMs: 1764288000025, sentAtMs: 1764288000000 },
    inferenceResults: { requestId: 'r-1', model: 'mlp-small', status: 'ok', outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 2], data: [0.25, 0.75] }], error: null, queueMs: 1.5, batchWaitMs: 0.5, execMs: 2.25, totalMs: 4.5, batchSize: 4, deadlineMs: 1_700_000_000_025 },
  };
}
