/**
 * Puts a causal graph on the compacted `causal-graphs` topic, keyed by its name, after the same
 * validation the consumers apply (GraphStore): a graph they would reject is never published.
 */
import { InputError } from '../core/errors.ts';
import type { Serde } from '../core/serde.ts';
import { topicName } from '../core/topics.ts';
import type { CausalGraphRecord } from '../graph/index.ts';
import { GraphStore } from '../graph/index.ts';
import type { Transport } from '../core/transport/types.ts';

/**
 * What publishing needs, passed in by the caller (a CLI hands its Runtime, which has these fields):
 * this file stays pure and never imports the runtime.
 */
export interface PublishDeps {
  config: { topicPrefix: string };
  transport: Pick<Transport, 'producer'>;
  serde: Pick<Serde, 'encode'>;
}

export interface Published {
  topic: string;
  name: string;
  version: string;
  nodes: number;
  edges: number;
  repairs: string[];
}

/** Validates (JSON text or a record) and publishes; throws InputError with the reason when rejected. */
export async function publishGraph(rt: PublishDeps, input: CausalGraphRecord | string, opts: { name?: string; source?: string } = {}): Promise<Published> {
  const store = new GraphStore();
  const res = store.propose(input);
  if (res.status === 'rejected') throw new InputError(`graph rejected, nothing published: ${res.reason}`, { details: { errors: res.errors } });
  const g: CausalGraphRecord = { ...store.current()!, ...(opts.name ? { name: opts.name } : {}), ...(opts.source ? { source: opts.source } : {}) };
  if (!g.createdAtMs) g.createdAtMs = Date.now();
  const topic = topicName('causalGraphs', rt.config.topicPrefix);
  const p = await rt.transport.producer();
  try {
    await p.send([{ topic, key: g.name, value: rt.serde.encode(topic, g) }]);
  } finally {
    await p.close();
  }
  return { topic, name: g.name, version: g.version, nodes: g.nodes.length, edges: g.edges.length, repairs: res.repairs };
}
