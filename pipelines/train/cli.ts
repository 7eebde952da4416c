/**
 * The train stage's commands: `eval` (NAB and Argos protocols over a folder of CSVs, optionally
 * training Argos rules per series) and `train` (Argos rule training, writing a rule file).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UsageError } from '../core/errors.ts';
import { DEFAULT_BASE_DETECTOR, baseDetectorNames } from '../detect/index.ts';
import type { CliCommand, CliIo, ParsedArgs } from '../core/cli-types.ts';
import { defaultNabPaths, loadCorpus } from './data/corpus.ts';
import { ARGOS_TRAIN_FRACTION } from './data/split.ts';
import { labelsFromScores, runArgosEval } from './eval/argos.ts';
import { runNabEval } from './eval/nab.ts';
import { DEFAULT_DETECTOR, detectorList, getDetector, locoLabeller } from './eval/registry.ts';
import { ENSEMBLE_LOCO_GRID, runNabLoco } from './eval/loco.ts';
import { progressLine, renderMarkdown, renderTerminal } from './eval/report.ts';
import type { EvalResult } from './eval/report.ts';
import type { Series } from './data/series.ts';
import type { BaseFn, BaseOutput } from './eval/detector.ts';
import { Registry } from 'prom-client';
import { providerOption, runTrain, trainOptionsFrom } from './argos/cli-train.ts';
import type { SeriesTrainingReport } from './argos/report.ts';
import { argosRuleTrainer, createTrainingRun } from './argos/run.ts';
import { trainDefaultsFor } from './argos/trainer.ts';
import type { TrainOptions } from './argos/trainer.ts';
import { HOLDOUT_GRID, runArgosHoldout } from './eval/holdout.ts';

function str(args: ParsedArgs, key: string): string | undefined {
  const v = args.options[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new UsageError(`--${key}: expected a string`);
  return v;
}

function progress(io: CliIo, label: string): (done: number, total: number, name: string) => void {
  let lastStep = -1;
  return (done, total, name) => {
    // About 20 lines per run: enough to see it move without flooding a log.
    const step = Math.floor((done / total) * 20);
    if (step !== lastStep || done === total) {
      lastStep = step;
      io.err(`${label} ${progressLine(done, total, name)}`);
    }
  };
}

export async function runEval(args: ParsedArgs, io: CliIo): Promise<EvalResult> {
  const defaults = defaultNabPaths();
  const data = str(args, 'data') ?? defaults.data;
  const labels = str(args, 'labels') ?? defaults.labels;
  const protocol = str(args, 'protocol') ?? 'nab';
  if (protocol !== 'nab' && protocol !== 'argos') throw new UsageError(`--protocol: expected "argos" or "nab", got "${protocol}"`);
  const detectorName = str(args, 'detector') ?? DEFAULT_DETECTOR[protocol];
  const detector = getDetector(detectorName);
  const loco = args.options['loco'] === true;
  if (loco && protocol !== 'nab') throw new UsageError('--loco applies to --protocol nab');
  const locoMake = loco ? locoLabeller(detectorName) : undefined;
  const filterOpt = args.options['filter'];
  const filter = Array.isArray(filterOpt) ? filterOpt : typeof filterOpt === 'string' ? [filterOpt] : undefined;
  if (protocol === 'nab' && args.options['holdout'] === true) throw new UsageError('--holdout applies to --protocol argos');
  const t0 = performance.now();
  io.err(`loading ${data} with labels ${labels}`);
  const corpus = await loadCorpus(data, labels, filter ? { filter } : {});
  if (corpus.length === 0) throw new UsageError(`--filter matched no series under ${data}`);
  let result: EvalResult;
  if (protocol === 'nab') {
    const nab = runNabEval(corpus, detector, { onProgress: progress(io, 'nab'), signal: io.signal });
    if (locoMake) {
      io.err(`leave-one-category-out over a grid of ${ENSEMBLE_LOCO_GRID.length} settings`);
      nab.loco = runNabLoco(corpus, locoMake, ENSEMBLE_LOCO_GRID, { onProgress: progress(io, 'loco'), signal: io.signal });
    }
    result = nab;
  } else {
    // A detector that decides for itself (pipelines/detect's base detectors) is used as deployed;
    // a pure scorer gets the threshold with the best train-split event F1.
    // Its trace (alarm candidates + rest) lets rules combine with it exactly as online.
    const rawBase: BaseFn = detector.trace ? (s) => detector.trace!(s) : detector.labels ? (s) => detector.labels!(s) : labelsFromScores(detector);
    // The protocol asks for base labels, then the trainer needs the same ones (and --holdout runs
    // every series several times): compute them once per series.
    const memo = new WeakMap<Series, BaseOutput>();
    const base: BaseFn = (s, ctx) => {
      let l = memo.get(s);
      if (!l) memo.set(s, (l = rawBase(s, ctx)));
      return l;
    };
    const train = providerOption(args, 'train');
    const holdout = args.options['holdout'] === true;
    const cross = args.options['cross'] === true;
    if (cross && !(holdout && train)) throw new UsageError('--cross needs --holdout and --train');
    // Training defaults for this base detector (BASE_TRAIN_DEFAULTS), under what the user passed.
    const userOptions = { ...trainDefaultsFor(detectorName), ...trainOptionsFrom(args), signal: io.signal };
    const runs: Array<{ options: Partial<TrainOptions>; reports: SeriesTrainingReport[] }> = [];
    const trainingRun = train ? createTrainingRun({ registry: new Registry(), provider: train, signal: io.signal }) : undefined;
    const factory = (options: Partial<TrainOptions>) => {
      const reports: SeriesTrainingReport[] = [];
      runs.push({ options, reports });
      return argosRuleTrainer(trainingRun!, base, { ...userOptions, ...options }, reports);
    };
    if (train) io.err(`training Argos rules per series on its train split (provider ${train})`);
    let argos: EvalResult & { protocol: 'argos' };
    let reports: SeriesTrainingReport[] = [];
    const evalOpts = { trainFraction: ARGOS_TRAIN_FRACTION, onProgress: progress(io, 'argos'), signal: io.signal };
    if (holdout) {
      if (train) {
        for (const k of ['gate', 'min-support', 'validation', 'fp-evidence', 'fp-relative', 'range-rules']) {
          if (args.options[k] !== undefined) throw new UsageError(`--holdout chooses --${k} on the tuning half (grid of ${HOLDOUT_GRID.length}); do not pass it`);
        }
      }
      const h = await runArgosHoldout(corpus, { name: detector.name, base }, train ? factory : undefined, {
        ...evalOpts,
        cross,
        onStage: (stage) => io.err(`holdout: ${stage}`),
        publishedInLastRun: () => runs.at(-1)!.reports.filter((r) => r.published.length > 0).length,
      });
      // Training reports of what is reported: with --cross the reporting run (right after the
      // tuning grid) and the swapped run on the tuning half (the last); else the chosen point's
      // tuning-half run and the reporting run.
      const n = HOLDOUT_GRID.length;
      if (train) reports = cross ? [...runs[n]!.reports, ...runs.at(-1)!.reports] : [...runs.find((r) => r.options === h.holdout.chosen!.options)!.reports, ...runs[n]!.reports];
      argos = h;
    } else {
      argos = await runArgosEval(corpus, { name: detector.name, base, ...(train ? { trainRules: factory({}) } : {}) }, evalOpts);
      reports = runs[0]?.reports ?? [];
    }
    if (train) {
      const times = reports.map((r) => r.timeMs);
      const published = reports.filter((r) => r.published.length > 0).length;
      argos.notes.push(
        `rules: trained per series on its train split with the ${train} provider (fit = first ${Math.round((1 - (reports[0]?.options['validationFraction'] ?? 0.3)) * 100)}% of it, ` +
          `validation = the rest); ${published} of ${reports.length} series published rules (the others failed the validation guarantee or kept none, so their rules are empty); ` +
          `training time per series mean ${(times.reduce((a, b) => a + b, 0) / Math.max(1, times.length) / 1000).toFixed(2)} s, max ${(Math.max(0, ...times) / 1000).toFixed(2)} s.`,
      );
      result = {
        ...argos,
        training: reports.map((r) => ({
          series: r.series,
          trained: r.rules.map((x) => `${x.kind}: ${x.expr}`),
          published: r.published,
          validation: r.validation.reason,
          rangeRules: r.rangeRules.map((x) => `${x.expr}: ${x.published ? 'published' : 'not published'} (${x.reason})`),
          stoppedBecause: r.stoppedBecause,
          timeMs: r.timeMs,
        })),
      } as EvalResult;
    } else result = argos;
  }
  return { ...result, runtimeMs: Math.round(performance.now() - t0), data, labels };
}

export function outPaths(out: string): { json: string; md: string } {
  const base = out.replace(/\.(json|md)$/, '');
  return { json: `${base}.json`, md: `${base}.md` };
}

const evalCommand: CliCommand = {
  name: 'eval',
  summary: 'Score an anomaly detector on a labelled corpus (NAB score or Argos F1 protocol)',
  usage: '[--data DIR] [--labels FILE] [--protocol argos|nab] [--detector NAME] [--loco] [--filter TEXT]... [--out FILE] [--json]',
  options: [
    { name: 'data', type: 'string', placeholder: 'DIR', description: 'folder of timestamp,value CSVs (default: NAB data under PANOPTES_DATASETS)' },
    { name: 'labels', type: 'string', placeholder: 'FILE', description: 'labels in NAB combined_windows.json or combined_labels.json format (default: NAB combined_windows.json)' },
    { name: 'protocol', type: 'string', default: 'nab', placeholder: 'argos|nab', description: 'nab: NAB score per profile; argos: 70/30 split, point and event F1' },
    {
      name: 'detector',
      type: 'string',
      placeholder: 'NAME',
      description: `detector to score — ${detectorList()} (default: ${DEFAULT_DETECTOR.nab})`,
    },
    { name: 'loco', type: 'boolean', description: `nab protocol, detector ${DEFAULT_DETECTOR.nab}: also score leave-one-category-out (each category with settings chosen on the others over a ${ENSEMBLE_LOCO_GRID.length}-point grid)` },
    { name: 'filter', type: 'string[]', placeholder: 'TEXT', description: 'only series whose path contains TEXT (repeatable)' },
    { name: 'out', type: 'string', placeholder: 'FILE', description: 'also write FILE.json and FILE.md reports' },
    { name: 'train', type: 'string', placeholder: 'offline|openai', description: 'argos protocol: train Argos rules per series on its train split with this provider and report rules and base+rules' },
    { name: 'seed', type: 'number', placeholder: 'N', description: 'with --train: seed of the chunk sampler (default 1)' },
    { name: 'iterations', type: 'number', placeholder: 'N', description: 'with --train: training iterations per series (default 10)' },
    { name: 'candidates', type: 'number', placeholder: 'N', description: 'with --train: candidate rules asked per iteration (default 4)' },
    { name: 'min-support', type: 'number', placeholder: 'N', description: 'with --train: event-level mistakes a kept rule must fix on the fit split (default 1)' },
    { name: 'validation', type: 'string', placeholder: 'FRACTION', description: 'with --train: share of the train split held out for the accuracy guarantee (default 0.3)' },
    { name: 'gate', type: 'string', placeholder: 'proven-vetoes|at-least|improves', description: 'with --train: publish rules that do not lose on the validation split, FP rules only if they remove a false alarm there (proven-vetoes); or any that do not lose (at-least); or only rule sets that improve there (improves) (default: improves with --detector ensemble, proven-vetoes otherwise)' },
    { name: 'fp-evidence', type: 'string', placeholder: 'on|off', description: 'with --train: keep an FP rule only if the fit split has a detected event it keeps detecting (default off)' },
    { name: 'fp-relative', type: 'string', placeholder: 'on|off', description: 'with --train, offline: no absolute `value < c` FP rule, only vetoes relative to the recent past (default: off with --detector ensemble, on otherwise)' },
    { name: 'range-recent', type: 'number', placeholder: 'N', description: 'with --train: range rules also ask for a new extreme of the last N samples (`value > hi and value >= max(N samples)`); 0: off (default: 288 with --detector ensemble, 0 otherwise)' },
    { name: 'range-rules', type: 'string', placeholder: 'off|above|both', description: 'with --train: also publish `value > hi` (above) and also `value < lo` (both) (default: above with --detector ensemble, both otherwise), hi/lo just beyond the fit split\'s normal range, when they raise no alarm on a normal row of the training split' },
    {
      name: 'holdout',
      type: 'boolean',
      description: 'argos protocol: split the series in a tuning and a reporting half (fixed hash of the path); with --train, gate/validation/fp-evidence/fp-relative/range-rules are chosen on the tuning half (min-support 1); the summary is the reporting half\'s',
    },
    { name: 'cross', type: 'boolean', description: 'with --holdout --train: also choose on the reporting half and report on the tuning half (2-fold); the summary covers every series, each reported with options chosen on the other half' },
  ],
  help: [
    'Examples:',
    '  panoptes eval --protocol nab                 # NAB score of the default detector on the full corpus',
    '  panoptes eval --protocol nab --loco          # and the leave-one-category-out figure beside it',
    '  panoptes eval --protocol argos --json        # one JSON document: summary + per-series results',
    '  panoptes eval --protocol nab --out reports/eval   # writes reports/eval.json and reports/eval.md',
    '  panoptes eval --protocol argos --filter real --train offline   # base, rules and base+rules with rules trained offline',
    '  panoptes eval --protocol argos --filter real --train offline --holdout   # options chosen on the tuning half, reported on the other',
    '  panoptes eval --protocol argos --filter real --train offline --holdout --cross   # 2-fold: each half reported with options chosen on the other',
  ].join('\n'),
  async run(args, io) {
    const result = await runEval(args, io);
    const out = str(args, 'out');
    if (out) {
      const p = outPaths(out);
      await mkdir(dirname(p.json), { recursive: true });
      await writeFile(p.json, JSON.stringify(result, null, 2) + '\n');
      await writeFile(p.md, renderMarkdown(result));
      io.err(`wrote ${p.json} and ${p.md}`);
    }
    if (io.json) io.out(JSON.stringify(result));
    else for (const line of renderTerminal(result)) io.out(line);
    return 0;
  },
};

const trainCommand: CliCommand = {
  name: 'train',
  summary: 'Train explainable anomaly rules (Argos agents, offline or an LLM) and write a rule file',
  usage: '--data DIR|FILE --labels FILE --out FILE [--provider offline|openai] [--seed N] [--iterations N] [--base ensemble|ewma|robust-z] [--report FILE] [--gate proven-vetoes|at-least|improves] [--json]',
  options: [
    { name: 'data', type: 'string', placeholder: 'DIR|FILE', required: true, description: 'a timestamp,value CSV, or a folder of them (keys relative to it, as in the label file)' },
    { name: 'labels', type: 'string', placeholder: 'FILE', required: true, description: 'labels in NAB combined_windows.json or combined_labels.json format' },
    { name: 'out', type: 'string', placeholder: 'FILE', required: true, description: 'rule file to write (YAML, read by rules check / rules publish)' },
    { name: 'report', type: 'string', placeholder: 'FILE', description: 'also write the training report as FILE.json and FILE.md' },
    { name: 'provider', type: 'string', placeholder: 'offline|openai', description: 'who plays the agents (default: openai when OPENAI_API_KEY is set, else offline)' },
    { name: 'base', type: 'string', default: DEFAULT_BASE_DETECTOR, placeholder: baseDetectorNames.join('|'), description: 'base detector the rules are combined with' },
    { name: 'seed', type: 'number', default: 1, placeholder: 'N', description: 'seed of the chunk sampler (same data + seed = same rules offline)' },
    { name: 'iterations', type: 'number', default: 10, placeholder: 'N', description: 'training iterations per series' },
    { name: 'candidates', type: 'number', default: 4, placeholder: 'N', description: 'candidate rules asked per iteration (top-k)' },
    { name: 'min-support', type: 'number', default: 1, placeholder: 'N', description: 'event-level mistakes (net) a kept rule must fix on the fit split' },
    { name: 'gate', type: 'string', placeholder: 'proven-vetoes|at-least|improves', description: 'publish rules that do not lose on the validation split, FP rules only if they remove a false alarm there (proven-vetoes); or any that do not lose (at-least); or only rule sets that improve there (improves) (default: improves with --base ensemble, proven-vetoes otherwise)' },
    { name: 'fp-evidence', type: 'string', placeholder: 'on|off', description: 'keep an FP rule only if the fit split has a detected event it keeps detecting (default off)' },
    { name: 'fp-relative', type: 'string', placeholder: 'on|off', description: 'offline provider: no absolute `value < c` FP rule, only vetoes relative to the recent past (default: off with --base ensemble, on otherwise)' },
    { name: 'range-recent', type: 'number', placeholder: 'N', description: 'range rules also ask for a new extreme of the last N samples (`value > hi and value >= max(N samples)`); 0: off (default: 288 with --base ensemble, 0 otherwise)' },
    { name: 'range-rules', type: 'string', placeholder: 'off|above|both', description: 'after the agents: `value > hi` (above) and also `value < lo` (both) (default: above with --base ensemble, both otherwise), hi/lo just beyond the fit split\'s normal range, published when they raise no alarm on a normal row of fit or validation' },
    { name: 'validation', type: 'string', default: '0.3', placeholder: 'FRACTION', description: 'share of each series held out at its end: rules are published only if base+rules scores at least the base there' },
    { name: 'filter', type: 'string[]', placeholder: 'TEXT', description: 'with a folder: only series whose path contains TEXT (repeatable)' },
  ],
  help: [
    'Each series is split: the first 70% (fit) is what the agents see; the last 30% (validation) decides',
    'whether the rules are published (base+rules must score at least the base alone there, and FP rules must',
    'remove a false alarm there; see --gate). Rules whose series failed validation are left out of --out.',
    'Examples:',
    '  panoptes train --data $PANOPTES_DATASETS/nab/data/realKnownCause/nyc_taxi.csv --labels $PANOPTES_DATASETS/nab/labels/combined_windows.json --out rules/nyc_taxi.yaml --report reports/nyc_taxi-training',
    '  panoptes train --data $PANOPTES_DATASETS/nab/data --labels $PANOPTES_DATASETS/nab/labels/combined_windows.json --filter realTweets --out rules/tweets.yaml --json',
  ].join('\n'),
  run: runTrain,
};

export const commands: CliCommand[] = [evalCommand, trainCommand];
