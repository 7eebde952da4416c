import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../../../pipelines/core/config.ts';
import { ConfigError } from '../../../../pipelines/core/errors.ts';
import { silentLogger } from '../../../../pipelines/core/logger.ts';
import { createTransport } from '../../../../pipelines/core/runtime.ts';
import { KafkaTransport } from '../../../../pipelines/core/transport/kafka.ts';
import { RdKafkaTransport } from '../../../../pipelines/core/transport/rdkafka.ts';

const nativeLoaded = () => readFileSync('/proc/self/maps', 'utf8').includes('confluent-kafka-javascript.node');

test('kafkaClient defaults to kafkajs; librdkafka selects the librdkafka transport', () => {
  const def = loadConfig({ env: { PANOPTES_TRANSPORT: 'kafka' } });
  assert.equal(def.kafkaClient, 'kafkajs');
  assert.ok(createTransport(def, silentLogger) instanceof KafkaTransport);
  const rd = loadConfig({ env: { PANOPTES_TRANSPORT: 'kafka', PANOPTES_KAFKA_CLIENT: 'librdkafka' } });
  assert.equal(rd.kafkaClient, 'librdkafka');
  const t = createTransport(rd, silentLogger);
  assert.ok(t instanceof RdKafkaTransport);
  assert.equal(t.kind, 'kafka');
});

test('embedded ignores kafkaClient', () => {
  const c = loadConfig({ env: { PANOPTES_KAFKA_CLIENT: 'librdkafka' } });
  assert.equal(createTransport(c, silentLogger).kind, 'embedded');
});

test('an unknown client is reported with its key and the allowed values', () => {
  assert.throws(
    () => loadConfig({ env: { PANOPTES_KAFKA_CLIENT: 'franz' } }),
    (err: unknown) => err instanceof ConfigError && err.issues.some((i) => i.path === 'kafkaClient (env PANOPTES_KAFKA_CLIENT)' && /kafkajs/.test(i.message) && /librdkafka/.test(i.message)),
  );
});

test('the native module is not loaded by importing or constructing the transport, only by connect()', () => {
  // This file imports runtime.ts and rdkafka.ts and constructs transports above.
  new RdKafkaTransport({ brokers: ['127.0.0.1:9'], clientId: 't', connectTimeoutMs: 100, requestTimeoutMs: 100 });
  assert.equal(nativeLoaded(), false);
});
