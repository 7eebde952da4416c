/**
 * Named detectors the eval command can run. Two kinds, and `eval --detector` says which is which:
 * - **deployable**: pipelines/detect's base detectors, the same objects `detect --csv`, the online
 *   stage and `train` run, with their own threshold and rest/cooldown: `ensemble` (the default
 *   of every command, DEFAULT_BASE_DETECTOR), `ewma`, `robust-z`. For NAB their alarms are binary
 *   (1 on an alarm, 0 otherwise), so NAB's threshold sweep cannot choose a threshold for them:
 *   the score is that of the alerts a user gets.
 * - **eval-only**: `context` (tuned on NAB and told each file's min/max in advance, as NAB's
 *   harness tells its detectors: it cannot run online), `likelihood`, the raw scores
 *   `ensemble:raw`, `ewma:raw`, `robust-z:raw` (flags and rest ignored, threshold left to NAB's
 *   sweep), and the anchors `null` (never fires) and `oracle` (fires on the first row of every
 *   labelled window; it reads the labels, so it checks the scorer, it is not a detector).
 */
import { UsageError } from '../../core/errors.ts';
import { DEFAULT_BASE_DETECTOR, createBaseDetector, ensembleDefaults } from '../../detect/index.ts';
import type { BaseDetectorName } from '../../detect/index.ts';
import type { LabelledSeries, Series } from '../data/series.ts';
import { contextScores } from '../detectors/context.ts';
import { likelihoodScores } from '../detectors/likelihood.ts';
import { traceBase } from '../../detect/index.ts';
import { streamingScores } from './detector.ts';
import type { ScoringDetector } from './detector.ts';

function detectBase(name: BaseDetectorName, raw: boolean): ScoringDetector {
  const run = (s: Series) => streamingScores(() => createBaseDetector(name), s, raw ? rawUnit(name) : (x) => x);
  return {
    name: raw ? `${name}:raw` : name,
    score: (s) => {
      const r = run(s);
      if (raw) return r.scores;
      return Float64Array.from(r.labels);
    },
    labels: (s) => run(s).labels,
    ...(raw ? {} : { trace: (s: Series) => traceBase(() => createBaseDetector(name), s.timestamps, s.values) }),
  };
}

/** Monotone map of a raw score into [0, 1] (only NAB's sweep reads it): s/(s + threshold). */
function rawUnit(name: BaseDetectorName): (x: number) => number {
  const k = name === 'ensemble' ? ensembleDefaults.threshold : 7;
  return (x) => x / (x + k);
}

export const DETECTORS: Record<string, () => ScoringDetector> = {
  context: () => ({ name: 'context', score: (s: Series) => contextScores(s) }),
  likelihood: () => ({ name: 'likelihood', score: (s: Series) => likelihoodScores(s.values) }),
  ensemble: () => detectBase('ensemble', false),
  ewma: () => detectBase('ewma', false),
  'robust-z': () => detectBase('robust-z', false),
  'ensemble:raw': () => detectBase('ensemble', true),
  'ewma:raw': () => detectBase('ewma', true),
  'robust-z:raw': () => detectBase('robust-z', true),
  null: () => ({ name: 'null', score: (s: Series) => new Float64Array(s.values.length) }),
  oracle: () => ({
    name: 'oracle',
    score: (s: Series) => {
      const out = new Float64Array(s.values.length);
      for (const w of (s as Partial<LabelledSeries>).windows ?? []) out[w.start] = 1;
      return out;
    },
  }),
};

export const DEFAULT_DETECTOR = { nab: DEFAULT_BASE_DETECTOR, argos: DEFAULT_BASE_DETECTOR } as const;

/** Detectors that run online as deployed (the rest are eval-only). */
export const DEPLOYABLE_DETECTORS: readonly string[] = ['ensemble', 'ewma', 'robust-z'];

/** `name (deployable)` / `name (eval-only)` list for help texts and errors. */
export function detectorList(): string {
  const names = Object.keys(DETECTORS);
  const dep = names.filter((n) => DEPLOYABLE_DETECTORS.includes(n));
  const only = names.filter((n) => !DEPLOYABLE_DETECTORS.includes(n));
  return `deployable: ${dep.join(', ')}; eval-only: ${only.join(', ')}`;
}

export function getDetector(name: string): ScoringDetector {
  const make = DETECTORS[name];
  if (!make) throw new UsageError(`--detector: unknown detector "${name}" (${detectorList()})`);
  return make();
}

/** `eval --loco`: the binary labeller of a deployable detector with the given settings. */
export function locoLabeller(name: string): (options: Record<string, number>) => (s: Series) => Uint8Array {
  if (name !== 'ensemble') throw new UsageError(`--loco: the settings grid is the ensemble's; --detector ${name} has none`);
  return (options) => (s) => streamingScores(() => createBaseDetector('ensemble', options), s).labels;
}
