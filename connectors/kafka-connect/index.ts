/**
 * The Kafka Connect connector's front door: JDBC sink configs for anomalies and incidents, the
 * Connect REST client, and the `panoptes connect` commands. Other folders import only this file.
 */
export { commands } from './cli.ts';
export { ConnectClient } from './client.ts';
export { defaultConnectorName, JSON_FIELDS, SINK_DEFAULTS, SINK_KINDS, sinkConnectorConfig, type SinkKind } from './config.ts';
export { connectSpec, type ConnectOptions } from './spec.ts';
