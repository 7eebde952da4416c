/**
 * Goodput and SLO attainment of the inference pool, computed from `inference.results` records as
 * the Clockwork evaluation defines them (pipelines/inference/README.md):
 *   - goodput = requests completed within their deadline (status ok) per second;
 *   - SLO attainment = ok / requests that ran (ok + late + error); rejected requests never ran.
 * Over a sliding window of one-second buckets keyed by the record's time (Kafka timestamp), so a
 * dashboard started late shows what happened recently, not an average since the beginning. Pure.
 */
import type { InferenceResult } from '../core/records.ts';

interface Counts {
  ok: number;
  late: number;
  rejected: number;
  error: number;
  /** Sum of totalMs of requests that ran, for the mean latency. */
  latencyMs: number;
}

const zero = (): Counts => ({ ok: 0, late: 0, rejected: 0, error: 0, latencyMs: 0 });

export interface ModelSummary extends Omit<Counts, 'latencyMs'> {
  model: string;
  total: number;
  goodputPerSec: number;
  /** null when nothing ran in the window. */
  sloAttainment: number | null;
  meanLatencyMs: number | null;
}

export interface InferenceSummary {
  windowMs: number;
  models: ModelSummary[];
  overall: ModelSummary;
  /** Per second of the window, oldest first: goodput and requests that ran (for the chart). */
  timeline: { t: number; ok: number; ran: number }[];
  lifetime: { total: number; ok: number };
}

export class InferenceStats {
  /** second → model → counts. */
  private readonly buckets = new Map<number, Map<string, Counts>>();
  private lifetimeTotal = 0;
  private lifetimeOk = 0;

  constructor(private readonly windowMs: number) {}

  add(r: InferenceResult, atMs: number): void {
    const sec = Math.floor(atMs / 1000);
    let b = this.buckets.get(sec);
    if (!b) this.buckets.set(sec, (b = new Map()));
    let c = b.get(r.model);
    if (!c) b.set(r.model, (c = zero()));
    c[r.status]++;
    if (r.status !== 'rejected') c.latencyMs += r.totalMs;
    this.lifetimeTotal++;
    if (r.status === 'ok') this.lifetimeOk++;
    this.prune(atMs);
  }

  private prune(nowMs: number): void {
    // Buckets are pruned against the newest record seen, so memory stays bounded by the window.
    const oldest = Math.floor((nowMs - this.windowMs) / 1000);
    for (const sec of this.buckets.keys()) if (sec < oldest) this.buckets.delete(sec);
  }

  summary(nowMs: number): InferenceSummary {
    const from = Math.floor((nowMs - this.windowMs) / 1000) + 1;
    const to = Math.floor(nowMs / 1000);
    const per = new Map<string, Counts>();
    const all = zero();
    const timeline: InferenceSummary['timeline'] = [];
    let first: number | null = null;
    for (let sec = from; sec <= to; sec++) {
      const b = this.buckets.get(sec);
      let ok = 0;
      let ran = 0;
      if (b) {
        first ??= sec;
        for (const [model, c] of b) {
          const m = per.get(model) ?? zero();
          per.set(model, m);
          for (const k of ['ok', 'late', 'rejected', 'error', 'latencyMs'] as const) {
            m[k] += c[k];
            all[k] += c[k];
          }
          ok += c.ok;
          ran += c.ok + c.late + c.error;
        }
      }
      timeline.push({ t: sec * 1000, ok, ran });
    }
    // Goodput over the part of the window that had traffic in it: a pool that started 5 s ago
    // serving 100 req/s shows 100, not 100 × 5 / 60.
    const spanSec = first === null ? 1 : Math.max(1, to - first + 1);
    const summarize = (model: string, c: Counts): ModelSummary => {
      const ran = c.ok + c.late + c.error;
      return {
        model,
        ok: c.ok,
        late: c.late,
        rejected: c.rejected,
        error: c.error,
        total: ran + c.rejected,
        goodputPerSec: c.ok / spanSec,
        sloAttainment: ran === 0 ? null : c.ok / ran,
        meanLatencyMs: ran === 0 ? null : c.latencyMs / ran,
      };
    };
    return {
      windowMs: this.windowMs,
      models: [...per.entries()].map(([m, c]) => summarize(m, c)).sort((a, b) => a.model.localeCompare(b.model)),
      overall: summarize('all', all),
      timeline,
      lifetime: { total: this.lifetimeTotal, ok: this.lifetimeOk },
    };
  }
}
