/**
 * Metrics of the Kafka interface, beside the shared transport metrics (consumed, produced, lag,
 * errors, dead letters) and the pool's own (per-model latency, admission, goodput).
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

/** Gets a metric already registered under that name, or creates it (a test may start the stage twice on one registry). */
function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export interface InferenceKafkaMetrics {
  inFlight: Gauge;
  results: Counter<'status'>;
  endToEnd: Histogram<'status'>;
  afterDeadline: Counter;
  commits: Counter<'outcome'>;
}

export function inferenceKafkaMetrics(registry: Registry): InferenceKafkaMetrics {
  const registers = [registry];
  return {
    inFlight: once(registry, 'panoptes_inference_kafka_in_flight', () => new Gauge({ name: 'panoptes_inference_kafka_in_flight', help: 'Request records taken from inference.requests whose result is not yet acknowledged.', registers })),
    results: once(registry, 'panoptes_inference_kafka_results_total', () => new Counter({ name: 'panoptes_inference_kafka_results_total', help: 'Result records acknowledged on inference.results, by status.', labelNames: ['status'], registers })),
    endToEnd: once(registry, 'panoptes_inference_kafka_end_to_end_seconds', () => new Histogram({
      name: 'panoptes_inference_kafka_end_to_end_seconds',
      help: "From the request's sentAtMs (when set) to its result being acknowledged by the broker.",
      labelNames: ['status'],
      buckets: [0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    })),
    afterDeadline: once(registry, 'panoptes_inference_kafka_after_deadline_total', () => new Counter({ name: 'panoptes_inference_kafka_after_deadline_total', help: 'ok results acknowledged after the request deadline (the result produce made them late).', registers })),
    commits: once(registry, 'panoptes_inference_kafka_commits_total', () => new Counter({ name: 'panoptes_inference_kafka_commits_total', help: 'Offset commits of the request consumer, by outcome (ok, failed).', labelNames: ['outcome'], registers })),
  };
}
