/**
 * Follows the compacted `causal-graphs` topic into a GraphStore: the whole topic at start (so a
 * stage starts with the graph in force), then a tail. Each record is validated by the store; a bad
 * one (undecodable, malformed, cyclic, …) is rejected with its reason and the last good graph stays.
 * Used by the incident correlator (component dependencies) and the rca consumer (ranking).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../core/logger.ts';
import type { Runtime } from '../core/runtime.ts';
import { topicName } from '../core/topics.ts';
import type { Consumer, InRecord } from '../core/transport/types.ts';
import type { CausalGraphRecord } from './graph.ts';
import type { GraphStore } from './store.ts';

export interface GraphTailOptions {
  store: GraphStore;
  /** Base of the tail's consumer group; a unique suffix is added (every instance sees every graph). */
  groupId: string;
  /** Only records with this key (graph name); default every graph name, the latest accepted wins. */
  graphName?: string;
  log: Logger;
  /** Called after a record changed the graph in force. */
  onChange?: (graph: CausalGraphRecord) => void;
  /** Called for each rejected record (tests, metrics). */
  onRejected?: (reason: string) => void;
}

export interface GraphTail {
  stop(): Promise<void>;
}

export async function tailCausalGraphs(rt: Runtime, o: GraphTailOptions): Promise<GraphTail> {
  const topic = topicName('causalGraphs', rt.config.topicPrefix);
  const apply = async (records: InRecord[]) => {
    for (const r of records) {
      const name = r.key?.toString() ?? '';
      if (o.graphName !== undefined && name !== o.graphName) continue;
      // A tombstone deletes a graph from the topic; the stage keeps the last good one in force.
      if (r.value === null) continue;
      let rec: CausalGraphRecord;
      try {
        rec = (await rt.serde.decode<CausalGraphRecord>(topic, r.value)).value;
      } catch (err) {
        const reason = `graph record does not decode: ${(err as Error).message}`;
        o.log.error('causal graph rejected; the last good graph stays', { graph: name, offset: r.offset, reason });
        o.onRejected?.(reason);
        continue;
      }
      const res = o.store.propose(rec);
      if (res.status === 'rejected') {
        o.log.error('causal graph rejected; the last good graph stays', { graph: name, offset: r.offset, reason: res.reason });
        o.onRejected?.(res.reason);
      } else if (!res.unchanged) {
        o.log.info('causal graph in force', { graph: name, version: res.version, repairs: res.repairs });
        o.onChange?.(o.store.current()!);
      }
    }
  };
  // Everything up to now first; the tail then skips what this read already applied, so an older
  // version not yet compacted away never replaces the newer one even for a moment.
  const seenUpTo = new Map<number, number>();
  const pending: InRecord[] = [];
  await rt.transport.readToEnd(topic, undefined, (recs) => {
    for (const r of recs) seenUpTo.set(r.partition, Math.max(seenUpTo.get(r.partition) ?? -1, Number(r.offset)));
    pending.push(...recs);
  });
  await apply(pending);
  const consumer: Consumer = await rt.transport.consumer({ groupId: `${o.groupId}.graphs.${randomUUID().slice(0, 8)}`, fromBeginning: true, autoCommit: true });
  await consumer.subscribe([topic]);
  await consumer.run({
    eachBatch: async (b) => {
      const upTo = seenUpTo.get(b.partition) ?? -1;
      await apply(b.records.filter((r) => Number(r.offset) > upTo));
    },
    onError: (err) => o.log.error('causal-graphs tail failed; the graph in force stays', { err }),
  });
  return { stop: () => consumer.stop() };
}
