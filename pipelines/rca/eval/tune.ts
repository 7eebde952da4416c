/**
 * The protocol that chooses the default ranking method and its thresholds: a fixed grid, scored on
 * ONE split of a corpus in the PetShop layout (the generated lab corpus's `train`, whose root-cause
 * components are disjoint from `test`'s), pooled over all its scenarios:
 * 1. configurations whose specificity (share of no-incident windows with no root cause) is below
 *    `minSpecificity` are out;
 * 2. a configuration other than the standing default stays in only when it beats the default
 *    significantly on the split's issues: McNemar's exact test on the issues one of the two ranks
 *    top-1 and the other does not, one-sided, p < `alpha` (0.05). A difference of a few issues is
 *    what the split happens to hold, not a better method (README, fourth pass);
 * 3. of the rest, the highest top-1, then the highest top-3, then the highest specificity; a tie
 *    keeps the configuration that changes the fewest settings of the standing default (what the
 *    split cannot tell apart is not changed), then the earlier one in grid order.
 * Nothing of the split it reports on is read. Pure apart from the loading in `run.ts`.
 */
import { defaultRankOptions, type RankOptions } from '../rank/scores.ts';
import { defaultRankMethod } from '../rca.ts';
import { defaultDataValidationOptions } from '../synth/validate-data.ts';
import type { EvalMethod, EvalRow } from './petshop-eval.ts';

export interface TuneConfig {
  method: EvalMethod;
  rank: Partial<RankOptions>;
  /** The synthesized graph: add PC-oriented edges the catalog lacks (undefined: the standing default). */
  dataEdges?: boolean;
}

export interface TuneScore {
  config: TuneConfig;
  issues: number;
  top1: number;
  top3: number;
  specificity: number | null;
  windows: number;
  /** Top-1 hit per issue, in one order for every configuration of a run (for the significance test). */
  hits?: readonly boolean[];
}

/** The grid, simplest first: the three single methods at their defaults, then hybrid's settings. */
export function defaultGrid(): TuneConfig[] {
  const out: TuneConfig[] = [{ method: 'attribution', rank: {} }, { method: 'traversal', rank: {} }, { method: 'random-walk', rank: {} }];
  for (const residualEvidence of [true, false])
    for (const componentThreshold of [3, 5, 8])
      for (const explainRatio of [0.1, 0.25, 0.5, 1]) out.push({ method: 'hybrid', rank: { componentThreshold, explainRatio, residualEvidence } });
  // Added after the first report (see pipelines/rca/README.md): a cap on the scores the explain test compares.
  for (const explainCap of [10, 30]) for (const explainRatio of [0.25, 0.5, 1]) out.push({ method: 'hybrid', rank: { componentThreshold: 3, explainRatio, residualEvidence: true, explainCap } });
  // The two rules set on principle (README: sparse series, failed requests), switched off, for comparison.
  out.push({ method: 'hybrid', rank: { componentThreshold: 3, explainRatio: 0.5, residualEvidence: true, countFailures: false } });
  out.push({ method: 'hybrid', rank: { componentThreshold: 3, explainRatio: 0.5, residualEvidence: true, minSupport: 0 } });
  out.push({ method: 'hybrid', rank: { componentThreshold: 3, explainRatio: 0.5, residualEvidence: true, countFailures: false, minSupport: 0 } });
  // Added in the third pass (README): evidence over the incident window up to the analysed row, on
  // the main hybrid settings. Every entry above says windowEvidence=false, so the grid means the same
  // whatever the default.
  for (const c of out) if (c.method === 'hybrid') c.rank = { ...c.rank, windowEvidence: false };
  for (const componentThreshold of [3, 5]) for (const explainRatio of [0.25, 0.5, 1]) out.push({ method: 'hybrid', rank: { componentThreshold, explainRatio, residualEvidence: true, windowEvidence: true } });
  // Added in the fourth pass (README): the synthesized graph without the edges PC proposes between
  // components the catalog does not link, on the third pass's best settings. Every entry above
  // keeps the graph as it was (dataEdges=true).
  for (const c of out) if (c.method !== 'baseline') c.dataEdges = true;
  for (const explainRatio of [0.25, 0.5, 1]) out.push({ method: 'hybrid', rank: { componentThreshold: 3, explainRatio, residualEvidence: true, windowEvidence: true }, dataEdges: false });
  for (const method of ['attribution', 'traversal', 'random-walk'] as const) out.push({ method, rank: {}, dataEdges: false });
  return out;
}

/** Pools eval rows (one configuration) over scenarios and metrics, weighted by issues and windows. */
export function pool(config: TuneConfig, rows: readonly EvalRow[]): TuneScore {
  let issues = 0;
  let t1 = 0;
  let t3 = 0;
  let windows = 0;
  let ok = 0;
  for (const r of rows) {
    issues += r.issues;
    t1 += (r.top1 ?? 0) * r.issues;
    t3 += (r.top3 ?? 0) * r.issues;
    if (r.specificity !== null) {
      windows += r.specificityWindows;
      ok += r.specificity * r.specificityWindows;
    }
  }
  return { config, issues, top1: issues ? t1 / issues : 0, top3: issues ? t3 / issues : 0, specificity: windows ? ok / windows : null, windows };
}

/** Settings of `c` that differ from the standing default (the method counts as one). */
export function changesFrom(c: TuneConfig, standing: TuneConfig): number {
  const rank = { ...defaultRankOptions, ...c.rank } as Record<string, unknown>;
  const base = { ...defaultRankOptions, ...standing.rank } as Record<string, unknown>;
  let n = c.method === standing.method ? 0 : 1;
  for (const k of Object.keys(base)) if (rank[k] !== base[k]) n++;
  const edges = (x: TuneConfig) => x.dataEdges ?? defaultDataValidationOptions.addDataEdges !== 'none';
  if (edges(c) !== edges(standing)) n++;
  return n;
}

/** The standing default: the method and ranking options every command uses when given none. */
export const standingDefault: TuneConfig = { method: defaultRankMethod, rank: {} };

/** Compares two scores by the protocol: > 0 when `a` is better, < 0 when `b` is, 0 for a full tie. */
function better(a: TuneScore, b: TuneScore, standing: TuneConfig): number {
  const eps = 1e-12;
  if (Math.abs(a.top1 - b.top1) > eps) return a.top1 - b.top1;
  if (Math.abs(a.top3 - b.top3) > eps) return a.top3 - b.top3;
  const sa = a.specificity ?? 0;
  const sb = b.specificity ?? 0;
  if (Math.abs(sa - sb) > eps) return sa - sb;
  return changesFrom(b.config, standing) - changesFrom(a.config, standing);
}

/**
 * One-sided McNemar exact test: the probability of `a` winning at least `wins` of the `wins +
 * losses` issues where exactly one of two configurations is right, were both equally good
 * (binomial, p = 1/2).
 */
export function mcnemarP(wins: number, losses: number): number {
  const n = wins + losses;
  if (n === 0 || wins <= losses) return 1;
  // log C(n, k) summed over k = wins..n, stable for the few hundred issues of a split.
  let logC = 0; // log C(n, 0)
  const terms: number[] = [];
  for (let k = 0; k <= n; k++) {
    if (k > 0) logC += Math.log((n - k + 1) / k);
    if (k >= wins) terms.push(logC - n * Math.LN2);
  }
  return Math.min(1, terms.reduce((acc, t) => acc + Math.exp(t), 0));
}

/** Issues `a` ranks top-1 and `b` does not, and the other way round. */
export function discordant(a: readonly boolean[], b: readonly boolean[]): { wins: number; losses: number } {
  if (a.length !== b.length) throw new Error(`hit vectors of different lengths (${a.length}, ${b.length})`);
  let wins = 0;
  let losses = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] && !b[i]) wins++;
    else if (!a[i] && b[i]) losses++;
  }
  return { wins, losses };
}

export function choose(scores: readonly TuneScore[], minSpecificity = 0.9, standing: TuneConfig = standingDefault, alpha = 0.05): TuneScore | null {
  // The standing default as scored in this run, when the grid holds it and hits were recorded.
  const base = scores.find((s) => changesFrom(s.config, standing) === 0 && s.hits);
  const beatsBase = (s: TuneScore): boolean => {
    if (!base || s === base || changesFrom(s.config, standing) === 0 || !s.hits) return true;
    const { wins, losses } = discordant(s.hits, base.hits!);
    return mcnemarP(wins, losses) < alpha;
  };
  let best: TuneScore | null = null;
  for (const s of scores) {
    if (s.specificity !== null && s.specificity < minSpecificity) continue;
    if (!beatsBase(s)) continue;
    if (!best || better(s, best, standing) > 0) best = s;
  }
  return best;
}

export function describeConfig(c: TuneConfig): string {
  const r = [...Object.entries(c.rank), ...(c.dataEdges === undefined ? [] : [['dataEdges', c.dataEdges] as const])].map(([k, v]) => `${k}=${String(v)}`).join(' ');
  return r ? `${c.method} ${r}` : c.method;
}
