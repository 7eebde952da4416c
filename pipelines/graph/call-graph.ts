/**
 * A call graph in the PetShop layout's `graph.csv` form: an adjacency matrix whose header row
 * names the columns and whose rows say "row calls column" (any non-zero cell). Read with the
 * project's CSV reader; pure.
 */
import { parseCsv } from '../core/csv.ts';
import { InputError } from '../core/errors.ts';

export interface CallGraph {
  nodes: string[];
  /** caller → callee */
  calls: [string, string][];
}

export function parseCallGraph(text: string, file = 'graph.csv'): CallGraph {
  const { rows } = parseCsv(text, { file, header: false });
  const table = rows.filter((r) => r.length > 1);
  if (table.length < 2) throw new InputError(`${file}: expected a header row and one row per node`);
  const cols = table[0]!.slice(1);
  const calls: [string, string][] = [];
  const nodes = new Set(cols.filter(Boolean));
  for (const r of table.slice(1)) {
    const from = r[0]!;
    if (!from) continue;
    nodes.add(from);
    r.slice(1).forEach((v, j) => {
      if (v.trim() !== '' && Number(v) !== 0 && cols[j]) calls.push([from, cols[j]!]);
    });
  }
  return { nodes: [...nodes].sort(), calls };
}
