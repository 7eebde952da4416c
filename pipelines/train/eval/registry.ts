/**
 * Named detectors the eval command can run:
 * - `context` (default for NAB): the NAB-tuned scorer of detectors/context.ts;
 * - `likelihood`: the same pipeline over a rolling z-score, needing no value range;
 * - `robust-z`, `ewma`: pipelines/detect's base detectors as deployed (their threshold and
 *   cooldown decide; a flagged sample scores score/(score + threshold) ∈ (0.5, 1), others 0, so
 *   NAB's sweep can only be stricter than the deployed threshold); `ewma` is the Argos default base;
 * - `robust-z:raw`, `ewma:raw`: the same detectors' raw scores mapped by s/(s + threshold),
 *   ignoring their flags and cooldown;
 * - `null` and `oracle`: NAB's anchors (never fires / fires on the first row of every labelled
 *   window — it reads the labels, so it checks the scorer, it is not a detector).
 */
import { UsageError } from '../../core/errors.ts';
import { createBaseDetector } from '../../detect/base/index.ts';
import type { LabelledSeries, Series } from '../data/series.ts';
import { contextScores } from '../detectors/context.ts';
import { likelihoodScores } from '../detectors/likelihood.ts';
import { streamingScores } from './detector.ts';
import type { ScoringDetector } from './detector.ts';

function detectBase(name: 'robust-z' | 'ewma', raw: boolean): ScoringDetector {
  // Both detectors' default threshold; the map only needs to be monotone and land in [0, 1].
  const k = 7;
  const run = (s: Series) => streamingScores(() => createBaseDetector(name), s, (x) => x / (x + k));
  return {
    name: raw ? `${name}:raw` : name,
    score: (s) => {
      const r = run(s);
      if (raw) return r.scores;
      return r.scores.map((x, i) => (r.labels[i] ? x : 0));
    },
    labels: (s) => run(s).labels,
  };
}

export const DETECTORS: Record<string, () => ScoringDetector> = {
  context: () => ({ name: 'context', score: (s: Series) => contextScores(s) }),
  likelihood: () => ({ name: 'likelihood', score: (s: Series) => likelihoodScores(s.values) }),
  'robust-z': () => detectBase('robust-z', false),
  ewma: () => detectBase('ewma', false),
  'robust-z:raw': () => detectBase('robust-z', true),
  'ewma:raw': () => detectBase('ewma', true),
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

export const DEFAULT_DETECTOR = { nab: 'context', argos: 'ewma' } as const;

export function getDetector(name: string): ScoringDetector {
  const make = DETECTORS[name];
  if (!make) throw new UsageError(`--detector: unknown detector "${name}" (expected one of ${Object.keys(DETECTORS).join(', ')})`);
  return make();
}
