/**
 * Reads a folder in the PetShop layout (Hardt et al. 2024, CC-BY-4.0): one folder per scenario
 * with `graph.csv` (adjacency: row calls column), `noissue/metrics.csv` and
 * `<split>/issue_N/{metrics.csv,target.json}`. I/O lives here only; evaluation is pure.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../core/errors.ts';
import { framesFromPetshopCsv, type Frame } from '../frame.ts';
import { parseCallGraph, type CallGraph } from '../../graph/index.ts';

export { parseCallGraph, type CallGraph };

export interface PetshopIssue {
  name: string;
  failure: Frame;
  targetNode: string;
  targetMetric: string;
  targetTimestampMs: number;
  rootCause: string;
}

export interface PetshopScenario {
  name: string;
  callGraph: CallGraph;
  normal: Frame | null;
  issues: PetshopIssue[];
}

/** `PANOPTES_DATASETS`, or `<repo>/../shared/datasets` resolved from the repository root. */
export function datasetsRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PANOPTES_DATASETS) return resolve(env.PANOPTES_DATASETS);
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
  return resolve(repo, '..', 'shared', 'datasets');
}

function isDir(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory();
}

export function listScenarios(dir: string): string[] {
  if (!isDir(dir)) throw new InputError(`dataset folder ${dir} does not exist`);
  const names = readdirSync(dir).filter((n) => isDir(join(dir, n)) && existsSync(join(dir, n, 'graph.csv')));
  if (names.length === 0) throw new InputError(`${dir}: no scenario folders (a folder with graph.csv) found`);
  return names.sort();
}

export function loadScenario(dir: string, split = 'train'): PetshopScenario {
  const callGraph = parseCallGraph(readFileSync(join(dir, 'graph.csv'), 'utf8'));
  const normalPath = join(dir, 'noissue', 'metrics.csv');
  const normal = existsSync(normalPath) ? framesFromPetshopCsv(readFileSync(normalPath, 'utf8')) : null;
  const issues: PetshopIssue[] = [];
  const splitDir = join(dir, split);
  if (isDir(splitDir)) {
    const names = readdirSync(splitDir)
      .filter((n) => !n.startsWith('.') && isDir(join(splitDir, n)))
      .sort((a, b) => Number(a.replace(/\D/g, '')) - Number(b.replace(/\D/g, '')) || a.localeCompare(b));
    for (const n of names) {
      let t: { target?: { node?: string; metric?: string; timestamp?: number }; root_cause?: { node?: string } };
      try {
        t = JSON.parse(readFileSync(join(splitDir, n, 'target.json'), 'utf8'));
      } catch (err) {
        throw new InputError(`${join(splitDir, n, 'target.json')}: ${(err as Error).message}`, { cause: err });
      }
      if (!t.target?.node || !t.target.metric || !t.root_cause?.node) throw new InputError(`${join(splitDir, n, 'target.json')}: needs target.node, target.metric and root_cause.node`);
      issues.push({
        name: n,
        failure: framesFromPetshopCsv(readFileSync(join(splitDir, n, 'metrics.csv'), 'utf8')),
        targetNode: t.target.node,
        targetMetric: t.target.metric,
        targetTimestampMs: (t.target.timestamp ?? 0) * 1000,
        rootCause: t.root_cause.node,
      });
    }
  }
  return { name: dir.split('/').filter(Boolean).pop()!, callGraph, normal, issues };
}
