/**
 * The offline detection agent: no model, a deterministic search over rule templates and
 * thresholds in the Panoptes rule language. Given the same chunk and state as the LLM detection
 * agent (a labelled chunk, the base detector's labels, what the current rules fire), it ranks one
 * candidate per template by the chunk's event F1 under Argos's combination and answers the
 * `rank`-th best. Thresholds come from the chunk itself: just inside the peak of each labelled
 * event the current rules miss (FN), or just around the feature values at the base detector's
 * false and true alarms (FP), rounded to 3 significant digits so rules read well.
 * Same data, same chunk, same state → same rules.
 */
import { combineTrace, lastAlarmBefore, type BaseTrace } from '../../detect/index.ts';
import type { DetectionAnswer } from '../../llm/index.ts';
import { eventMetrics, pointAdjustedMetrics } from '../metrics/event.ts';
import { FEATURES, acceptedRows, computeFeature, persist } from './features.ts';
import type { FeatureName } from './features.ts';

export type RuleKindName = 'FN' | 'FP';

/** What the detection agent sees, as arrays over the rows [0, fitEnd). */
export interface DetectionContext {
  /** Identifies the series, for the feature cache. */
  seriesKey: string;
  timestamps: ArrayLike<number>;
  values: ArrayLike<number>;
  fitEnd: number;
  truth: Uint8Array;
  /** The base detector's trace (alarm candidates + rest): a vetoed alarm starts no rest (pipelines/detect/base/rest.ts). */
  base: BaseTrace;
  /** 1 where any accepted FP rule fires / any accepted FN rule fires. */
  fpVeto: Uint8Array;
  fnOr: Uint8Array;
  /** Bumped whenever a rule is accepted, so cached rankings are not reused across states. */
  stateVersion: number;
  /** Expressions of the rules kept so far (a template already used is not proposed again). */
  deployed: readonly string[];
  chunk: { start: number; end: number };
  kind: RuleKindName;
  rank: number;
  /**
   * FP templates relative to the recent past only: no absolute `value < c` veto, which vetoes a
   * real anomaly of the same size once the series' level drifts (trainer option `fpRelative`).
   */
  fpRelative?: boolean;
}

interface Template {
  feature: FeatureName;
  op: '>' | '<';
  n: number;
  /** Words for the description. */
  says: string;
}

const FN_TEMPLATES: Template[] = [
  { feature: 'z288', op: '>', n: 1, says: 'above its mean of the last 288 samples by several standard deviations' },
  { feature: 'z288', op: '>', n: 3, says: 'above its 288-sample mean by several standard deviations for 3 samples' },
  { feature: 'rz288', op: '>', n: 1, says: 'far from its 288-sample median in MADs' },
  { feature: 'z288', op: '<', n: 1, says: 'below its 288-sample mean by several standard deviations' },
  { feature: 'z48', op: '>', n: 1, says: 'above its 48-sample mean by several standard deviations' },
  { feature: 'rz48', op: '>', n: 1, says: 'far from its 48-sample median in MADs' },
  { feature: 'value', op: '>', n: 1, says: 'above a fixed level' },
  { feature: 'value', op: '<', n: 1, says: 'below a fixed level' },
  { feature: 'value', op: '>', n: 3, says: 'above a fixed level for 3 samples' },
  { feature: 'shift12_288', op: '>', n: 1, says: 'level shift up: 12-sample mean above the 288-sample mean' },
  { feature: 'shift12_288', op: '<', n: 1, says: 'level shift down: 12-sample mean below the 288-sample mean' },
  { feature: 'delta1', op: '>', n: 1, says: 'jumped up from the previous sample' },
  { feature: 'delta1', op: '<', n: 1, says: 'dropped from the previous sample' },
];

const FP_TEMPLATES: Template[] = [
  { feature: 'qr288', op: '<', n: 1, says: 'the value is under a high quantile of its last 288 samples' },
  { feature: 'qr1440', op: '<', n: 1, says: 'the value is under a high quantile of its last 1440 samples' },
  { feature: 'value', op: '<', n: 1, says: 'the value stays below a level real anomalies exceed' },
  { feature: 'rz288', op: '<', n: 1, says: 'the value is within a few MADs of its 288-sample median' },
  { feature: 'rz48', op: '<', n: 1, says: 'the value is within a few MADs of its 48-sample median' },
  { feature: 'z288', op: '<', n: 1, says: 'the value is under its mean + a few std of the last 288 samples' },
  { feature: 'std288', op: '>', n: 1, says: 'the last 288 samples are volatile anyway' },
  { feature: 'std48', op: '>', n: 1, says: 'the last 48 samples are volatile anyway' },
];

interface Stretch {
  start: number;
  end: number;
  truth: Uint8Array;
  /** The base's trace on the stretch, and the sample of the last alarm raised before it. */
  trace: BaseTrace;
  last0: number;
  veto: Uint8Array;
  fnOr: Uint8Array;
  cur: Uint8Array;
  before: ChunkScore;
  missed: Array<[number, number]>;
  falseAlarms: number[];
  trueAlarms: number[];
}

export interface RankedCandidate {
  answer: DetectionAnswer;
  template: string;
  threshold: number;
  chunkBefore: ChunkScore;
  chunkAfter: ChunkScore;
}

export interface ChunkScore {
  /** Event F1 (each labelled segment once, each run of outside alarms once); null read as 1. */
  f1: number;
  tp: number;
  fpEvents: number;
  /** Point-adjusted F1, null read as 1: counts every false alarm point, so an alarm held on
   * almost every sample, which event F1 counts as a few runs, cannot look good. */
  pa: number;
}

/** Event and point-adjusted F1 on a stretch, with `null` (nothing labelled, nothing raised) read as perfect. */
export function chunkScore(pred: Uint8Array, truth: Uint8Array): ChunkScore {
  const m = eventMetrics(pred, truth);
  return { f1: m.f1 ?? 1, tp: m.tp, fpEvents: m.fp, pa: pointAdjustedMetrics(pred, truth).f1 ?? 1 };
}

/**
 * Strictly better: higher event F1, or the same with fewer false-alarm runs and no event lost;
 * and in both cases point-adjusted F1 no lower.
 */
export function improves(after: ChunkScore, before: ChunkScore): boolean {
  const eps = 1e-12;
  if (after.pa < before.pa - eps) return false;
  if (after.f1 > before.f1 + eps) return true;
  return after.f1 >= before.f1 - eps && after.fpEvents < before.fpEvents && after.tp >= before.tp;
}

/** Orders scores best first: event F1, fewer false-alarm runs, more events, point-adjusted F1. */
export function compareScores(a: ChunkScore, b: ChunkScore): number {
  if (Math.abs(a.f1 - b.f1) > 1e-12) return b.f1 - a.f1;
  if (a.fpEvents !== b.fpEvents) return a.fpEvents - b.fpEvents;
  if (a.tp !== b.tp) return b.tp - a.tp;
  return Math.abs(a.pa - b.pa) > 1e-12 ? b.pa - a.pa : 0;
}

/** Rounds to 3 significant digits, strictly below (`down`) or above `x`. */
export function niceBeyond(x: number, down: boolean): number {
  if (x === 0) return down ? -0.001 : 0.001;
  const mag = 10 ** (Math.floor(Math.log10(Math.abs(x))) - 2);
  let r = (down ? Math.floor(x / mag) : Math.ceil(x / mag)) * mag;
  if (down ? r >= x : r <= x) r += down ? -mag : mag;
  return Number(r.toPrecision(12));
}

function fmtNum(x: number): string {
  return String(Number(x.toPrecision(6)));
}

function quantileOf(sorted: number[], q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  return lo >= sorted.length - 1 ? sorted[sorted.length - 1]! : sorted[lo]! + (sorted[lo + 1]! - sorted[lo]!) * (h - lo);
}

/** At most `max` values spread over the sorted distinct input. */
function spread(xs: number[], max: number): number[] {
  const u = [...new Set(xs.filter((x) => Number.isFinite(x)))].sort((a, b) => a - b);
  if (u.length <= max) return u;
  return Array.from({ length: max }, (_, i) => u[Math.round((i * (u.length - 1)) / (max - 1))]!);
}

export class OfflineSynthesizer {
  private readonly features = new Map<string, Float64Array>();
  private readonly rows = new Map<string, Int32Array>();
  private readonly rankings = new Map<string, RankedCandidate[]>();
  /** Which template produced an expression this synthesizer proposed. */
  private readonly templateOf = new Map<string, { kind: RuleKindName; t: Template; ti: number }>();

  private rowsOf(ctx: DetectionContext): Int32Array {
    let r = this.rows.get(ctx.seriesKey);
    if (!r) {
      r = acceptedRows(ctx.timestamps, ctx.values, ctx.fitEnd);
      this.rows.set(ctx.seriesKey, r);
    }
    return r;
  }

  private feature(ctx: DetectionContext, t: Template): Float64Array {
    const key = `${ctx.seriesKey}\0${t.feature}\0${t.op}\0${t.n}`;
    let f = this.features.get(key);
    if (!f) {
      const rows = this.rowsOf(ctx);
      const baseKey = `${ctx.seriesKey}\0${t.feature}`;
      let raw = this.features.get(baseKey);
      if (!raw) {
        raw = computeFeature(t.feature, ctx.values, rows, ctx.fitEnd);
        this.features.set(baseKey, raw);
      }
      f = persist(raw, rows, t.n, t.op);
      this.features.set(key, f);
    }
    return f;
  }

  /** Current labels, the truth and what can be changed on rows [start, end). */
  private stretch(ctx: DetectionContext, start: number, end: number): Stretch {
    const len = end - start;
    const truth = ctx.truth.subarray(start, end);
    const b = ctx.base;
    const trace: BaseTrace = { candidates: b.candidates.subarray(start, end), sample: b.sample.subarray(start, end), rest: b.rest };
    const last0 = lastAlarmBefore(b, ctx.fpVeto, start);
    const veto = ctx.fpVeto.subarray(start, end);
    const fnOr = ctx.fnOr.subarray(start, end);
    const cur = combineTrace(trace, veto, fnOr, 0, len, last0);
    // Labelled events the current labels miss, and alarms an FP rule could veto.
    const missed: Array<[number, number]> = [];
    for (let i = 0; i < len; ) {
      if (!truth[i]) {
        i++;
        continue;
      }
      let j = i;
      let hit = false;
      for (; j < len && truth[j]; j++) if (cur[j] === 1) hit = true;
      if (!hit) missed.push([i, j]);
      i = j;
    }
    // Every row where the base's alarm condition holds, not only the alarms raised: a veto frees
    // the rest, so the next candidate of the same run would alarm unless the veto covers it too.
    const falseAlarms: number[] = [];
    const trueAlarms: number[] = [];
    for (let i = 0; i < len; i++) if (trace.candidates[i] && !veto[i] && !fnOr[i]) (truth[i] ? trueAlarms : falseAlarms).push(i);
    return { start, end, truth, trace, last0, veto, fnOr, cur, before: chunkScore(cur, truth), missed, falseAlarms, trueAlarms };
  }

  /**
   * The best threshold of one template on a stretch. Among thresholds that score the same, for FN
   * rules the middle of their range when it scores the same too (the widest margin on both
   * sides), else (and for FP rules) the most conservative one.
   */
  private search(ctx: DetectionContext, kind: RuleKindName, t: Template, st: Stretch): { k: number; s: ChunkScore } | undefined {
    const { start, end, truth, trace, last0, veto, fnOr, cur } = st;
    const len = end - start;
    const f = this.feature(ctx, t).subarray(start, end);
    const up = t.op === '>';
    let thresholds: number[] = [];
    if (kind === 'FN') {
      for (const [a, b] of st.missed) {
        let peak = up ? -Infinity : Infinity;
        for (let i = a; i < b; i++) {
          const v = f[i]!;
          if (Number.isFinite(v)) peak = up ? Math.max(peak, v) : Math.min(peak, v);
        }
        if (Number.isFinite(peak)) thresholds.push(niceBeyond(peak, up));
      }
      const normal: number[] = [];
      for (let i = 0; i < len; i++) if (!truth[i] && Number.isFinite(f[i]!)) normal.push(f[i]!);
      normal.sort((x, y) => x - y);
      if (normal.length > 0) for (const q of up ? [0.99, 0.999, 1] : [0.01, 0.001, 0]) thresholds.push(niceBeyond(quantileOf(normal, q), !up));
    } else {
      // Veto where f <op> k: just past each false alarm's value, or just short of a true alarm's.
      for (const i of st.falseAlarms) if (Number.isFinite(f[i]!)) thresholds.push(niceBeyond(f[i]!, up));
      for (const i of st.trueAlarms) if (Number.isFinite(f[i]!)) thresholds.push(niceBeyond(f[i]!, !up));
    }
    thresholds = spread(thresholds, 40);
    if (FEATURES[t.feature].positiveOnly) thresholds = thresholds.filter((k) => k > 0);
    if (t.feature === 'qr288' || t.feature === 'qr1440') thresholds = thresholds.filter((k) => k <= 1);
    const pred = new Uint8Array(len);
    const vetoWith = new Uint8Array(len);
    const score = (k: number): ChunkScore => {
      for (let i = 0; i < len; i++) {
        const v = f[i]!;
        const fires = up ? v > k : v < k;
        if (kind === 'FN') pred[i] = cur[i]! | (fires ? 1 : 0);
        else vetoWith[i] = veto[i]! | (fires ? 1 : 0);
      }
      if (kind === 'FP') combineTrace(trace, vetoWith, fnOr, 0, len, last0, pred);
      return chunkScore(pred, truth);
    };
    const scored = thresholds.map((k) => ({ k, s: score(k) }));
    let best: { k: number; s: ChunkScore } | undefined;
    // Ties go to the more conservative threshold (fewer firings): the larger k for '>'.
    for (const c of scored) if (!best || compareScores(c.s, best.s) < 0 || (compareScores(c.s, best.s) === 0 && (up ? c.k > best.k : c.k < best.k))) best = c;
    if (!best) return undefined;
    const top = best;
    const ties = scored.filter((c) => compareScores(c.s, top.s) === 0).map((c) => c.k);
    const lo = Math.min(...ties);
    const hi = Math.max(...ties);
    // FP rules stay conservative: a veto wider than the evidence is what costs real anomalies later.
    if (kind === 'FN' && lo < hi) {
      const mid = Number(((lo + hi) / 2).toPrecision(3));
      if (mid > lo && mid < hi && !(FEATURES[t.feature].positiveOnly && mid <= 0)) {
        const s = score(mid);
        if (compareScores(s, best.s) === 0) best = { k: mid, s };
      }
    }
    return best;
  }

  private candidate(kind: RuleKindName, t: Template, ti: number, st: Stretch, best: { k: number; s: ChunkScore }): RankedCandidate {
    const kText = fmtNum(best.k);
    const expr = FEATURES[t.feature].expr(t.op, kText) + (t.n > 1 ? ` for ${t.n}` : '');
    this.templateOf.set(expr, { kind, t, ti });
    const what = kind === 'FN' ? `value ${t.says}` : `veto base alarms where ${t.says}`;
    return {
      template: `${kind}:${t.feature}${t.op}${t.n > 1 ? ` for ${t.n}` : ''}#${ti}`,
      threshold: best.k,
      chunkBefore: st.before,
      chunkAfter: best.s,
      answer: {
        kind,
        expr,
        description: what.slice(0, 300),
        rationale:
          `offline synthesizer, template ${t.feature} ${t.op}${t.n > 1 ? ` for ${t.n}` : ''}: on rows ${st.start}-${st.end - 1} event F1 ` +
          `${st.before.f1.toFixed(3)} -> ${best.s.f1.toFixed(3)}, detected events ${st.before.tp} -> ${best.s.tp}, false-alarm runs ${st.before.fpEvents} -> ${best.s.fpEvents}`,
      },
    };
  }

  /** Candidates for the context's chunk and kind, best first (one per template that helps). */
  rank(ctx: DetectionContext): RankedCandidate[] {
    const key = `${ctx.seriesKey}\0${ctx.stateVersion}\0${ctx.chunk.start}\0${ctx.chunk.end}\0${ctx.kind}`;
    const cached = this.rankings.get(key);
    if (cached) return cached;
    const out: RankedCandidate[] = [];
    const st = this.stretch(ctx, ctx.chunk.start, ctx.chunk.end);
    if (ctx.kind === 'FN' && st.missed.length === 0) return this.keep(key, out);
    if (ctx.kind === 'FP' && st.falseAlarms.length === 0) return this.keep(key, out);
    const templates = ctx.kind === 'FN' ? FN_TEMPLATES : FP_TEMPLATES;
    // One rule per template: stacking `value < 80`, `value < 92`, ... only chases the fit split.
    const used = new Set(ctx.deployed.map((e) => this.templateOf.get(e)).map((x) => x && `${x.kind}:${x.t.feature}${x.t.op}`));
    for (const [ti, t] of templates.entries()) {
      if (used.has(`${ctx.kind}:${t.feature}${t.op}`)) continue;
      if (ctx.kind === 'FP' && ctx.fpRelative && t.feature === 'value') continue;
      const best = this.search(ctx, ctx.kind, t, st);
      if (!best || !improves(best.s, st.before)) continue;
      out.push(this.candidate(ctx.kind, t, ti, st, best));
    }
    out.sort((a, b) => compareScores(a.chunkAfter, b.chunkAfter));
    return this.keep(key, out);
  }

  /**
   * The offline review agent's revision: the same template with its threshold re-chosen on the
   * whole fit split (the detection agent only saw a chunk). Null when the rule is not one of this
   * synthesizer's or the threshold stays.
   */
  refine(ctx: DetectionContext, expr: string): RankedCandidate | null {
    const origin = this.templateOf.get(expr);
    if (!origin) return null;
    const st = this.stretch(ctx, 0, ctx.fitEnd);
    const best = this.search(ctx, origin.kind, origin.t, st);
    if (!best) return null;
    const c = this.candidate(origin.kind, origin.t, origin.ti, st, best);
    return c.answer.expr === expr ? null : c;
  }

  private keep(key: string, out: RankedCandidate[]): RankedCandidate[] {
    this.rankings.set(key, out);
    return out;
  }

  /** The detection agent's answer: the `rank`-th candidate, or null when no template helps. */
  propose(ctx: DetectionContext): DetectionAnswer | null {
    return this.rank(ctx)[ctx.rank]?.answer ?? null;
  }

  /** Drops cached features of a series (call when its training ends). */
  forget(seriesKey: string): void {
    for (const m of [this.features, this.rows, this.rankings] as Map<string, unknown>[]) for (const k of [...m.keys()]) if (k === seriesKey || k.startsWith(`${seriesKey}\0`)) m.delete(k);
  }
}
