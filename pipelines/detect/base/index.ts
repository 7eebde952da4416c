/**
 * Base detectors by name, for every command (detect --csv, online detect, eval, train, the lab).
 * `DEFAULT_BASE_DETECTOR` is the one default: change it here and every command follows.
 */
import { UsageError } from '../../core/errors.ts';
import { ENSEMBLE_OPTIONS, EnsembleDetector } from './ensemble.ts';
import type { EnsembleOptions } from './ensemble.ts';
import { EwmaForecastDetector } from './ewma-forecast.ts';
import type { EwmaForecastOptions } from './ewma-forecast.ts';
import { RobustZDetector } from './robust-z.ts';
import type { RobustZOptions } from './robust-z.ts';
import type { BaseDetector } from './types.ts';

export const baseDetectorNames = ['ensemble', 'ewma', 'robust-z'] as const;
export type BaseDetectorName = (typeof baseDetectorNames)[number];

/** The default base detector of every command. Its settings: `ENSEMBLE_OPTIONS` in ensemble.ts. */
export const DEFAULT_BASE_DETECTOR: BaseDetectorName = 'ensemble';

/** Options any base detector may be given; each detector takes the keys it knows and ignores the rest. */
export type BaseDetectorOptions = Partial<RobustZOptions> & Partial<EwmaForecastOptions> & Partial<EnsembleOptions>;

/** Which options each base detector honours (for CLIs and configs: an option the chosen detector ignores is worth a warning). */
export const BASE_DETECTOR_OPTIONS: Record<BaseDetectorName, readonly string[]> = {
  ensemble: Object.keys(ENSEMBLE_OPTIONS),
  ewma: ['alpha', 'scaleAlpha', 'threshold', 'warmup', 'cooldown', 'seasonMs', 'seasonBuckets', 'gamma'],
  'robust-z': ['window', 'threshold', 'warmup', 'cooldown', 'minScale'],
};

export function isBaseDetectorName(name: string): name is BaseDetectorName {
  return (baseDetectorNames as readonly string[]).includes(name);
}

export function createBaseDetector(name: string, options: BaseDetectorOptions = {}): BaseDetector {
  if (!isBaseDetectorName(name)) throw new UsageError(`unknown base detector '${name}' (expected ${baseDetectorNames.join(', ')})`);
  const picked = pick(options, BASE_DETECTOR_OPTIONS[name]);
  if (name === 'ensemble') return new EnsembleDetector(picked);
  if (name === 'robust-z') return new RobustZDetector(picked);
  return new EwmaForecastDetector(picked);
}

function pick(o: Record<string, unknown>, keys: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k] as number;
  return out;
}

export { ENSEMBLE_OPTIONS, EnsembleDetector, ensembleDefaults } from './ensemble.ts';
export type { EnsembleOptions } from './ensemble.ts';
