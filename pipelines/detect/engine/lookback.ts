/**
 * How much history a detector needs to be back in the state an uninterrupted run would have: the
 * online detector rebuilds that much on partition assignment (seeking by timestamp), not the whole
 * partition.
 *
 * A need is a time span plus a number of samples (`mean(1h) for 3` needs 1h and 3 samples); its
 * length in time depends on the series' sampling interval, learned from the samples replayed.
 * - rules: the longest window, `lag`, `seasonal` period and `for` clause; `ewma` has no window and
 *   counts as ten half-lives (older samples weigh less than 0.1%);
 * - base detectors: a `history()` method if the detector has one, otherwise what its options name:
 *   `window` and `warmup` in samples, `seasonMs`, and for every smoothing constant (`alpha`,
 *   `…Alpha`) three time constants (3 / alpha samples: older samples weigh under 5%).
 * Exponential memories come back close to, not exactly in, their uninterrupted state, and state
 * that remembers the whole series (the ensemble's range seen so far) only what the lookback holds;
 * `rebuild: all` replays the whole partition instead.
 */
import type { BaseDetector } from '../base/types.ts';
import type { Node, RuleAst } from '../rules/ast.ts';
import { constNumber } from '../rules/checker.ts';

export interface HistoryNeed {
  /** Time before the latest sample. */
  ms: number;
  /** Samples before the latest one (on top of `ms`). */
  samples: number;
}

/** Time constants a base detector's exponential smoothing is replayed for. */
const EWMA_TIME_CONSTANTS = 3;
/** Half-lives an `ewma` is replayed for. */
const EWMA_HALFLIVES = 10;
/** ln(1000): samples × alpha after which an ewma's start weighs under 0.1%. */
const EWMA_DECAY = Math.log(1000);

function nodeNeed(n: Node, acc: HistoryNeed): void {
  switch (n.type) {
    case 'call': {
      for (const a of n.args) nodeNeed(a, acc);
      const last = n.args[n.args.length - 1];
      if (last === undefined) return;
      if (n.name === 'ewma') {
        if (last.type === 'duration') acc.ms = Math.max(acc.ms, EWMA_HALFLIVES * last.ms);
        else if (last.type === 'samples') acc.samples = Math.max(acc.samples, EWMA_HALFLIVES * last.n);
        else {
          const alpha = constNumber(last);
          if (alpha !== undefined && alpha > 0) acc.samples = Math.max(acc.samples, Math.ceil(EWMA_DECAY / alpha));
        }
        return;
      }
      if (n.name === 'lag') {
        const k = last.type === 'samples' ? last.n : constNumber(last);
        if (k !== undefined) acc.samples = Math.max(acc.samples, k + 1);
        return;
      }
      // Windows (mean(1h), quantile(0.9, 60 samples)) and seasonal(1d): their last argument.
      if (last.type === 'duration') acc.ms = Math.max(acc.ms, last.ms);
      else if (last.type === 'samples') acc.samples = Math.max(acc.samples, last.n);
      return;
    }
    case 'neg':
    case 'not':
      nodeNeed(n.arg, acc);
      return;
    case 'arith':
    case 'compare':
    case 'logic':
      nodeNeed(n.left, acc);
      nodeNeed(n.right, acc);
      return;
    default:
      return;
  }
}

/** What one rule needs: its longest window, then its `for` clause on top. */
export function ruleHistory(ast: RuleAst): HistoryNeed {
  const acc: HistoryNeed = { ms: 0, samples: 0 };
  nodeNeed(ast.body, acc);
  const p = ast.persistence;
  if (p?.kind === 'duration') acc.ms += p.ms;
  else if (p?.kind === 'samples') acc.samples += p.n;
  return acc;
}

/** A base detector may say what it needs; the built-in ones are read from their options. */
interface WithHistory {
  history?: () => HistoryNeed;
  opts?: Record<string, unknown>;
}

export function baseHistory(base: BaseDetector | undefined): HistoryNeed[] {
  if (base === undefined) return [];
  const b = base as BaseDetector & WithHistory;
  if (typeof b.history === 'function') return [b.history()];
  const num = (k: string) => (typeof b.opts?.[k] === 'number' && Number.isFinite(b.opts[k]) ? (b.opts[k] as number) : 0);
  let smoothing = 0;
  for (const k of Object.keys(b.opts ?? {})) {
    const a = num(k);
    if ((k === 'alpha' || k.endsWith('Alpha')) && a > 0 && a < 1) smoothing = Math.max(smoothing, Math.ceil(EWMA_TIME_CONSTANTS / a));
  }
  return [
    { ms: 0, samples: Math.max(num('window'), num('warmup'), smoothing) },
    { ms: num('seasonMs'), samples: 0 },
  ];
}

/** The longest of several needs in time, for a series sampled every `intervalMs`. */
export function lookbackMs(needs: readonly HistoryNeed[], intervalMs: number): number {
  let out = 0;
  for (const n of needs) out = Math.max(out, n.ms + n.samples * intervalMs);
  return out;
}
