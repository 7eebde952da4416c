/** The Kafka Connect sink configs: derived registry URL, validation, and the example files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../../pipelines/core/errors.ts';
import { defaultConnectorName, registryApiUrl, sinkConnectorConfig, SINK_DEFAULTS, type SinkKind } from '../../../connectors/kafka-connect/config.ts';
import { summarizeTrace } from '../../../connectors/kafka-connect/client.ts';
import { ROOT } from '../../helpers/infra.ts';

const base = { topicPrefix: '', jdbcUrl: SINK_DEFAULTS.jdbcUrl, jdbcUser: 'postgres', jdbcPassword: '', registryUrl: SINK_DEFAULTS.registryUrl };

test('the converter gets the registry\'s v2 API from the Confluent API URL Panoptes uses', () => {
  assert.equal(registryApiUrl('http://127.0.0.1:8081/apis/ccompat/v7'), 'http://127.0.0.1:8081/apis/registry/v2');
  assert.equal(registryApiUrl('http://reg:8080/apis/ccompat/v7/'), 'http://reg:8080/apis/registry/v2');
  assert.equal(registryApiUrl('http://reg:8080/apis/registry/v2'), 'http://reg:8080/apis/registry/v2');
  assert.equal(registryApiUrl('http://reg:8080'), 'http://reg:8080/apis/registry/v2');
  assert.throws(() => registryApiUrl('http://reg:8080/some/other/path'), ConfigError);
});

test('sink configs read the prefixed topic, upsert by id and render nested fields as JSON', () => {
  const a = sinkConnectorConfig('anomalies', { ...base, topicPrefix: 'prod.', table: 'ops_anomalies' });
  assert.equal(a.topics, 'prod.anomalies');
  assert.equal(a['collection.name.format'], 'ops_anomalies');
  assert.equal(a['insert.mode'], 'upsert');
  assert.equal(a['primary.key.mode'], 'record_value');
  assert.equal(a['primary.key.fields'], 'id');
  assert.equal(a['value.converter.apicurio.registry.as-confluent'], 'true');
  assert.equal(a['value.converter.apicurio.registry.use-id'], 'contentId');
  assert.equal(a.transforms, 'json,snake');
  assert.equal(a['transforms.json.fields'], 'labels,clauses');
  const i = sinkConnectorConfig('incidents', base);
  assert.equal(i.topics, 'incidents');
  assert.equal(i['collection.name.format'], 'panoptes_incidents');
  assert.equal(i['transforms.json.fields'], 'components,anomalyIds');
  assert.equal(defaultConnectorName('anomalies', 'test.connect.x1.'), 'panoptes-test-connect-x1-anomalies-jdbc');
  assert.equal(defaultConnectorName('incidents', ''), 'panoptes-incidents-jdbc');
});

test('bad table names, task counts and JDBC URLs are config errors', () => {
  assert.throws(() => sinkConnectorConfig('anomalies', { ...base, table: 'Bad-Name' }), ConfigError);
  assert.throws(() => sinkConnectorConfig('anomalies', { ...base, table: 'x; drop table y' }), ConfigError);
  assert.throws(() => sinkConnectorConfig('anomalies', { ...base, tasksMax: 0 }), ConfigError);
  assert.throws(() => sinkConnectorConfig('anomalies', { ...base, jdbcUrl: 'postgres://x' }), ConfigError);
  assert.throws(() => sinkConnectorConfig('rules' as SinkKind, base), ConfigError);
});

test('the example files in connectors/kafka-connect are what `panoptes connect deploy --print` gives', () => {
  for (const kind of ['anomalies', 'incidents'] as const) {
    const file = JSON.parse(readFileSync(join(ROOT, 'connectors', 'kafka-connect', `${kind}-sink.json`), 'utf8')) as { name: string; config: Record<string, string> };
    assert.equal(file.name, defaultConnectorName(kind, ''));
    assert.deepEqual(file.config, sinkConnectorConfig(kind, base), `${kind}-sink.json is stale: regenerate with panoptes connect deploy ${kind} --print`);
  }
});

test('a failed task\'s trace is cut to its first line and causes', () => {
  const trace = 'org.x.ConnectException: Exiting\n\tat a.b(C.java:1)\nCaused by: java.lang.IllegalArgumentException: bad\n\tat d.e(F.java:2)';
  assert.equal(summarizeTrace(trace), 'org.x.ConnectException: Exiting | Caused by: java.lang.IllegalArgumentException: bad');
  assert.equal(summarizeTrace(undefined), 'no trace');
});
