/**
 * The train stage's options, declared once (core/spec.ts): `panoptes eval` and `panoptes train`
 * take their CLI options, typed values, validation and README tables from here. The training
 * options both commands take (`train`, and `eval --train`) are declared once (`trainingFields`);
 * `train` shows the trainer's defaults, `eval` leaves them unset so `--holdout` can tell what the
 * user passed.
 *
 * Defaults that depend on the base detector (`--gate`, `--fp-relative`, `--range-rules`,
 * `--range-recent`) have no spec default: the trainer's `trainDefaultsFor(base)` fills them under
 * what the user passed, and their docs are written from the same tables (BASE_TRAIN_DEFAULTS,
 * defaultTrainOptions).
 */
import type { ParsedArgs } from '../core/cli-types.ts';
import { UsageError } from '../core/errors.ts';
import { defineSpec, f, type Field, type Options } from '../core/spec.ts';
import { DEFAULT_BASE_DETECTOR, baseDetectorNames } from '../detect/index.ts';
import { BASE_TRAIN_DEFAULTS, RANGE_MODES, defaultTrainOptions, type TrainOptions } from './argos/trainer.ts';
import { HOLDOUT_GRID } from './eval/holdout.ts';
import { ENSEMBLE_LOCO_GRID } from './eval/loco.ts';
import { DEFAULT_DETECTOR, detectorList } from './eval/registry.ts';

export const PROTOCOLS = ['nab', 'argos'] as const;
/** Who plays the Argos agents. */
export const PROVIDERS = ['offline', 'openai'] as const;
export const GATES = ['proven-vetoes', 'at-least', 'improves'] as const satisfies readonly TrainOptions['gate'][];
const ON_OFF = ['on', 'off'] as const;

type BaseDependent = 'gate' | 'fpEvidence' | 'fpRelative' | 'rangeRules' | 'rangeRecent';

/** "Default: improves with --base ensemble, proven-vetoes otherwise." from the trainer's tables. */
function defaultsWords(key: BaseDependent, baseFlag: string): string {
  const show = (v: unknown) => (typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v));
  const otherwise = show(defaultTrainOptions[key]);
  const per = Object.entries(BASE_TRAIN_DEFAULTS)
    .filter(([, d]) => d[key] !== undefined && show(d[key]) !== otherwise)
    .map(([base, d]) => `${show(d[key])} with ${baseFlag} ${base}`);
  return per.length === 0 ? `Default: ${otherwise}.` : `Default: ${per.join(', ')}, ${otherwise} otherwise.`;
}

/**
 * The training options of `train` and `eval --train`, without defaults. `baseFlag` names the
 * option choosing the base detector (`--base`, or `--detector` for eval); `when` prefixes every doc
 * (eval: "With --train: ").
 */
function trainingFields(baseFlag: string, when: string) {
  const say = (s: string) => (when ? `${when}${s}` : `${s[0]!.toUpperCase()}${s.slice(1)}`);
  return {
    seed: f.int({ doc: say('seed of the chunk sampler (same data + seed = same rules offline).'), min: 0, placeholder: 'N' }),
    iterations: f.int({ doc: say('training iterations per series.'), min: 1, placeholder: 'N' }),
    candidates: f.int({ doc: say('candidate rules asked per iteration (top-k).'), min: 1, placeholder: 'N' }),
    minSupport: f.int({ doc: say('event-level mistakes (net) a kept rule must fix on the fit split.'), min: 1, placeholder: 'N' }),
    validation: f.number({
      doc: say('share of the training split held out at its end for the accuracy guarantee: rules are published only if base+rules scores at least the base there.'),
      min: 0,
      max: 1,
      exclusive: true,
      placeholder: 'FRACTION',
    }),
    gate: f.enum(GATES, {
      doc: say(
        `publish rules that do not lose on the validation split, FP rules only if they remove a false alarm there (proven-vetoes); or any that do not lose (at-least); or only rule sets that improve there (improves). ${defaultsWords('gate', baseFlag)}`,
      ),
      placeholder: 'proven-vetoes|at-least|improves',
    }),
    fpEvidence: f.enum(ON_OFF, { doc: say(`keep an FP rule only if the fit split has a detected event it keeps detecting. ${defaultsWords('fpEvidence', baseFlag)}`), placeholder: 'on|off' }),
    fpRelative: f.enum(ON_OFF, {
      doc: say(`offline provider: no absolute \`value < c\` FP rule, only vetoes relative to the recent past. ${defaultsWords('fpRelative', baseFlag)}`),
      placeholder: 'on|off',
    }),
    rangeRecent: f.int({
      doc: say(`range rules also ask for a new extreme of the last N samples (\`value > hi and value >= max(N samples)\`); 0: off. ${defaultsWords('rangeRecent', baseFlag)}`),
      min: 0,
      placeholder: 'N',
    }),
    rangeRules: f.enum(RANGE_MODES, {
      doc: say(
        `after the agents, also publish \`value > hi\` (above) and also \`value < lo\` (both), hi/lo just beyond the fit split's normal range, when they raise no alarm on a normal row of fit or validation. ${defaultsWords('rangeRules', baseFlag)}`,
      ),
      placeholder: 'off|above|both',
    }),
  };
}

/** The trainer's defaults that do not depend on the base detector, by option. */
const TRAINER_DEFAULTS = {
  seed: defaultTrainOptions.seed,
  iterations: defaultTrainOptions.iterations,
  candidates: defaultTrainOptions.candidates,
  minSupport: defaultTrainOptions.minSupport,
  validation: defaultTrainOptions.validationFraction,
} as const;

/** eval: the training fields, their defaults in words (unset, so --holdout sees what was passed). */
function withDefaultsInDocs<S extends Record<string, Field>>(fields: S): S {
  const out: Record<string, Field> = { ...fields };
  for (const [k, v] of Object.entries(TRAINER_DEFAULTS)) out[k] = { ...out[k]!, doc: `${out[k]!.doc} Default: ${v}.` };
  return out as S;
}

const evalTraining = withDefaultsInDocs(trainingFields('--detector', 'With --train: '));
const trainTraining = trainingFields('--base', '');

const filter = (doc: string) => f.list({ doc, placeholder: 'TEXT' });

export const evalSpec = defineSpec(
  'eval',
  {
    data: f.string({ doc: 'Folder of timestamp,value CSVs. Default: NAB data under PANOPTES_DATASETS.', placeholder: 'DIR', nonEmpty: true }),
    labels: f.string({ doc: 'Labels in NAB combined_windows.json or combined_labels.json format. Default: NAB combined_windows.json.', placeholder: 'FILE', nonEmpty: true }),
    protocol: f.enum(PROTOCOLS, { doc: 'nab: NAB score per profile; argos: 70/30 split, point and event F1.', default: 'nab', placeholder: 'argos|nab' }),
    detector: f.string({ doc: `Detector to score — ${detectorList()}. Default: ${DEFAULT_DETECTOR.nab}.`, placeholder: 'NAME', nonEmpty: true }),
    loco: f.boolean({
      doc: `NAB protocol, detector ${DEFAULT_DETECTOR.nab}: also score leave-one-category-out (each category with settings chosen on the others over a ${ENSEMBLE_LOCO_GRID.length}-point grid).`,
    }),
    filter: filter('Only series whose path contains TEXT (repeatable).'),
    out: f.string({ doc: 'Also write FILE.json and FILE.md reports.', placeholder: 'FILE', nonEmpty: true }),
    train: f.enum(PROVIDERS, { doc: 'Argos protocol: train Argos rules per series on its train split with this provider and report rules and base+rules.', placeholder: 'offline|openai' }),
    ...evalTraining,
    holdout: f.boolean({
      doc: `Argos protocol: split the series in a tuning and a reporting half (fixed hash of the path); with --train, gate/validation/fp-evidence/fp-relative/range-rules are chosen on the tuning half (grid of ${HOLDOUT_GRID.length}, min-support 1); the summary is the reporting half's.`,
    }),
    cross: f.boolean({ doc: 'With --holdout --train: also choose on the reporting half and report on the tuning half (2-fold); the summary covers every series, each reported with options chosen on the other half.' }),
  },
  { summary: 'Score an anomaly detector on a labelled corpus (NAB score or Argos F1 protocol)' },
);

export type EvalOptions = Options<typeof evalSpec.fields>;

/** What `--holdout --train` chooses on the tuning half: passing one is a usage error. */
const HOLDOUT_CHOOSES = ['gate', 'minSupport', 'validation', 'fpEvidence', 'fpRelative', 'rangeRules'] as const;

/** The rules between eval's options, one message each (empty: fine). */
export function evalUsageProblems(o: EvalOptions): string[] {
  const out: string[] = [];
  if (o.loco && o.protocol !== 'nab') out.push(`${evalSpec.flagOf('loco')} applies to --protocol nab`);
  if (o.holdout && o.protocol !== 'argos') out.push(`${evalSpec.flagOf('holdout')} applies to --protocol argos`);
  if (o.cross && !(o.holdout && o.train)) out.push(`${evalSpec.flagOf('cross')} needs --holdout and --train`);
  if (o.train && o.protocol !== 'argos') out.push(`${evalSpec.flagOf('train')} applies to --protocol argos`);
  if (!o.train) {
    for (const k of Object.keys(evalTraining) as (keyof typeof evalTraining)[]) {
      if (o[k] !== undefined) out.push(`${evalSpec.flagOf(k)} applies with --train (it sets how rules are trained)`);
    }
  }
  if (o.holdout && o.train) {
    for (const k of HOLDOUT_CHOOSES) {
      if (o[k] !== undefined) out.push(`--holdout chooses ${evalSpec.flagOf(k)} on the tuning half (grid of ${HOLDOUT_GRID.length}); do not pass it`);
    }
  }
  return out;
}

/** eval's typed options: every bad value in one UsageError naming the flags, then the rules between them. */
export function evalOptionsFrom(args: ParsedArgs): EvalOptions {
  const o = evalSpec.fromArgs(args);
  const problems = evalUsageProblems(o);
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return o;
}

export const trainSpec = defineSpec(
  'train',
  {
    data: f.string({ doc: 'A timestamp,value CSV, or a folder of them (keys relative to it, as in the label file).', placeholder: 'DIR|FILE', required: true, nonEmpty: true }),
    labels: f.string({ doc: 'Labels in NAB combined_windows.json or combined_labels.json format.', placeholder: 'FILE', required: true, nonEmpty: true }),
    out: f.string({ doc: 'Rule file to write (YAML, read by rules check / rules publish).', placeholder: 'FILE', required: true, nonEmpty: true }),
    report: f.string({ doc: 'Also write the training report as FILE.json and FILE.md.', placeholder: 'FILE', nonEmpty: true }),
    provider: f.enum(PROVIDERS, { doc: 'Who plays the agents. Default: openai when OPENAI_API_KEY is set, else offline.', placeholder: 'offline|openai' }),
    base: f.enum(baseDetectorNames, { doc: 'Base detector the rules are combined with.', default: DEFAULT_BASE_DETECTOR, placeholder: baseDetectorNames.join('|') }),
    ...trainTraining,
    seed: { ...trainTraining.seed, default: TRAINER_DEFAULTS.seed },
    iterations: { ...trainTraining.iterations, default: TRAINER_DEFAULTS.iterations },
    candidates: { ...trainTraining.candidates, default: TRAINER_DEFAULTS.candidates },
    minSupport: { ...trainTraining.minSupport, default: TRAINER_DEFAULTS.minSupport },
    validation: { ...trainTraining.validation, default: TRAINER_DEFAULTS.validation },
    filter: filter('With a folder: only series whose path contains TEXT (repeatable).'),
  },
  { summary: 'Train explainable anomaly rules (Argos agents, offline or an LLM) and write a rule file' },
);

export type TrainCommandOptions = Options<typeof trainSpec.fields>;

/** The training options both commands take, as the spec types them. */
type TrainingValues = Partial<Options<ReturnType<typeof trainingFields>>>;

/** The trainer's options from the training flags (unset ones stay unset: the trainer's defaults for the base apply). */
export function trainOptionsOf(o: TrainingValues): Partial<TrainOptions> {
  const out: Partial<TrainOptions> = {};
  if (o.seed !== undefined) out.seed = o.seed;
  if (o.iterations !== undefined) out.iterations = o.iterations;
  if (o.candidates !== undefined) out.candidates = o.candidates;
  if (o.minSupport !== undefined) out.minSupport = o.minSupport;
  if (o.validation !== undefined) out.validationFraction = o.validation;
  if (o.gate !== undefined) out.gate = o.gate;
  if (o.fpEvidence !== undefined) out.fpEvidence = o.fpEvidence === 'on';
  if (o.fpRelative !== undefined) out.fpRelative = o.fpRelative === 'on';
  if (o.rangeRules !== undefined) out.rangeRules = o.rangeRules;
  if (o.rangeRecent !== undefined) out.rangeRecent = o.rangeRecent;
  return out;
}
