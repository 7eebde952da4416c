/**
 * Detector metrics, registered in the Registry the caller passes (never the global one). One
 * instance is shared by every SeriesDetector of a consumer.
 */
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

export type SampleOutcome = 'accepted' | 'out_of_order' | 'duplicate' | 'nan' | 'series_cap';

const OUTCOMES: readonly SampleOutcome[] = ['accepted', 'out_of_order', 'duplicate', 'nan', 'series_cap'];

export class DetectMetrics {
  readonly samples: Counter<'outcome'>;
  readonly firings: Counter<'rule' | 'kind'>;
  readonly faults: Counter<'rule'>;
  readonly quarantined: Gauge;
  readonly anomalies: Counter;
  readonly seriesDropped: Counter;
  private readonly pending: Record<SampleOutcome, number> = { accepted: 0, out_of_order: 0, duplicate: 0, nan: 0, series_cap: 0 };

  private static readonly byRegistry = new WeakMap<Registry, DetectMetrics>();

  /** The registry's one instance (a detector restarted in the same process shares it). */
  static for(registry: Registry): DetectMetrics {
    let m = DetectMetrics.byRegistry.get(registry);
    if (!m) DetectMetrics.byRegistry.set(registry, (m = new DetectMetrics(registry)));
    return m;
  }

  constructor(registry: Registry) {
    // Per-sample counts are kept in plain numbers and handed to prom-client when it collects (a
    // scrape or get()): a prom-client inc() per sample cost ~150 ns, about a tenth of a sample's
    // whole detection. What a scrape reads is the same.
    const pending = this.pending;
    this.samples = new Counter({
      name: 'panoptes_detect_samples_total',
      help: 'Samples seen by rule detectors, by outcome (series_cap: dropped, their series was beyond maxSeries)',
      labelNames: ['outcome'],
      registers: [registry],
      collect() {
        for (const k of OUTCOMES) {
          if (pending[k] > 0) {
            this.labels(k).inc(pending[k]);
            pending[k] = 0;
          }
        }
      },
    });
    this.firings = new Counter({ name: 'panoptes_detect_rule_firings_total', help: 'Samples on which a rule fired', labelNames: ['rule', 'kind'], registers: [registry] });
    this.faults = new Counter({ name: 'panoptes_detect_rule_faults_total', help: 'Rule run-time faults (each quarantines the rule for that series)', labelNames: ['rule'], registers: [registry] });
    this.quarantined = new Gauge({ name: 'panoptes_detect_rules_quarantined', help: 'Rule instances currently quarantined', registers: [registry] });
    this.anomalies = new Counter({ name: 'panoptes_detect_anomalies_total', help: 'Samples labelled anomalous after combining base and rules', registers: [registry] });
    this.seriesDropped = new Counter({ name: 'panoptes_detect_series_dropped_total', help: 'Records of series beyond maxSeries, dropped untracked (their samples count as outcome series_cap)', registers: [registry] });
  }

  /** A record of `samples` samples dropped: its series was beyond the cap. */
  dropped(samples: number): void {
    this.seriesDropped.inc();
    this.pending.series_cap += samples;
  }

  sample(outcome: SampleOutcome): void {
    this.pending[outcome]++;
  }
}
