/**
 * `panoptes train`: Argos rule training on labelled series, writing a rule file (only rules that
 * passed the accuracy guarantee) and a training report.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { Registry } from 'prom-client';
import { InputError, UsageError } from '../../core/errors.ts';
import type { CliIo, ParsedArgs } from '../../core/cli-types.ts';
import { DEFAULT_BASE_DETECTOR, baseDetectorNames } from '../../detect/index.ts';
import { loadCorpus } from '../data/corpus.ts';
import { parseLabelFile } from '../data/labels.ts';
import { windowsToPointLabels } from '../data/series.ts';
import type { LabelledSeries } from '../data/series.ts';
import { getDetector } from '../eval/registry.ts';
import type { TrainingReport } from './report.ts';
import { renderTrainingMarkdown } from './report.ts';
import { renderRuleFile } from './rule-output.ts';
import { createTrainingRun } from './run.ts';
import { RANGE_MODES, trainDefaultsFor, trainSeries } from './trainer.ts';
import type { SeriesTrainingResult, TrainOptions } from './trainer.ts';

export function intOption(args: ParsedArgs, key: string, min: number): number | undefined {
  const v = args.options[key];
  if (v === undefined) return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${key}: expected an integer >= ${min}, got "${String(v)}"`);
  return n;
}

export function providerOption(args: ParsedArgs, key: string): 'offline' | 'openai' | undefined {
  const v = args.options[key];
  if (v === undefined) return undefined;
  if (v !== 'offline' && v !== 'openai') throw new UsageError(`--${key}: expected "offline" or "openai", got "${String(v)}"`);
  return v;
}

export function onOffOption(args: ParsedArgs, key: string): boolean | undefined {
  const v = args.options[key];
  if (v === undefined) return undefined;
  if (v !== 'on' && v !== 'off') throw new UsageError(`--${key}: expected "on" or "off", got "${String(v)}"`);
  return v === 'on';
}

/** Common training flags of `train` and `eval --train`. */
export function trainOptionsFrom(args: ParsedArgs): Partial<TrainOptions> {
  const o: Partial<TrainOptions> = {};
  const seed = intOption(args, 'seed', 0);
  const iterations = intOption(args, 'iterations', 1);
  const candidates = intOption(args, 'candidates', 1);
  const minSupport = intOption(args, 'min-support', 1);
  if (minSupport !== undefined) o.minSupport = minSupport;
  if (seed !== undefined) o.seed = seed;
  if (iterations !== undefined) o.iterations = iterations;
  if (candidates !== undefined) o.candidates = candidates;
  const fpEvidence = onOffOption(args, 'fp-evidence');
  if (fpEvidence !== undefined) o.fpEvidence = fpEvidence;
  const fpRelative = onOffOption(args, 'fp-relative');
  if (fpRelative !== undefined) o.fpRelative = fpRelative;
  const range = args.options['range-rules'];
  if (range !== undefined) {
    const mode = RANGE_MODES.find((m) => m === range);
    if (!mode) throw new UsageError(`--range-rules: expected ${RANGE_MODES.map((m) => `"${m}"`).join(', ')}, got "${String(range)}"`);
    o.rangeRules = mode;
  }
  const recent = intOption(args, 'range-recent', 0);
  if (recent !== undefined) o.rangeRecent = recent;
  const gate = args.options['gate'];
  if (gate !== undefined) {
    if (gate !== 'improves' && gate !== 'at-least' && gate !== 'proven-vetoes') throw new UsageError(`--gate: expected "at-least", "proven-vetoes" or "improves", got "${String(gate)}"`);
    o.gate = gate;
  }
  const v = args.options['validation'];
  if (v !== undefined) {
    const x = Number(v);
    if (!(x > 0 && x < 1)) throw new UsageError(`--validation: expected a fraction in (0, 1), got "${String(v)}"`);
    o.validationFraction = x;
  }
  return o;
}

/** `--data` as a folder, or one CSV whose path ends with a key of the label file. */
async function loadTrainingData(data: string, labels: string, filter: string[] | undefined): Promise<LabelledSeries[]> {
  let isFile: boolean;
  try {
    isFile = (await stat(data)).isFile();
  } catch (err) {
    throw new InputError(`--data ${data} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  if (!isFile) {
    const corpus = await loadCorpus(data, labels, filter ? { filter } : {});
    if (corpus.length === 0) throw new UsageError(`no series under ${data}${filter ? ` matching ${filter.join(', ')}` : ''}`);
    return corpus;
  }
  const abs = resolve(data).split(sep).join('/');
  const keys = [...parseLabelFile(await readFile(labels, 'utf8'), labels).keys()];
  const key = keys.filter((k) => abs.endsWith(`/${k}`) || abs === k).sort((a, b) => b.length - a.length)[0];
  if (!key) throw new InputError(`${labels}: no labels for ${data} (no key is a suffix of its path)`);
  const root = abs.slice(0, abs.length - key.length);
  const corpus = await loadCorpus(root, labels, { filter: [key] });
  const s = corpus.find((c) => c.name === key);
  if (!s) throw new InputError(`${data}: not found as ${key} under ${root}`);
  return [s];
}

export async function runTrain(args: ParsedArgs, io: CliIo): Promise<number> {
  const str = (k: string): string | undefined => (typeof args.options[k] === 'string' ? (args.options[k] as string) : undefined);
  const data = str('data');
  const labels = str('labels');
  const out = str('out');
  if (!data) throw new UsageError('train needs --data DIR|FILE');
  if (!labels) throw new UsageError('train needs --labels FILE');
  if (!out) throw new UsageError('train needs --out FILE (the rule file to write)');
  const baseName = str('base') ?? DEFAULT_BASE_DETECTOR;
  if (!(baseDetectorNames as readonly string[]).includes(baseName)) throw new UsageError(`--base: expected one of ${baseDetectorNames.join(', ')}, got "${baseName}"`);
  const provider = providerOption(args, 'provider');
  const filterOpt = args.options['filter'];
  const filter = Array.isArray(filterOpt) ? filterOpt : typeof filterOpt === 'string' ? [filterOpt] : undefined;
  // Defaults for this base detector (BASE_TRAIN_DEFAULTS), under what the user passed.
  const options = { ...trainDefaultsFor(baseName), ...trainOptionsFrom(args) };
  const t0 = performance.now();
  io.err(`loading ${data} with labels ${labels}`);
  const corpus = await loadTrainingData(data, labels, filter);
  const run = createTrainingRun({ registry: new Registry(), ...(provider ? { provider } : {}), signal: io.signal });
  io.err(`training with provider ${run.provider} on ${corpus.length} series (base ${baseName})`);
  const base = getDetector(baseName);
  const results: SeriesTrainingResult[] = [];
  for (const [i, s] of corpus.entries()) {
    io.signal.throwIfAborted();
    const n = s.values.length;
    const r = await trainSeries(
      { name: s.name, timestamps: s.timestamps, values: s.values, truth: windowsToPointLabels(s.windows, n), base: base.trace ? base.trace(s) : base.labels!(s), trainEnd: n },
      run,
      { ...options, idPrefix: `${s.name.replace(/\.csv$/, '')}:`, signal: io.signal, onProgress: (l) => io.err(l) },
    );
    results.push(r);
    io.err(`[${i + 1}/${corpus.length}] ${s.name}: ${r.trained.length} trained, ${r.published.length} published (${(r.report.timeMs / 1000).toFixed(2)} s)`);
  }
  const seed = options.seed ?? 1;
  const report: TrainingReport = {
    kind: 'argos-training',
    provider: run.provider,
    seed,
    data,
    labels,
    base: baseName,
    series: results.map((r) => r.report),
    published: results.reduce((a, r) => a + r.published.length, 0),
    trained: results.reduce((a, r) => a + r.trained.length, 0),
    usage: run.llm.usage(),
    timeMs: Math.round(performance.now() - t0),
  };
  const ruleText = renderRuleFile(
    results.map((r) => ({ rules: r.published, report: r.report })),
    [
      `Argos rules trained by panoptes train (provider ${run.provider}, seed ${seed}, base ${baseName}).`,
      'Only rule sets that scored at least the base detector alone on their held-out validation split are listed;',
      'range rules are listed when they raised no alarm on a normal row of the training split (fit and validation).',
    ],
  );
  await mkdir(dirname(resolve(out)), { recursive: true });
  await writeFile(out, ruleText);
  const reportPath = str('report');
  let paths: { json: string; md: string } | undefined;
  if (reportPath) {
    const b = reportPath.replace(/\.(json|md)$/, '');
    paths = { json: `${b}.json`, md: `${b}.md` };
    await mkdir(dirname(resolve(paths.json)), { recursive: true });
    await writeFile(paths.json, JSON.stringify(report, null, 2) + '\n');
    await writeFile(paths.md, renderTrainingMarkdown(report));
  }
  const summary = {
    out,
    report: paths ?? null,
    provider: run.provider,
    seed,
    trained: report.trained,
    published: report.published,
    timeMs: report.timeMs,
    series: results.map((r) => ({
      series: r.report.series,
      trained: r.trained.length,
      published: r.published.map((p) => p.spec.id),
      validation: r.report.validation.reason,
      rangeRules: r.report.rangeRules.map((x) => ({ expr: x.expr, published: x.published, reason: x.reason })),
      timeMs: r.report.timeMs,
    })),
    usage: report.usage.total,
  };
  if (io.json) io.out(JSON.stringify(summary));
  else {
    io.out(`wrote ${out}: ${report.published} rule(s) published of ${report.trained} trained on ${corpus.length} series in ${(report.timeMs / 1000).toFixed(1)} s`);
    for (const s of summary.series) {
      const range = s.rangeRules.length === 0 ? '' : `; range rules: ${s.rangeRules.map((x) => `${x.expr} ${x.published ? 'published' : `withheld (${x.reason})`}`).join(', ')}`;
      io.out(`  ${s.series}: ${s.published.length}/${s.trained} published — loop: ${s.validation}${range}`);
    }
    if (paths) io.out(`report: ${paths.json}, ${paths.md}`);
  }
  return 0;
}
