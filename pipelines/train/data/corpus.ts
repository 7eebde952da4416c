/**
 * Loads a corpus: every `*.csv` under a folder (recursively) joined with a label file keyed by
 * the CSV's path relative to that folder (NAB's layout: `<category>/<file>.csv`).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve, sep, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError, NotFoundError } from '../../core/errors.ts';
import { parseLabelFile, resolveWindows } from './labels.ts';
import { parseSeriesCsv } from './series.ts';
import type { LabelledSeries } from './series.ts';

export interface LoadCorpusOptions {
  /** Only load series whose relative path contains one of these substrings. */
  filter?: string[];
  /**
   * What to do with a CSV the label file does not mention: `error` (default, a typo in a key
   * would otherwise silently drop a series) or `unlabelled` (treat as having no anomalies).
   */
  missingLabels?: 'error' | 'unlabelled';
}

async function listCsv(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch (err) {
      throw new NotFoundError(`data folder ${d} cannot be read: ${(err as Error).message}`, { cause: err });
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && e.name.endsWith('.csv')) out.push(p);
    }
  };
  await walk(dir);
  return out.sort();
}

export async function loadCorpus(dataDir: string, labelsFile: string, opts: LoadCorpusOptions = {}): Promise<LabelledSeries[]> {
  let labelText: string;
  try {
    labelText = await readFile(labelsFile, 'utf8');
  } catch (err) {
    throw new NotFoundError(`label file ${labelsFile} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  const labels = parseLabelFile(labelText, labelsFile);
  const files = await listCsv(dataDir);
  if (files.length === 0) throw new InputError(`${dataDir}: no .csv files found`);
  const out: LabelledSeries[] = [];
  const seen = new Set<string>();
  for (const file of files) {
    const name = relative(dataDir, file).split(sep).join('/');
    if (opts.filter && opts.filter.length > 0 && !opts.filter.some((f) => name.includes(f))) continue;
    seen.add(name);
    const entry = labels.get(name);
    if (!entry && opts.missingLabels !== 'unlabelled') {
      throw new InputError(`${labelsFile}: no labels for series "${name}" (${file})`, { details: { file: labelsFile, key: name } });
    }
    const series = parseSeriesCsv(await readFile(file, 'utf8'), name, file);
    out.push({ ...series, windows: entry ? resolveWindows(series, entry, labelsFile) : [] });
  }
  if (!opts.filter || opts.filter.length === 0) {
    const orphans = [...labels.keys()].filter((k) => !seen.has(k));
    if (orphans.length > 0) {
      throw new InputError(`${labelsFile}: labels name series not found under ${dataDir}: ${orphans.slice(0, 5).join(', ')}${orphans.length > 5 ? ', ...' : ''}`);
    }
  }
  return out;
}

/** The repository root (two levels above pipelines/train/data). */
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** `PANOPTES_DATASETS`, defaulting to `<repo>/../shared/datasets`. */
export function datasetsRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env['PANOPTES_DATASETS'] ? resolve(env['PANOPTES_DATASETS']) : resolve(REPO_ROOT, '..', 'shared', 'datasets');
}

export function defaultNabPaths(env: NodeJS.ProcessEnv = process.env): { data: string; labels: string } {
  const root = datasetsRoot(env);
  return { data: join(root, 'nab', 'data'), labels: join(root, 'nab', 'labels', 'combined_windows.json') };
}
