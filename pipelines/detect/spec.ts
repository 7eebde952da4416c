/**
 * The detect stage's options, declared once: `panoptes detect` (online and `--csv`) builds its CLI
 * options from this spec, `startDetector` takes its typed values, and the option table of
 * pipelines/detect/README.md is generated from it (a unit test keeps the two equal).
 *
 * The base detector's name and its defaults come from `./base` (`DEFAULT_BASE_DETECTOR` and each
 * detector's own defaults): an option left out here means "the detector's own default", so the
 * default is written in one place only.
 */
import { ConfigError, UsageError } from '../core/errors.ts';
import { defineSpec, f, type Options } from '../core/spec.ts';
import { BASE_DETECTOR_OPTIONS, DEFAULT_BASE_DETECTOR, baseDetectorNames, createBaseDetector, isBaseDetectorName } from './base/index.ts';
import type { BaseDetector } from './base/types.ts';
import { parseDuration } from './rules/lexer.ts';

const DURATION = { re: /^(\d+(\.\d+)?(ms|s|m|h|d|w))+$/, says: 'a duration such as 1d, 90m or 0s' };
const REBUILD = { re: /^(auto|all|(\d+(\.\d+)?(ms|s|m|h|d|w))+)$/, says: 'auto, all or a duration such as 6h' };

export const BASE_CHOICES = [...baseDetectorNames, 'none'] as const;

export const detectSpec = defineSpec(
  'detect',
  {
    base: f.enum(BASE_CHOICES, {
      doc: 'Base detector scoring every sample; rules then correct its labels (FP rules remove, FN rules add). `none` runs the rules alone.',
      default: DEFAULT_BASE_DETECTOR,
    }),
    threshold: f.number({ doc: "Base detector's alarm threshold in its own unit (ensemble: pattern likelihood in decades; robust-z: robust z; ewma: residual σ). Default: the detector's own.", min: 0, exclusive: true }),
    window: f.int({ doc: "robust-z: samples in the rolling window. Default: the detector's own.", min: 1, max: 100_000 }),
    season: f.string({ doc: "ensemble, ewma: season length (1d; 0s for none). Default: the detector's own.", pattern: DURATION }),
    group: f.string({ doc: 'Online: consumer group of the detector (the topic prefix is prepended).', default: 'panoptes-detect', nonEmpty: true }),
    instance: f.string({ doc: 'Online: stable id of this instance, the suffix of its transactional id, so a restarted instance fences its former self. Default: the host name.', nonEmpty: true }),
    maxSeries: f.int({
      doc: 'Online: most series one instance tracks. Samples of further series are dropped, counted in `panoptes_detect_series_dropped_total` and warned about at most once a minute, never an out-of-memory.',
      default: 200_000,
      min: 1,
    }),
    maxBatch: f.int({ doc: 'Online: most records per batch (one transaction).', default: 500, min: 1, max: 100_000, advanced: true }),
    rebuild: f.string({
      doc: "Online: how far back windows are rebuilt on partition assignment, up to the group's committed offset: `auto` (seek by timestamp to the longest window any rule or the base detector needs, at most 8d), a duration, or `all` (from the partition's start).",
      default: 'auto',
      pattern: REBUILD,
      advanced: true,
    }),
  },
  { summary: 'The anomaly detector: a base detector plus rules over every series of the metrics topic.' },
);

export type DetectOptions = Options<typeof detectSpec.fields>;

/** The base detector options the spec sets (the rest stay the detector's own defaults). */
export interface BaseOptions {
  threshold?: number;
  window?: number;
  seasonMs?: number;
}

export function baseOptionsOf(o: DetectOptions): BaseOptions {
  const out: BaseOptions = {};
  if (o.threshold !== undefined) out.threshold = o.threshold;
  if (o.window !== undefined) out.window = o.window;
  if (o.season !== undefined) {
    const ms = parseDuration(o.season);
    if (ms === undefined) throw new UsageError(`${detectSpec.flagOf('season')}: expected ${DURATION.says}, got "${o.season}"`);
    out.seasonMs = ms;
  }
  return out;
}

/** The `rebuild` option in ms: Infinity for `all`, undefined for `auto`. */
export function rebuildLookbackMs(o: DetectOptions): number | undefined {
  if (o.rebuild === 'auto') return undefined;
  if (o.rebuild === 'all') return Infinity;
  return parseDuration(o.rebuild);
}

/**
 * Builds the base detector the options name (undefined for `none`), failing fast with a UsageError
 * on bad values, and lists the options the chosen detector does not take (for a warning).
 */
export function baseDetectorOf(o: DetectOptions): { base: BaseDetector | undefined; ignored: string[] } {
  if (o.base === 'none') return { base: undefined, ignored: (['threshold', 'window', 'season'] as const).filter((k) => o[k] !== undefined).map((k) => detectSpec.flagOf(k)) };
  const opts = baseOptionsOf(o);
  let base: BaseDetector;
  try {
    base = createBaseDetector(o.base, opts);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(`base detector ${o.base}: ${err.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    throw err;
  }
  const takes = new Set<string>(isBaseDetectorName(o.base) ? BASE_DETECTOR_OPTIONS[o.base] : []);
  const flags: Record<keyof BaseOptions, string> = { threshold: detectSpec.flagOf('threshold'), window: detectSpec.flagOf('window'), seasonMs: detectSpec.flagOf('season') };
  const ignored = (Object.keys(opts) as (keyof BaseOptions)[]).filter((k) => takes.size > 0 && !takes.has(k)).map((k) => flags[k]);
  return { base, ignored };
}
