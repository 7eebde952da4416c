/**
 * Named detectors the eval command can run. `context` is the NAB-tuned scorer, `likelihood` a
 * range-free rolling z-score variant of it; `zscore` the
 * interim base detector (until pipelines/detect's base detectors land); `null` and `oracle` are the
 * NAB anchors (never fires / fires on the first row of every labelled window — it reads labels, so
 * it is a check of the scorer, not a detector).
 */
import { UsageError } from '../../core/errors.ts';
import type { LabelledSeries, Series } from '../data/series.ts';
import { contextScores } from '../detectors/context.ts';
import { likelihoodScores } from '../detectors/likelihood.ts';
import { zscoreScores } from '../detectors/zscore.ts';
import type { ScoringDetector } from './detector.ts';

export const DETECTORS: Record<string, () => ScoringDetector> = {
  context: () => ({ name: 'context', score: (s: Series) => contextScores(s.values) }),
  likelihood: () => ({ name: 'likelihood', score: (s: Series) => likelihoodScores(s.values) }),
  zscore: () => ({ name: 'zscore', score: (s: Series) => zscoreScores(s.values) }),
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

export const DEFAULT_DETECTOR = 'context';

export function getDetector(name: string): ScoringDetector {
  const make = DETECTORS[name];
  if (!make) throw new UsageError(`--detector: unknown detector "${name}" (expected one of ${Object.keys(DETECTORS).join(', ')})`);
  return make();
}
