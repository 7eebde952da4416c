/** The dependency graph of a file: `incidents correlate --graph`, `incidents run --graph`, `stages.incidents.graph`. */
import { readTextFile as readText } from '../core/csv.ts';
import { parseCallGraph, parseGraphJson, splitNodeId } from '../graph/index.ts';

/** Component pairs from a causal graph JSON or a PetShop graph.csv. */
export function readDependencyEdges(path: string): [string, string][] {
  const text = readText(path, 'graph file');
  return path.endsWith('.csv')
    ? parseCallGraph(text).calls
    : parseGraphJson(text).edges.map((e) => [splitNodeId(e.from).component, splitNodeId(e.to).component] as [string, string]);
}
