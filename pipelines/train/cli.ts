/**
 * The train stage's commands: `eval` (NAB and Argos protocols over a folder of CSVs, optionally
 * training Argos rules per series) and `train` (Argos rule training, writing a rule file).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UsageError } from '../core/errors.ts';
import type { CliCommand, CliIo, ReadmeSections } from '../core/cli-types.ts';
import { defaultNabPaths, loadCorpus } from './data/corpus.ts';
import { ARGOS_TRAIN_FRACTION } from './data/split.ts';
import { labelsFromScores, runArgosEval } from './eval/argos.ts';
import { runNabEval } from './eval/nab.ts';
import { DEFAULT_DETECTOR, getDetector, locoLabeller } from './eval/registry.ts';
import { ENSEMBLE_LOCO_GRID, runNabLoco } from './eval/loco.ts';
import { progressLine, renderMarkdown, renderTerminal } from './eval/report.ts';
import type { EvalResult } from './eval/report.ts';
import type { Series } from './data/series.ts';
import type { BaseFn, BaseOutput } from './eval/detector.ts';
import { Registry } from 'prom-client';
import { runTrain } from './argos/cli-train.ts';
import type { SeriesTrainingReport } from './argos/report.ts';
import { argosRuleTrainer, createTrainingRun } from './argos/run.ts';
import { trainDefaultsFor } from './argos/trainer.ts';
import type { TrainOptions } from './argos/trainer.ts';
import { HOLDOUT_GRID, runArgosHoldout } from './eval/holdout.ts';
import { evalOptionsFrom, evalSpec, trainOptionsOf, trainSpec, type EvalOptions } from './spec.ts';

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

export async function runEval(o: EvalOptions, io: CliIo): Promise<EvalResult> {
  const defaults = defaultNabPaths();
  const data = o.data ?? defaults.data;
  const labels = o.labels ?? defaults.labels;
  const protocol = o.protocol;
  const detectorName = o.detector ?? DEFAULT_DETECTOR[protocol];
  const detector = getDetector(detectorName);
  const locoMake = o.loco ? locoLabeller(detectorName) : undefined;
  const filter = o.filter;
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
    const train = o.train;
    const holdout = o.holdout === true;
    const cross = o.cross === true;
    // Training defaults for this base detector (BASE_TRAIN_DEFAULTS), under what the user passed.
    const userOptions = { ...trainDefaultsFor(detectorName), ...trainOptionsOf(o), signal: io.signal };
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
  summary: evalSpec.summary,
  usage: '[--data DIR] [--labels FILE] [--protocol argos|nab] [--detector NAME] [--loco] [--filter TEXT]... [--out FILE] [--json]',
  options: evalSpec.cliOptions(),
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
    const o = evalOptionsFrom(args);
    const result = await runEval(o, io);
    const out = o.out;
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
  summary: trainSpec.summary,
  usage: '--data DIR|FILE --labels FILE --out FILE [--provider offline|openai] [--seed N] [--iterations N] [--base ensemble|ewma|robust-z] [--report FILE] [--gate proven-vetoes|at-least|improves] [--json]',
  options: trainSpec.cliOptions(),
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

export const readmeSections: ReadmeSections = { 'eval-options': () => evalSpec.markdown(), 'train-options': () => trainSpec.markdown() };
