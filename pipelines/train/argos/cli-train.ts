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
import { loadCorpus } from '../data/corpus.ts';
import { parseLabelFile } from '../data/labels.ts';
import { windowsToPointLabels } from '../data/series.ts';
import type { LabelledSeries } from '../data/series.ts';
import { getDetector } from '../eval/registry.ts';
import type { TrainingReport } from './report.ts';
import { renderTrainingMarkdown } from './report.ts';
import { renderRuleFile } from './rule-output.ts';
import { createTrainingRun } from './run.ts';
import { trainDefaultsFor, trainSeries } from './trainer.ts';
import type { SeriesTrainingResult } from './trainer.ts';
import { trainOptionsOf, trainSpec } from '../spec.ts';

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
  const o = trainSpec.fromArgs(args);
  const { data, labels, out, provider, filter } = o;
  const baseName = o.base;
  // Defaults for this base detector (BASE_TRAIN_DEFAULTS), under what the user passed.
  const options = { ...trainDefaultsFor(baseName), ...trainOptionsOf(o) };
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
  const reportPath = o.report;
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
