/**
 * The causal graph, shared by the incident correlator and root-cause analysis: the record shape
 * and node ids (graph.ts), validation with repairs (validate.ts), the store that keeps the last
 * good graph (store.ts), the tail of the `causal-graphs` topic into a store (consumer-tail.ts),
 * and call graphs in the PetShop `graph.csv` form (call-graph.ts). The only import path for other
 * folders.
 */
export type { CausalGraphRecord, GraphEdge, GraphNode, GraphIndex, Provenance } from './graph.ts';
export { nodeId, splitNodeId, graphVersion, withVersion, indexGraph, topologicalOrder, subgraphByMetric } from './graph.ts';
export type { ValidateOptions, ValidationResult } from './validate.ts';
export { defaultValidateOptions, validateGraph, normalizeGraph, findCycle, breakCycles, checkShape, graphSchema } from './validate.ts';
export type { ProposeResult, GraphStoreOptions } from './store.ts';
export { GraphStore, parseGraphJson } from './store.ts';
export type { GraphTail, GraphTailOptions } from './consumer-tail.ts';
export { tailCausalGraphs } from './consumer-tail.ts';
export type { CallGraph } from './call-graph.ts';
export { parseCallGraph } from './call-graph.ts';
