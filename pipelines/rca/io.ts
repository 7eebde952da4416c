/**
 * File I/O of the offline CLI: catalog folders, metric lists, telemetry CSVs, graph files.
 * Everything else in the stage is pure.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../core/errors.ts';
import { buildCatalog, parseCatalogFile, type Catalog } from './catalog.ts';
import { frameFromCsv, parseCsv, type Frame } from './frame.ts';
import type { CausalGraphRecord } from '../graph/index.ts';
import { GraphStore, parseGraphJson } from '../graph/index.ts';

export function readText(path: string, what: string): string {
  if (!existsSync(path)) throw new InputError(`${what} ${path} does not exist`);
  if (statSync(path).isDirectory()) throw new InputError(`${what} ${path} is a folder, expected a file`);
  return readFileSync(path, 'utf8');
}

/** Every `*.md` file of a folder (README.md excepted), several pages per file allowed. */
export function loadCatalogDir(dir: string): Catalog {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`catalog folder ${dir} does not exist`);
  const files = readdirSync(dir).filter((f) => f.endsWith('.md') && f.toLowerCase() !== 'readme.md').sort();
  if (files.length === 0) throw new InputError(`catalog folder ${dir} has no .md pages`);
  return buildCatalog(files.flatMap((f) => parseCatalogFile(readFileSync(join(dir, f), 'utf8'), join(dir, f))));
}

/**
 * Observed metrics: a CSV (PetShop layout or `timestamp,<node id>...` header) gives its columns;
 * any other file lists one `component:metric` per line (# comments allowed).
 */
export function readObserved(path: string): Set<string> {
  const text = readText(path, 'metrics file');
  if (path.endsWith('.csv')) {
    const rows = parseCsv(text.split(/\r?\n/).slice(0, 4).join('\n'));
    if (rows.length >= 3 && /^metric$/i.test(rows[1]![0] ?? '')) {
      const out = new Set<string>();
      rows[0]!.forEach((c, i) => {
        if (i > 0 && c && rows[1]![i]) out.add(`${c}:${rows[1]![i]}`);
      });
      return out;
    }
    return new Set((rows[0] ?? []).slice(1).filter(Boolean));
  }
  const out = new Set<string>();
  text.split(/\r?\n/).forEach((l, i) => {
    const s = l.replace(/#.*$/, '').trim();
    if (!s) return;
    if (!/.+:[^:]+$/.test(s)) throw new InputError(`${path}:${i + 1}: expected component:metric, got "${s}"`);
    out.add(s);
  });
  return out;
}

export function readFrame(path: string): Frame {
  return frameFromCsv(readText(path, 'data file'));
}

export function readGraph(path: string): CausalGraphRecord {
  return parseGraphJson(readText(path, 'graph file'));
}

/** A graph file the consumers would accept (InputError with the reason otherwise): `rca run --graph`. */
export function readFallbackGraph(path: string): CausalGraphRecord {
  const graph = readGraph(path);
  // Refused here with the reason, as graph publish does, rather than as a consumer start failure.
  const verdict = new GraphStore().propose(graph);
  if (verdict.status === 'rejected') throw new InputError(`graph ${path} rejected: ${verdict.reason}`);
  return graph;
}
