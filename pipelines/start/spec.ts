/**
 * `panoptes start`'s options, declared once (core/spec.ts): the command's CLI options, typed values,
 * validation and the README table come from here. Without `--nab` it runs one lab problem end to
 * end; the `--nab` options drive the NAB replay (cli-nab.ts).
 */
import { defineSpec, f, type Options } from '../core/spec.ts';
import { DEFAULT_BASE_DETECTOR, baseDetectorNames } from '../detect/index.ts';

/** The lab problem `npm start` runs. */
export const START_PROBLEM = 'crash-geo-localization';
/** The NAB series `start --nab` replays. */
export const DEFAULT_SERIES = ['realKnownCause/machine_temperature_system_failure.csv', 'realKnownCause/ec2_request_latency_system_failure.csv', 'realKnownCause/nyc_taxi.csv'];
/** The base detectors `--nab` can deploy, or `none` (the rules alone). */
export const START_BASES = [...baseDetectorNames, 'none'] as const;

export const startSpec = defineSpec(
  'start',
  {
    problem: f.string({ doc: 'Lab problem to run (`panoptes lab list`).', default: START_PROBLEM, placeholder: 'ID', nonEmpty: true }),
    transport: f.enum(['embedded', 'kafka'] as const, { doc: 'embedded (in-process topics) or kafka (real brokers). Default: embedded for a lab problem; with --nab, the configured transport (kafka when PANOPTES_BROKERS or the config file names brokers).' }),
    out: f.string({ doc: 'Where the run report goes.', default: 'runs', placeholder: 'DIR', nonEmpty: true }),
    nab: f.boolean({ doc: 'Run the NAB replay instead of a lab problem (the options below).' }),
    series: f.list({ doc: 'With --nab: NAB series to replay, relative to the NAB data folder (repeatable).', default: DEFAULT_SERIES, placeholder: 'PATH', minItems: 1 }),
    rules: f.string({ doc: 'With --nab: rule file deployed next to the base detector (relative paths: from the repository root).', default: 'pipelines/start/demo-rules.yaml', placeholder: 'FILE', nonEmpty: true }),
    base: f.enum(START_BASES, { doc: "With --nab: base detector (the detect stage's default); none: the rules alone.", default: DEFAULT_BASE_DETECTOR }),
    chunk: f.int({ doc: 'With --nab: samples per metrics record.', default: 60, min: 1, max: 100_000 }),
    show: f.int({ doc: 'With --nab: anomalies printed per series (all with --json).', default: 8, min: 0 }),
  },
  { summary: 'The main job: one lab problem end to end (services, Prometheus, fault, the whole pipeline, score); --nab replays NAB series instead' },
);

export type StartOptions = Options<typeof startSpec.fields>;

/** The lab problem's options and the NAB replay's: each applies to one mode only. */
const LAB_ONLY = ['problem', 'out'] as const;
const NAB_ONLY = ['series', 'rules', 'base', 'chunk', 'show'] as const;

/**
 * Options that the chosen mode would ignore, one message each (empty: fine). An option is taken as
 * given when its value is not the default (the parsed arguments carry defaults, not presence).
 */
export function startUsageProblems(o: StartOptions): string[] {
  const given = (k: keyof StartOptions) => JSON.stringify(o[k]) !== JSON.stringify((startSpec.fields[k] as { default?: unknown }).default);
  if (o.nab) return LAB_ONLY.filter(given).map((k) => `${startSpec.flagOf(k)} applies to a lab problem, not to --nab`);
  return NAB_ONLY.filter(given).map((k) => `${startSpec.flagOf(k)} applies with --nab`);
}
