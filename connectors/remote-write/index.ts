/**
 * The remote-write connector's front door: the only path other folders import (the boundary check,
 * `npm run check:boundaries`, enforces it). `panoptes ingest` itself is `cli.ts`'s command.
 *
 * - `RemoteWriteReceiver` serves `POST /api/v1/write` (remote-write 1.0) into a `MetricSink`:
 *   `TopicSink` (the `metrics` topic through a transport's producer), `MemorySink` (decoded records
 *   kept in memory) or `NullSink`.
 * - `ingestSpec` declares the receiver's options; `receiverOptions` validates a programmatic set,
 *   `receiverOptionsOf` turns the spec's values into them (reading the secret files).
 * - `startIngest` runs one receiver into the `metrics` topic on a runtime someone else owns
 *   (`panoptes run`, which shares one runtime among the stages of a pipeline file).
 */
import type { Runtime } from '../../pipelines/core/runtime.ts';
import { topicName } from '../../pipelines/core/topics.ts';
import { RemoteWriteReceiver, WRITE_PATH } from './server.ts';
import type { ReceiverOptions } from './spec.ts';
import { TopicSink } from './topic-sink.ts';

export { RemoteWriteReceiver, WRITE_PATH, type ReceiverDeps } from './server.ts';
export { TopicSink, type TopicSinkOptions } from './topic-sink.ts';
export { MemorySink, NullSink, type MetricSink } from './sink.ts';
export { ingestSpec, receiverOptions, receiverOptionsOf, type IngestOptions, type ReceiverOptions } from './spec.ts';

export interface RunningIngest {
  /** The write URL (`http://HOST:PORT/api/v1/write`). */
  url: string;
  /** Finishes the requests in flight, then closes the producer (the runtime stays open). */
  close(): Promise<void>;
}

/**
 * One remote-write receiver writing to the `metrics` topic of `rt` (what `panoptes ingest` runs in
 * one process), serving `rt`'s metrics registry on its own `/metrics`.
 */
export async function startIngest(rt: Runtime, o: ReceiverOptions): Promise<RunningIngest> {
  const producer = await rt.transport.producer({ deliveryTimeoutMs: o.deadlineMs, groupCommit: true });
  const sink = new TopicSink({ producer, serde: rt.serde, topic: topicName('metrics', rt.config.topicPrefix), registry: rt.metrics });
  const receiver = new RemoteWriteReceiver(o, { sink, registry: rt.metrics, logger: rt.log.child({ stage: 'remote-write' }) });
  let url: string;
  try {
    url = `${await receiver.start()}${WRITE_PATH}`;
  } catch (err) {
    await sink.close().catch(() => undefined);
    throw err;
  }
  return {
    url,
    async close() {
      try {
        await receiver.close();
      } finally {
        await sink.close();
      }
    },
  };
}
