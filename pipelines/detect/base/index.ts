/** Base detectors by name, for the CLI and the deployed detector's config. */
import { UsageError } from '../../core/errors.ts';
import { EwmaForecastDetector } from './ewma-forecast.ts';
import type { EwmaForecastOptions } from './ewma-forecast.ts';
import { RobustZDetector } from './robust-z.ts';
import type { RobustZOptions } from './robust-z.ts';
import type { BaseDetector } from './types.ts';

export const baseDetectorNames = ['robust-z', 'ewma'] as const;
export type BaseDetectorName = (typeof baseDetectorNames)[number];

/** The default base detector of every command (detect --csv, online detect): change it here and every command follows. */
export const DEFAULT_BASE_DETECTOR: BaseDetectorName = 'ewma';

export function createBaseDetector(name: string, options: Partial<RobustZOptions> & Partial<EwmaForecastOptions> = {}): BaseDetector {
  if (name === 'robust-z') {
    const { window, threshold, warmup, cooldown, minScale } = options;
    return new RobustZDetector(strip({ window, threshold, warmup, cooldown, minScale }));
  }
  if (name === 'ewma') {
    const { alpha, scaleAlpha, threshold, warmup, cooldown, seasonMs, seasonBuckets, gamma } = options;
    return new EwmaForecastDetector(strip({ alpha, scaleAlpha, threshold, warmup, cooldown, seasonMs, seasonBuckets, gamma }));
  }
  throw new UsageError(`unknown base detector '${name}' (expected ${baseDetectorNames.join(' or ')})`);
}

function strip<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
