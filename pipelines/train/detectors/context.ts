/**
 * Context scorer: quantizes values into levels over a known value range and learns, online, how
 * often each level follows each recent context of levels (orders 1..maxOrder). Surprise is
 * -log P(level | context), blended over orders. A value whose context has never predicted it is
 * novel; a pattern seen many times is not, whatever its amplitude. This catches what a z-score
 * misses on NAB: broken daily patterns, flatlines where the series is usually busy, rare levels.
 * A time-of-day model (P(level | UTC hour)) is blended in. The surprise then goes through the anomaly likelihood, spatial novelty and a rest period (see
 * anomaly-likelihood.ts), which is what makes it score well on NAB.
 */
import { AnomalyLikelihood, RestPeriod, SpatialNovelty } from './anomaly-likelihood.ts';

export interface ContextOptions {
  levels: number;
  maxOrder: number;
  /** Additive smoothing of the level counts. */
  alpha: number;
  min: number;
  max: number;
}

export class ContextSurprise {
  private readonly counts: Int32Array[];
  private readonly totals: Int32Array[];
  private readonly recent: number[] = [];

  constructor(private readonly o: ContextOptions) {
    this.counts = [];
    this.totals = [];
    for (let k = 0; k <= o.maxOrder; k++) {
      const contexts = o.levels ** k;
      this.counts.push(new Int32Array(contexts * o.levels));
      this.totals.push(new Int32Array(contexts));
    }
  }

  level(v: number): number {
    const { min, max, levels } = this.o;
    if (!(max > min)) return 0;
    const l = Math.floor(((v - min) / (max - min)) * levels);
    return Math.min(levels - 1, Math.max(0, l));
  }

  /** Surprise (nats) of v given the recent levels, then learns from it. */
  update(v: number): number {
    const { levels, maxOrder, alpha } = this.o;
    const b = this.level(v);
    let surprise = 0;
    let used = 0;
    let ctx = 0;
    let mult = 1;
    for (let k = 0; k <= maxOrder; k++) {
      if (k > 0) {
        if (this.recent.length < k) break;
        ctx += this.recent[this.recent.length - k]! * mult;
        mult *= levels;
      }
      const tot = this.totals[k]![ctx]!;
      const c = this.counts[k]![ctx * levels + b]!;
      surprise += -Math.log((c + alpha) / (tot + alpha * levels));
      used++;
      this.counts[k]![ctx * levels + b] = c + 1;
      this.totals[k]![ctx] = tot + 1;
    }
    this.recent.push(b);
    if (this.recent.length > maxOrder) this.recent.shift();
    return used === 0 ? 0 : surprise / used;
  }
}

/**
 * How usual a level is at this hour of the (UTC) day: -log P(level | hour), learned online. Many
 * operational series follow the day; a value normal at noon can be the anomaly at 3 am.
 */
export class TimeOfDaySurprise {
  private readonly counts: Float64Array;
  private readonly totals = new Float64Array(24);

  constructor(private readonly levels: ContextSurprise, private readonly alpha: number, private readonly levelCount: number) {
    this.counts = new Float64Array(24 * levelCount);
  }

  update(t: number, v: number): number {
    // UTC hour without a Date per sample (epoch ms has no leap seconds).
    const h = ((Math.floor(t / 3_600_000) % 24) + 24) % 24;
    const b = this.levels.level(v);
    const p = (this.counts[h * this.levelCount + b]! + this.alpha) / (this.totals[h]! + this.alpha * this.levelCount);
    this.counts[h * this.levelCount + b]!++;
    this.totals[h]!++;
    return -Math.log(p);
  }
}

export interface ContextScorerOptions {
  /** One context model per entry, each quantizing into this many levels; surprises are averaged. */
  levels: number[];
  maxOrder: number;
  alpha: number;
  /** Value range used for quantization. */
  min: number;
  max: number;
  shortWindow: number;
  historyWindow: number;
  learningPeriod: number;
  spatialTolerance: number;
  restPeriod: number;
  restAbove: number;
  /** Weight of the time-of-day surprise in the blend (0 disables it). */
  timeOfDayWeight: number;
  timeOfDayLevels: number;
}

/** Chosen on NAB (see README for the neighbourhood of these values and what they score). */
export const DEFAULT_CONTEXT = {
  levels: [6, 8, 10],
  maxOrder: 1,
  alpha: 0.1,
  shortWindow: 10,
  historyWindow: 8000,
  learningPeriod: 150,
  spatialTolerance: 0.05,
  restAbove: 0.5,
  timeOfDayWeight: 0.4,
  timeOfDayLevels: 8,
} as const;

/** Rest period as a fraction of NAB's probationary period (CAD OSE uses 1/5). */
export const CONTEXT_REST_FRACTION = 0.15;

export class ContextScorer {
  private readonly models: ContextSurprise[];
  private readonly likelihood: AnomalyLikelihood;
  private readonly spatial: SpatialNovelty;
  private readonly rest: RestPeriod;
  private readonly timeOfDay: TimeOfDaySurprise;

  constructor(private readonly o: ContextScorerOptions) {
    this.models = o.levels.map((levels) => new ContextSurprise({ levels, maxOrder: o.maxOrder, alpha: o.alpha, min: o.min, max: o.max }));
    const todLevels = new ContextSurprise({ levels: o.timeOfDayLevels, maxOrder: 0, alpha: o.alpha, min: o.min, max: o.max });
    this.timeOfDay = new TimeOfDaySurprise(todLevels, o.alpha, o.timeOfDayLevels);
    this.likelihood = new AnomalyLikelihood(o.shortWindow, o.historyWindow, o.learningPeriod);
    this.spatial = new SpatialNovelty(o.spatialTolerance, o.learningPeriod);
    this.rest = new RestPeriod(o.restPeriod, o.restAbove);
  }

  update(t: number, v: number): number {
    const novel = this.spatial.update(v);
    let surprise = 0;
    for (const m of this.models) surprise += m.update(v);
    surprise /= this.models.length;
    const w = this.o.timeOfDayWeight;
    if (w > 0) surprise = (1 - w) * surprise + w * this.timeOfDay.update(t, v);
    const score = this.likelihood.update(surprise);
    return this.rest.update(novel ? 1 : score);
  }
}

/**
 * Scores a whole series the way NAB's harness runs a detector: the detector is told the file's
 * value range and probationary period (NAB's base detector gets inputMin / inputMax and
 * probationaryPeriod); everything else is streaming.
 */
export function contextScores(
  series: { timestamps: ArrayLike<number>; values: ArrayLike<number> },
  overrides: Partial<ContextScorerOptions> = {},
): Float64Array {
  const { timestamps, values } = series;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const probation = Math.min(Math.floor(0.15 * values.length), 750);
  const s = new ContextScorer({ ...DEFAULT_CONTEXT, levels: [...DEFAULT_CONTEXT.levels], min, max, restPeriod: Math.round(CONTEXT_REST_FRACTION * probation), ...overrides });
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = s.update(timestamps[i]!, values[i]!);
  return out;
}
