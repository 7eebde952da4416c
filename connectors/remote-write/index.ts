/**
 * The remote-write connector's front door: the only path other folders import (the boundary check,
 * `npm run check:boundaries`, enforces it). `panoptes ingest` itself is `cli.ts`'s command.
 *
 * - `RemoteWriteReceiver` serves `POST /api/v1/write` (remote-write 1.0) into a `MetricSink`:
 *   `TopicSink` (the `metrics` topic through a transport's producer), `MemorySink` (decoded records
 *   kept in memory) or `NullSink`.
 * - `ingestSpec` declares the receiver's options; `receiverOptions` validates a programmatic set.
 */
export { RemoteWriteReceiver, WRITE_PATH, type ReceiverDeps } from './server.ts';
export { TopicSink, type TopicSinkOptions } from './topic-sink.ts';
export { MemorySink, NullSink, type MetricSink } from './sink.ts';
export { ingestSpec, receiverOptions, type IngestOptions, type ReceiverOptions } from './spec.ts';
