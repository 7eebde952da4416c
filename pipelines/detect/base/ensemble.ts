/**
 * The default base detector: an ensemble of cheap online scores, each judged against the series'
 * own history, with one alarm per event. Everything is learned as samples arrive (no value range
 * or length known in advance), state is one buffer seen as two typed arrays (1,596 bytes with the
 * defaults) and a few objects, and replaying the same samples rebuilds the same state.
 *
 * Per sample (t, v):
 * 1. **Forecast residual.** forecast = level (EWMA of the deseasonalized value, `alpha`) + daily
 *    pattern (`seasonBuckets` buckets over `seasonMs`, linearly interpolated; each bucket a running
 *    mean for its first samples, then an EWMA with `gamma`). The residual r = v − forecast is
 *    measured in units of its usual size σ (EWMA of |r| × 1.2533, residuals clipped at 5σ so one
 *    anomaly does not inflate it), floored at 1% of the range seen so far. Three scores come from
 *    it: the residual itself, a level change (EWMA of r over ~10 samples, in units of its own
 *    noise) and a spread change (|log| of recent vs usual |r|); the largest counts.
 * 2. **Pattern surprise.** The value is quantized into `levels` levels over the range seen so far;
 *    −log P(level | previous level) and −log P(level | UTC hour), learned by counting (rows halve
 *    past 20,000 so the model keeps adapting), blended 60/40. It catches broken daily patterns,
 *    flatlines where the series is usually busy, and values rare for the hour.
 * 3. **Anomaly likelihood** (Numenta's idea): for each of 1 and 2, the mean of the last `short`
 *    scores against the long-run mean and spread of that mean (EW, `historyAlpha`); the Gaussian
 *    tail probability, in decades (5 = 1e-5). The pattern likelihood alarms above `threshold`, the
 *    residual likelihood above `residualThreshold`. This is what makes one threshold work on
 *    series of very different noise.
 * 4. **Novelty**: a value beyond the range seen so far by more than `novelty` of that range.
 * 5. **Spike**: a residual above `spikeThreshold` σ that is also 1.5× the largest residual of
 *    recent history (alarmed spikes count at half): isolated outliers of an otherwise calm series
 *    fire at once, a series full of spikes does not fire on each.
 *
 * An alarm is raised when any of 3–5 holds after `warmup` samples, and not within `rest` samples
 * of the previous alarm (one alarm per event). Missing values (NaN) and repeated or older
 * timestamps are skipped without touching the state: a gap never fires by itself.
 *
 * Settings: chosen on NAB by leave-one-category-out (pipelines/train/eval/loco.ts); figures in
 * pipelines/train/README.md.
 */
import { formatDuration } from '../rules/ast.ts';
import { fmt } from '../engine/explain.ts';
import { validateNumbers } from './options.ts';
import type { NumberRule } from './options.ts';
import { RestGate } from './rest.ts';
import type { BaseDetector, BaseResult } from './types.ts';

export interface EnsembleOptions {
  /** Pattern-likelihood alarm, in decades of tail probability. */
  threshold: number;
  /** Residual-likelihood alarm, in decades of tail probability. */
  residualThreshold: number;
  /** Lone-residual alarm, in σ (0 disables). */
  spikeThreshold: number;
  /** Beyond the range seen so far by this fraction of it (0 disables). */
  novelty: number;
  warmup: number;
  rest: number;
  alpha: number;
  gamma: number;
  seasonMs: number;
  seasonBuckets: number;
  levels: number;
  short: number;
  historyAlpha: number;
}

interface OptionDoc {
  default: number;
  rule: NumberRule;
  doc: string;
}

/**
 * The ensemble's options: default, limits and meaning, declared once. The CLI, the online stage's
 * config and the README table are generated from (or checked against) this.
 */
export const ENSEMBLE_OPTIONS: Record<keyof EnsembleOptions, OptionDoc> = {
  threshold: { default: 6, rule: { above: 0 }, doc: 'pattern-likelihood alarm threshold, in decades of tail probability (6 = 1e-6)' },
  residualThreshold: { default: 8, rule: { above: 0 }, doc: 'forecast-residual likelihood alarm threshold, in decades of tail probability' },
  spikeThreshold: { default: 8, rule: { min: 0 }, doc: 'a single residual above this many σ that also dwarfs recent residuals alarms at once (0: off)' },
  novelty: { default: 0.05, rule: { min: 0 }, doc: 'alarm on a value beyond the range seen so far by this fraction of it (0: off)' },
  warmup: { default: 300, rule: { min: 1, integer: true }, doc: 'samples before the first alarm' },
  rest: { default: 150, rule: { min: 0, integer: true }, doc: 'samples after an alarm during which no new alarm is raised (one alarm per event)' },
  alpha: { default: 0.02, rule: { above: 0, max: 1 }, doc: 'level smoothing of the forecast' },
  gamma: { default: 0.05, rule: { min: 0, max: 1 }, doc: 'seasonal smoothing of the forecast (after a running mean for each bucket\'s first samples)' },
  seasonMs: { default: 86_400_000, rule: { min: 0 }, doc: 'season length in ms (0: no season)' },
  seasonBuckets: { default: 48, rule: { min: 1, max: 1000, integer: true }, doc: 'buckets per season' },
  levels: { default: 6, rule: { min: 2, max: 64, integer: true }, doc: 'quantization levels of the pattern models' },
  short: { default: 10, rule: { min: 1, max: 1000, integer: true }, doc: 'samples averaged by the anomaly likelihood' },
  historyAlpha: { default: 0.0005, rule: { above: 0, max: 1 }, doc: 'smoothing of the likelihood\'s long-run mean and spread' },
};

export const ensembleDefaults: EnsembleOptions = Object.fromEntries(Object.entries(ENSEMBLE_OPTIONS).map(([k, d]) => [k, d.default])) as unknown as EnsembleOptions;

/** Fixed internals (not options): chosen once, documented here. */
const SCALE_ALPHA = 0.01;
const CLIP_SIGMA = 5;
const RANGE_FLOOR = 0.01;
const CAP = 20;
const TOD_WEIGHT = 0.4;
const COUNT_ALPHA = 0.1;
const COUNT_CAP = 20_000;

/** ln(c + COUNT_ALPHA) for whole counts 0..COUNT_CAP + 1: the pattern models read logs from here, not Math.log. */
const LN_COUNT = Float64Array.from({ length: COUNT_CAP + 2 }, (_, c) => Math.log(c + COUNT_ALPHA));
/** ln(T + COUNT_ALPHA · L) for row totals 0..COUNT_CAP + 1, one table per number of levels L (shared by every series). */
const LN_TOTAL = new Map<number, Float64Array>();
function lnTotals(L: number): Float64Array {
  let t = LN_TOTAL.get(L);
  if (!t) LN_TOTAL.set(L, (t = Float64Array.from({ length: COUNT_CAP + 2 }, (_, c) => Math.log(c + COUNT_ALPHA * L))));
  return t;
}
const SPIKE_MARGIN = 1.5;
const SPIKE_SHARE = 0.5;
const SPIKE_DECAY = 0.0001;
const LN10 = Math.LN10;
const HOUR = 3_600_000;

/** −log10 of the standard normal's upper tail Q(z); log10(2) for z ≤ 0. Abramowitz–Stegun 7.1.26 in log space. */
export function normalTailDecades(z: number): number {
  if (z <= 0) return Math.log10(2);
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return (x * x - Math.log(poly / 2)) / LN10;
}

/** Slots of one likelihood's state in the detector's Float64Array, after its ring of `short` scores. */
const LIK_SUM = 0;
const LIK_SLOT = 1;
const LIK_K = 2;
const LIK_MEAN = 3;
const LIK_VAR = 4;
const LIK_N = 5;
const LIK_STATE = 6;

/**
 * Numenta-style anomaly likelihood over one score stream: ring of the last `short` scores, EW
 * mean/variance of their mean. Its state lives in the detector's one Float64Array from `at`:
 * `size` ring slots, then LIK_STATE numbers (sum, next slot, count, mean, variance, n; all zero
 * at the start). Counts are whole numbers, exact in a double.
 */
function likelihood(f: Float64Array, at: number, size: number, alpha: number, raw: number): number {
  const st = at + size;
  const slot = f[st + LIK_SLOT]!;
  f[st + LIK_SLOT] = slot + 1 === size ? 0 : slot + 1;
  const sum = (f[st + LIK_SUM] = f[st + LIK_SUM]! + (raw - f[at + slot]!));
  f[at + slot] = raw;
  const k = (f[st + LIK_K] = f[st + LIK_K]! + 1);
  const avg = sum / (k < size ? k : size);
  const n = f[st + LIK_N]!;
  const mean = f[st + LIK_MEAN]!;
  const variance = f[st + LIK_VAR]!;
  // Below 2σ (a tail above 2%) the score reads 0: no threshold is that low, and the tail costs a log and an exp.
  let out = 0;
  if (n > 10) {
    const z = (avg - mean) / (Math.sqrt(variance) + 1e-3);
    if (z > 2) out = normalTailDecades(z);
  }
  const a = alpha > 1 / (n + 1) ? alpha : 1 / (n + 1);
  const d = avg - mean;
  f[st + LIK_MEAN] = mean + a * d;
  f[st + LIK_VAR] = (1 - a) * (variance + a * d * d);
  f[st + LIK_N] = n + 1;
  // The running sum drifts after millions of updates: recompute it once per wrap of 2^20.
  if ((k & 0xfffff) === 0) {
    let s = 0;
    for (let i = 0; i < size; i++) s += f[at + i]!;
    f[st + LIK_SUM] = s;
  }
  return out;
}

/** Why the ensemble fired (or would have), for the explanation. */
export type EnsembleReason = 'novelty' | 'spike' | 'residual' | 'level' | 'spread' | 'pattern' | 'none';

/** Slots of a result's numbers (what its sentence is built from), in `EnsembleResult.nums` from `at`. */
const R_T = 0;
const R_VALUE = 1;
const R_FORECAST = 2;
const R_LEVEL = 3;
const R_SEASONAL = 4;
const R_SIGMA = 5;
const R_MIN = 6;
const R_MAX = 7;
const R_RECENT = 8;
const R_USUAL = 9;
const R_Z = 10;
const R_COUNT = 11;

/**
 * The result object: one per detector, overwritten by the next `update` for ordinary samples; an
 * alarm gets its own copy, so alarms can be kept. The sentence is built only when read. Its
 * numbers live in the detector's buffer (a double in an object field is a 16-byte box of its
 * own); a copy takes them along in an array of its own.
 */
class EnsembleResult implements BaseResult {
  score = 0;
  isAnomaly = false;
  candidate = false;
  ready = false;
  reason: EnsembleReason = 'none';
  floored = false;
  seen = 0;
  resting = false;
  skipped = false;
  warmup = 0;
  seasonMs = 0;

  constructor(
    /** t, value, forecast, level, seasonal, sigma, min, max, recent, usual, z (R_* from `at`). */
    readonly nums: Float64Array,
    readonly at: number,
  ) {}

  get explanation(): string {
    return explain(this);
  }

  copy(): EnsembleResult {
    const c = new EnsembleResult(this.nums.slice(this.at, this.at + R_COUNT), 0);
    c.score = this.score;
    c.isAnomaly = this.isAnomaly;
    c.candidate = this.candidate;
    c.ready = this.ready;
    c.reason = this.reason;
    c.floored = this.floored;
    c.seen = this.seen;
    c.resting = this.resting;
    c.skipped = this.skipped;
    c.warmup = this.warmup;
    c.seasonMs = this.seasonMs;
    return c;
  }

  toJSON(): BaseResult {
    return { score: this.score, isAnomaly: this.isAnomaly, candidate: this.candidate, explanation: this.explanation, ready: this.ready };
  }
}

function explain(r: EnsembleResult): string {
  const x = (slot: number): number => r.nums[r.at + slot]!;
  if (r.skipped) return 'missing value (NaN) or a timestamp not after the previous one: skipped';
  if (!r.ready) return `warming up (${r.seen}/${r.warmup} samples)`;
  const v = fmt(x(R_VALUE));
  const lo = x(R_FORECAST) - 3 * x(R_SIGMA);
  const hi = x(R_FORECAST) + 3 * x(R_SIGMA);
  const expected = `the expected range ${fmt(round(lo))}–${fmt(round(hi))} (forecast ${fmt(round(x(R_FORECAST)))}${r.seasonMs > 0 ? ` = level ${fmt(round(x(R_LEVEL)))} ${x(R_SEASONAL) >= 0 ? '+' : '−'} ${fmt(round(Math.abs(x(R_SEASONAL))))} for this time of the ${formatDuration(r.seasonMs)} pattern` : ''})`;
  const usual = r.floored ? `the series has barely moved (usual deviation below ±${fmt(round(x(R_SIGMA)))}, 1% of its range)` : `usual deviation ±${fmt(round(x(R_SIGMA)))}`;
  const dir = x(R_VALUE) >= x(R_FORECAST) ? 'above' : 'below';
  const seenRange = `the range ${fmt(round(x(R_MIN)))}–${fmt(round(x(R_MAX)))} seen over ${r.seen} samples`;
  let text: string;
  switch (r.reason) {
    case 'novelty':
      text = `value ${v} is ${x(R_VALUE) > x(R_MAX) ? 'above' : 'below'} ${seenRange}, by more than 5% of it`;
      break;
    case 'spike':
      text = `value ${v} is far ${dir} ${expected}; ${usual}, and no recent deviation came near this one`;
      break;
    case 'level':
      text = `the level shifted: the last ~10 values average ${fmt(round(Math.abs(x(R_RECENT))))} ${x(R_RECENT) >= 0 ? 'above' : 'below'} the forecast (${usual}); value ${v}, ${expected}`;
      break;
    case 'spread':
      text = `the variability changed: recent deviations from the forecast average ±${fmt(round(x(R_RECENT)))} against a usual ±${fmt(round(x(R_USUAL)))}; value ${v}, ${expected}`;
      break;
    case 'residual':
      text = `value ${v} and the ones before it lie unusually far ${dir} ${expected}; ${usual}`;
      break;
    case 'pattern':
      text = `value ${v} breaks the series' pattern: this level of ${seenRange} rarely follows the previous value or occurs at ${hourText(x(R_T))} UTC; ${expected}`;
      break;
    default:
      text = `value ${v}, within its usual behaviour: ${expected}; ${usual}`;
  }
  if (r.resting) text += '; not alarmed: within the rest period after the previous alarm';
  return text;
}

function round(x: number): number {
  return Number(x.toPrecision(3));
}

function hourText(t: number): string {
  const h = ((Math.floor(t / HOUR) % 24) + 24) % 24;
  return `${String(h).padStart(2, '0')}:00`;
}

const ENSEMBLE_RULES: Record<string, NumberRule> = Object.fromEntries(Object.entries(ENSEMBLE_OPTIONS).map(([k, d]) => [k, d.rule]));
/** The defaults, validated once: a detector created without options (one per series online) shares them. */
let validatedDefaults: Readonly<EnsembleOptions> | undefined;

/** Options merged over the defaults and validated (ConfigError naming each bad key). */
function ensembleOptions(options: Partial<EnsembleOptions>): EnsembleOptions {
  let given = false;
  for (const _ in options) {
    given = true;
    break;
  }
  if (!given && validatedDefaults) return validatedDefaults;
  const o = { ...ensembleDefaults, ...options };
  validateNumbers('ensemble', { ...o }, ENSEMBLE_RULES);
  if (!given) validatedDefaults = Object.freeze(o);
  return o;
}

/** Slots of the detector's own numbers in its Float64Array, from `sc`. */
const D_LAST_T = 0;
const D_LEVEL = 1;
const D_ABS_RES = 2;
const D_SHORT_RES = 3;
const D_SHORT_ABS = 4;
const D_MIN = 5;
const D_MAX = 6;
const D_ZPEAK = 7;
const D_COUNT = 8;

export class EnsembleDetector implements BaseDetector {
  readonly name = 'ensemble';
  readonly opts: EnsembleOptions;
  private n = 0;
  private prevLevel = 0;
  private readonly lnTotal: Float64Array;
  /**
   * The float state: season (S), season weights (S), each likelihood's ring and numbers, the
   * detector's own numbers (D_*, from `sc`), the result's numbers (R_*, from `rs`). Numbers here
   * rather than in object fields: a double field is a 16-byte box of its own.
   */
  private readonly f64: Float64Array;
  /** The counts: ctx (L × L), ctxTot (L), tod (24 × L), todTot (24); at most COUNT_CAP + 1 each. */
  private readonly u16: Uint16Array;
  private readonly S: number;
  private readonly resAt: number;
  private readonly patAt: number;
  private readonly ctxTot: number;
  private readonly tod: number;
  private readonly todTot: number;
  private readonly sc: number;
  private readonly gate: RestGate;
  private readonly out: EnsembleResult;

  constructor(options: Partial<EnsembleOptions> = {}) {
    const o = ensembleOptions(options);
    this.opts = o;
    // One buffer for all the typed state, seen through two views (floats, then counts): a series
    // is created with one backing store and two typed arrays instead of ten (each costs an
    // allocation, ~100 bytes of heap, and the GC's tracking of external memory). Counts never
    // exceed COUNT_CAP + 1 (a row is halved past COUNT_CAP), so 16 bits hold them exactly.
    const S = o.seasonMs > 0 ? o.seasonBuckets : 1;
    const L = o.levels;
    const f64 = 2 * S + 2 * (o.short + LIK_STATE) + D_COUNT + R_COUNT;
    const u16 = L * L + L + 24 * L + 24;
    const buf = new ArrayBuffer(8 * f64 + 2 * u16);
    this.f64 = new Float64Array(buf, 0, f64);
    this.u16 = new Uint16Array(buf, 8 * f64, u16);
    this.S = S;
    this.resAt = 2 * S;
    this.patAt = 2 * S + o.short + LIK_STATE;
    this.ctxTot = L * L;
    this.tod = L * L + L;
    this.todTot = L * L + L + 24 * L;
    const sc = 2 * S + 2 * (o.short + LIK_STATE);
    this.sc = sc;
    this.f64[sc + D_LAST_T] = -Infinity;
    this.f64[sc + D_MIN] = Infinity;
    this.f64[sc + D_MAX] = -Infinity;
    this.lnTotal = lnTotals(L);
    this.gate = new RestGate(o.rest);
    this.out = new EnsembleResult(this.f64, sc + D_COUNT);
    this.out.warmup = o.warmup;
    this.out.seasonMs = o.seasonMs;
  }

  get rest(): number {
    return this.opts.rest;
  }

  veto(): void {
    this.gate.veto();
  }

  /** Samples accepted so far. */
  get seen(): number {
    return this.n;
  }

  update(t: number, v: number): BaseResult {
    const o = this.opts;
    const out = this.out;
    const f64 = this.f64;
    const u16 = this.u16;
    const sc = this.sc;
    const rs = sc + D_COUNT;
    out.isAnomaly = false;
    out.candidate = false;
    out.resting = false;
    this.gate.clear();
    out.reason = 'none';
    if (!Number.isFinite(v) || !(t > f64[sc + D_LAST_T])) {
      // A skipped sample's sentence needs none of the numbers: they stay as they were, so the
      // buffer after a gap is what it would be without the gap.
      out.skipped = true;
      out.score = 0;
      out.ready = this.n >= o.warmup;
      return out;
    }
    out.skipped = false;
    f64[rs + R_T] = t;
    f64[rs + R_VALUE] = v;
    f64[sc + D_LAST_T] = t;
    const n = this.n;
    if (n === 0) {
      f64[sc + D_LEVEL] = v;
      f64[sc + D_MIN] = v;
      f64[sc + D_MAX] = v;
      this.n = 1;
      out.score = 0;
      out.ready = false;
      out.seen = 1;
      return out;
    }
    // 1. Forecast and residual scores.
    let b = 0;
    let b2 = 0;
    let f = 0;
    let seasonal = 0;
    if (o.seasonMs > 0) {
      const S = o.seasonBuckets;
      // t mod season without a floating-point % (a libm call in V8); exact for integer ms.
      const within = t - Math.floor(t / o.seasonMs) * o.seasonMs;
      const phase = (within / o.seasonMs) * S - 0.5;
      const fl = Math.floor(phase);
      f = phase - fl;
      b = fl < 0 ? S - 1 : fl;
      b2 = fl + 1 >= S ? 0 : fl + 1;
      seasonal = (1 - f) * f64[b]! + f * f64[b2]!;
    }
    const forecast = f64[sc + D_LEVEL] + seasonal;
    const r = v - forecast;
    const absR = r < 0 ? -r : r;
    const range = f64[sc + D_MAX] - f64[sc + D_MIN];
    let floor = RANGE_FLOOR * range;
    const relFloor = 1e-6 * Math.abs(forecast) + 1e-9;
    if (floor < relFloor) floor = relFloor;
    const rawSigma = 1.2533 * f64[sc + D_ABS_RES];
    const floored = !(rawSigma > floor);
    const sigma = floored ? floor : rawSigma;
    const zRes = absR / sigma;
    const shortRes = f64[sc + D_SHORT_RES] + 0.2 * (r - f64[sc + D_SHORT_RES]);
    const zLevel = Math.abs(shortRes) / (sigma * 0.3333); // sd of an EWMA(0.2) of unit noise: √(0.2/1.8)
    const shortAbs = f64[sc + D_SHORT_ABS] + 0.2 * (absR - f64[sc + D_SHORT_ABS]);
    const zSpread = 2 * Math.abs(Math.log((shortAbs + 0.1 * floor) / (f64[sc + D_ABS_RES] + 0.1 * floor)));
    let zr = zRes;
    let which: EnsembleReason = 'residual';
    if (zLevel > zr) {
      zr = zLevel;
      which = 'level';
    }
    if (zSpread > zr) {
      zr = zSpread;
      which = 'spread';
    }
    if (zr > CAP) zr = CAP;
    // 2. Pattern surprise over the range seen so far.
    const L = o.levels;
    let lv = range > 0 ? Math.floor(((v - f64[sc + D_MIN]) / range) * L) : 0;
    if (lv < 0) lv = 0;
    else if (lv >= L) lv = L - 1;
    const prev = this.prevLevel;
    const pc = prev * L + lv;
    const lnTotal = this.lnTotal;
    // −ln P(level | previous level), additive smoothing COUNT_ALPHA.
    const sCtx = lnTotal[u16[this.ctxTot + prev]!]! - LN_COUNT[u16[pc]!]!;
    const hours = Math.floor(t / HOUR);
    const h = hours - Math.floor(hours / 24) * 24;
    const ph = h * L + lv;
    const sTod = lnTotal[u16[this.todTot + h]!]! - LN_COUNT[u16[this.tod + ph]!]!;
    // 3. Likelihoods.
    const lRes = likelihood(f64, this.resAt, o.short, o.historyAlpha, zr);
    const lPat = likelihood(f64, this.patAt, o.short, o.historyAlpha, (1 - TOD_WEIGHT) * sCtx + TOD_WEIGHT * sTod);
    // 4, 5. Novelty and spike.
    const novel = o.novelty > 0 && range > 0 && (v > f64[sc + D_MAX] + o.novelty * range || v < f64[sc + D_MIN] - o.novelty * range);
    const spiky = o.spikeThreshold > 0 && zRes > o.spikeThreshold && zRes > SPIKE_MARGIN * f64[sc + D_ZPEAK];
    const resScaled = (lRes * o.threshold) / o.residualThreshold;
    const score = resScaled > lPat ? resScaled : lPat;
    const ready = n >= o.warmup;
    let reason: EnsembleReason = 'none';
    if (novel) reason = 'novelty';
    else if (spiky) reason = 'spike';
    else if (lRes > o.residualThreshold) reason = which;
    else if (lPat > o.threshold) reason = 'pattern';
    if (ready && reason !== 'none') {
      out.candidate = true;
      if (this.gate.pass(n)) out.isAnomaly = true;
      else out.resting = true;
    }
    out.score = ready ? score : 0;
    out.ready = ready;
    out.reason = reason;
    f64[rs + R_FORECAST] = forecast;
    f64[rs + R_LEVEL] = f64[sc + D_LEVEL];
    f64[rs + R_SEASONAL] = seasonal;
    f64[rs + R_SIGMA] = sigma;
    out.floored = floored;
    f64[rs + R_MIN] = f64[sc + D_MIN];
    f64[rs + R_MAX] = f64[sc + D_MAX];
    f64[rs + R_RECENT] = which === 'spread' ? shortAbs * 1.2533 : shortRes;
    f64[rs + R_USUAL] = rawSigma;
    f64[rs + R_Z] = zRes;
    out.seen = n;

    // Learn.
    if (n >= o.warmup / 2) {
      const decayed = f64[sc + D_ZPEAK] * (1 - SPIKE_DECAY);
      const z = spiky ? SPIKE_SHARE * zRes : zRes;
      f64[sc + D_ZPEAK] = z > decayed ? z : decayed;
    }
    const clip = absR < CLIP_SIGMA * sigma ? absR : CLIP_SIGMA * sigma;
    const sa = SCALE_ALPHA > 1 / n ? SCALE_ALPHA : 1 / n;
    f64[sc + D_ABS_RES] = n === 1 ? absR : f64[sc + D_ABS_RES] + sa * (clip - f64[sc + D_ABS_RES]);
    f64[sc + D_SHORT_RES] = shortRes;
    f64[sc + D_SHORT_ABS] = shortAbs;
    f64[sc + D_LEVEL] += o.alpha * (v - seasonal - f64[sc + D_LEVEL]);
    if (o.seasonMs > 0) {
      const x = v - f64[sc + D_LEVEL];
      const w1 = 1 - f;
      const S = this.S;
      const W1 = (f64[S + b] = f64[S + b]! + w1);
      const W2 = (f64[S + b2] = f64[S + b2]! + f);
      const g1 = w1 * (o.gamma > w1 / W1 ? o.gamma : w1 / W1);
      const g2 = W2 > 0 ? f * (o.gamma > f / W2 ? o.gamma : f / W2) : 0;
      f64[b] = f64[b]! + g1 * (x - f64[b]!);
      f64[b2] = f64[b2]! + g2 * (x - f64[b2]!);
    }
    count(u16, 0, this.ctxTot, prev, pc, L);
    count(u16, this.tod, this.todTot, h, ph, L);
    this.prevLevel = lv;
    if (v < f64[sc + D_MIN]) f64[sc + D_MIN] = v;
    if (v > f64[sc + D_MAX]) f64[sc + D_MAX] = v;
    this.n = n + 1;
    return out.isAnomaly ? out.copy() : out;
  }
}

/**
 * One count in row `row` of the table at `cells` (row totals at `totals`); a row past COUNT_CAP is
 * halved (whole counts, rounded down), so old behaviour fades.
 */
function count(u16: Uint16Array, cells: number, totals: number, row: number, cell: number, L: number): void {
  u16[cells + cell] = u16[cells + cell]! + 1;
  const tot = (u16[totals + row] = u16[totals + row]! + 1);
  if (tot > COUNT_CAP) {
    let s = 0;
    for (let i = cells + row * L; i < cells + row * L + L; i++) {
      const c = u16[i]! >> 1;
      u16[i] = c;
      s += c;
    }
    u16[totals + row] = s;
  }
}
