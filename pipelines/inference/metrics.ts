/** The inference stage's metrics, registered on an injected prom-client Registry. */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

export type RequestStatus = 'ok' | 'rejected' | 'late' | 'error';

export interface MetricsSources {
  queueDepth: () => number;
  predictionErrorP99Ms: () => number;
  /** The controller loop's lag and the scheduler's noise margin, ms. */
  loopLagMs?: () => number;
  noiseMs?: () => number;
}

type AdmissionKey = 'admitted arrival' | 'refused arrival' | 'refused door' | 'refused queue';

export class InferenceMetrics {
  /** Admission decisions not yet handed to `admission` (see there). */
  private readonly admissions: Record<AdmissionKey, number> = { 'admitted arrival': 0, 'refused arrival': 0, 'refused door': 0, 'refused queue': 0 };
  readonly requests: Counter<'model' | 'status'>;
  readonly admission: Counter<'decision' | 'stage'>;
  readonly goodput: Counter<'model'>;
  readonly latency: Histogram<'model'>;
  readonly predictionError: Histogram<'action'>;
  readonly underpredictions: Counter<'action'>;
  readonly actions: Counter<'action' | 'outcome'>;
  readonly late: Counter<'cause'>;
  readonly slack: Histogram;
  readonly deliver: Histogram;
  readonly workerRestarts: Counter;
  readonly evictions: Counter;

  /** Counts one admission decision in `panoptes_inference_admission_total`. */
  admit(key: AdmissionKey): void {
    this.admissions[key]++;
  }

  constructor(registry: Registry, sources: MetricsSources) {
    const registers = [registry];
    this.requests = new Counter({ name: 'panoptes_inference_requests_total', help: 'Requests by final status (ok, rejected, late, error).', labelNames: ['model', 'status'], registers });
    // Counted in plain numbers and handed to prom-client when scraped: past capacity the door
    // refuses tens of thousands of requests a second, and a labelled inc() hashes its labels.
    const admissions = this.admissions;
    this.admission = new Counter({
      name: 'panoptes_inference_admission_total',
      help: 'Admission decisions: admitted or refused, at arrival or before batching.',
      labelNames: ['decision', 'stage'],
      registers,
      collect() {
        for (const k of Object.keys(admissions) as AdmissionKey[]) {
          const n = admissions[k];
          if (n === 0) continue;
          admissions[k] = 0;
          const [decision, stage] = k.split(' ') as [string, string];
          this.inc({ decision, stage }, n);
        }
      },
    });
    this.goodput = new Counter({ name: 'panoptes_inference_goodput_total', help: 'Requests completed within their deadline (rate() of it is goodput).', labelNames: ['model'], registers });
    this.latency = new Histogram({
      name: 'panoptes_inference_latency_seconds',
      help: 'Arrival-to-result latency of completed requests.',
      labelNames: ['model'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.predictionError = new Histogram({
      name: 'panoptes_inference_prediction_error_seconds',
      help: '|actual − predicted| duration of worker actions.',
      labelNames: ['action'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05],
      registers,
    });
    this.underpredictions = new Counter({ name: 'panoptes_inference_underpredictions_total', help: 'Actions that ran longer than predicted.', labelNames: ['action'], registers });
    this.actions = new Counter({ name: 'panoptes_inference_actions_total', help: 'Worker actions by kind and outcome (done, window, failed, lost).', labelNames: ['action', 'outcome'], registers });
    this.late = new Counter({
      name: 'panoptes_inference_late_total',
      help: 'Results past their deadline by the part that overran its plan most: queue (dispatched too late to make it), start (the worker started the batch late), exec (ran longer than predicted), delivery (the result reached the controller late).',
      labelNames: ['cause'],
      registers,
    });
    this.slack = new Histogram({
      name: 'panoptes_inference_slack_seconds',
      help: "Time left before the SLO deadline when an ok result was ready: what delays outside the server's view (the client's send lag, loopback, the response's way back) may still use.",
      buckets: [0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.05],
      registers,
    });
    this.deliver = new Histogram({
      name: 'panoptes_inference_deliver_seconds',
      help: "Time from a worker finishing a batch to the controller thread seeing its result (a busy or descheduled controller shows here), one observation per completed INFER.",
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1],
      registers,
    });
    this.workerRestarts = new Counter({ name: 'panoptes_inference_worker_restarts_total', help: 'Worker threads replaced after a crash.', registers });
    this.evictions = new Counter({ name: 'panoptes_inference_evictions_total', help: 'Models evicted from a worker to make room.', registers });
    new Gauge({
      name: 'panoptes_inference_queue_depth',
      help: 'Requests waiting in the controller.',
      registers,
      collect() {
        this.set(sources.queueDepth());
      },
    });
    new Gauge({
      name: 'panoptes_inference_prediction_error_p99_seconds',
      help: 'p99 of |actual − predicted| over the bounded prediction log.',
      registers,
      collect() {
        this.set(sources.predictionErrorP99Ms() / 1000);
      },
    });
    new Gauge({
      name: 'panoptes_inference_loop_lag_seconds',
      help: "The controller loop's current lag (a 2 ms timer's lateness, decaying): counted in every request's arrival and predicted finish.",
      registers,
      collect() {
        this.set((sources.loopLagMs?.() ?? 0) / 1000);
      },
    });
    new Gauge({
      name: 'panoptes_inference_noise_margin_seconds',
      help: 'The margin every feasibility check adds: the largest recent delay of a result past its prediction, or the loop lag.',
      registers,
      collect() {
        this.set((sources.noiseMs?.() ?? 0) / 1000);
      },
    });
  }
}
