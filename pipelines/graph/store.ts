/**
 * Holds the graph in force. A proposal (from a synthesizer, a file or the compacted
 * `causal-graphs` topic) is parsed and validated in full before it replaces the current graph;
 * a bad one is rejected with its reasons and the last good graph stays (Prometheus's
 * `Manager.Update` keeps the old rule set the same way).
 */
import { Counter, type Registry } from 'prom-client';
import { InputError } from '../core/errors.ts';
import type { CausalGraphRecord } from './graph.ts';
import { checkShape, defaultValidateOptions, normalizeGraph, validateGraph, type ValidateOptions } from './validate.ts';

export type ProposeResult =
  | { status: 'accepted'; version: string; repairs: string[]; unchanged: boolean }
  | { status: 'rejected'; reason: string; errors: string[] };

/** Parses JSON text into a shape-checked graph; throws InputError naming every problem. */
export function parseGraphJson(text: string): CausalGraphRecord {
  let x: unknown;
  try {
    x = JSON.parse(text);
  } catch (err) {
    throw new InputError(`graph is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const errs = checkShape(x);
  if (errs.length > 0) throw new InputError(`graph is malformed: ${errs.join('; ')}`, { details: { errors: errs } });
  return normalizeGraph(x as Record<string, unknown>);
}

export interface GraphStoreOptions {
  registry?: Registry;
  validate?: Partial<ValidateOptions>;
}

export class GraphStore {
  private graph: CausalGraphRecord | null = null;
  private readonly validateOpts: ValidateOptions;
  private readonly proposals?: Counter<'result'>;

  constructor(opts: GraphStoreOptions = {}) {
    this.validateOpts = { ...defaultValidateOptions, ...opts.validate };
    if (opts.registry) {
      const name = 'panoptes_rca_graph_proposals_total';
      this.proposals =
        (opts.registry.getSingleMetric(name) as Counter<'result'> | undefined) ??
        new Counter({ name, help: 'Causal graphs proposed to the store, by result.', labelNames: ['result'], registers: [opts.registry] });
    }
  }

  current(): CausalGraphRecord | null {
    return this.graph;
  }

  /** Accepts a graph object or JSON text. Never throws for bad input: it is a rejection. */
  propose(input: CausalGraphRecord | string, knownNodes?: ReadonlySet<string>): ProposeResult {
    const res = this.check(input, knownNodes);
    this.proposals?.inc({ result: res.status });
    return res;
  }

  private check(input: CausalGraphRecord | string, knownNodes?: ReadonlySet<string>): ProposeResult {
    let g: CausalGraphRecord;
    try {
      if (typeof input === 'string') g = parseGraphJson(input);
      else {
        const errs = checkShape(input);
        if (errs.length > 0) return { status: 'rejected', reason: `graph is malformed: ${errs.join('; ')}`, errors: errs };
        g = normalizeGraph(input as unknown as Record<string, unknown>);
      }
    } catch (err) {
      const msg = (err as Error).message;
      return { status: 'rejected', reason: msg, errors: [msg] };
    }
    const v = validateGraph(g, knownNodes ? { ...this.validateOpts, knownNodes } : this.validateOpts);
    if (!v.ok || !v.graph) return { status: 'rejected', reason: v.errors.join('; '), errors: v.errors };
    const unchanged = this.graph?.version === v.graph.version;
    this.graph = v.graph;
    return { status: 'accepted', version: v.graph.version, repairs: v.repairs, unchanged };
  }
}
