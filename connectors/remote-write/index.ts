/** The remote-write connector's front door: what other folders may import. */
export { RemoteWriteReceiver, WRITE_PATH } from './server.ts';
export { TopicSink } from './topic-sink.ts';
