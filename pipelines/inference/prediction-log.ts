/**
 * A bounded log of predicted vs actual time per action: the evidence that the controller's
 * predictions hold, and the source of the prediction-error metric.
 */

export type ActionKind = 'LOAD' | 'UNLOAD' | 'INFER';

export interface PredictionEntry {
  kind: ActionKind;
  model: string;
  batch: number;
  predictedMs: number;
  actualMs: number;
}

export interface PredictionSummary {
  count: number;
  /** Quantiles of |actual − predicted| in ms. */
  absErrorP50Ms: number;
  absErrorP99Ms: number;
  /** Fraction of actions that ran longer than predicted. */
  underpredictedFraction: number;
}

export class PredictionLog {
  private readonly entries: PredictionEntry[] = [];
  private next = 0;
  constructor(readonly capacity = 1000) {}

  add(e: PredictionEntry): void {
    if (this.entries.length < this.capacity) this.entries.push(e);
    else this.entries[this.next] = e;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Entries oldest first. */
  list(): PredictionEntry[] {
    return this.entries.length < this.capacity ? [...this.entries] : [...this.entries.slice(this.next), ...this.entries.slice(0, this.next)];
  }

  summary(kind?: ActionKind): PredictionSummary {
    const es = this.entries.filter((e) => kind === undefined || e.kind === kind);
    if (es.length === 0) return { count: 0, absErrorP50Ms: 0, absErrorP99Ms: 0, underpredictedFraction: 0 };
    const errs = es.map((e) => Math.abs(e.actualMs - e.predictedMs)).sort((a, b) => a - b);
    const at = (q: number) => errs[Math.min(errs.length - 1, Math.max(0, Math.ceil(q * errs.length) - 1))]!;
    return {
      count: es.length,
      absErrorP50Ms: at(0.5),
      absErrorP99Ms: at(0.99),
      underpredictedFraction: es.filter((e) => e.actualMs > e.predictedMs).length / es.length,
    };
  }
}
