/** The train stage's commands: `eval` (NAB and Argos protocols over a folder of CSVs). */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UsageError } from '../core/errors.ts';
import type { CliCommand, CliIo, ParsedArgs } from '../core/cli-types.ts';
import { defaultNabPaths, loadCorpus } from './data/corpus.ts';
import { ARGOS_TRAIN_FRACTION } from './data/split.ts';
import { labelsFromScores, runArgosEval } from './eval/argos.ts';
import { runNabEval } from './eval/nab.ts';
import { DEFAULT_DETECTOR, DETECTORS, getDetector } from './eval/registry.ts';
import { progressLine, renderMarkdown, renderTerminal } from './eval/report.ts';
import type { EvalResult } from './eval/report.ts';
import type { Series } from './data/series.ts';

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
  const detector = getDetector(str(args, 'detector') ?? DEFAULT_DETECTOR[protocol]);
  const filterOpt = args.options['filter'];
  const filter = Array.isArray(filterOpt) ? filterOpt : typeof filterOpt === 'string' ? [filterOpt] : undefined;
  const t0 = performance.now();
  io.err(`loading ${data} with labels ${labels}`);
  const corpus = await loadCorpus(data, labels, filter ? { filter } : {});
  if (corpus.length === 0) throw new UsageError(`--filter matched no series under ${data}`);
  let result: EvalResult;
  if (protocol === 'nab') {
    result = runNabEval(corpus, detector, { onProgress: progress(io, 'nab'), signal: io.signal });
  } else {
    // A detector that decides for itself (pipelines/detect's base detectors) is used as deployed;
    // a pure scorer gets the threshold with the best train-split event F1.
    const base = detector.labels ? (s: Series) => detector.labels!(s) : labelsFromScores(detector);
    result = await runArgosEval(corpus, { name: detector.name, base }, {
      trainFraction: ARGOS_TRAIN_FRACTION,
      onProgress: progress(io, 'argos'),
      signal: io.signal,
    });
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
  usage: '[--data DIR] [--labels FILE] [--protocol argos|nab] [--detector NAME] [--filter TEXT]... [--out FILE] [--json]',
  options: [
    { name: 'data', type: 'string', placeholder: 'DIR', description: 'folder of timestamp,value CSVs (default: NAB data under PANOPTES_DATASETS)' },
    { name: 'labels', type: 'string', placeholder: 'FILE', description: 'labels in NAB combined_windows.json or combined_labels.json format (default: NAB combined_windows.json)' },
    { name: 'protocol', type: 'string', default: 'nab', placeholder: 'argos|nab', description: 'nab: NAB score per profile; argos: 70/30 split, point and event F1' },
    {
      name: 'detector',
      type: 'string',
      placeholder: 'NAME',
      description: `detector to score: ${Object.keys(DETECTORS).join(', ')} (default: ${DEFAULT_DETECTOR.nab} for nab, ${DEFAULT_DETECTOR.argos} for argos)`,
    },
    { name: 'filter', type: 'string[]', placeholder: 'TEXT', description: 'only series whose path contains TEXT (repeatable)' },
    { name: 'out', type: 'string', placeholder: 'FILE', description: 'also write FILE.json and FILE.md reports' },
  ],
  help: [
    'Examples:',
    '  panoptes eval --protocol nab                 # NAB score of the default detector on the full corpus',
    '  panoptes eval --protocol argos --json        # one JSON document: summary + per-series results',
    '  panoptes eval --protocol nab --out reports/eval   # writes reports/eval.json and reports/eval.md',
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

export const commands: CliCommand[] = [evalCommand];
