import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseListen } from '../../../pipelines/core/config.ts';
import { ConfigError } from '../../../pipelines/core/errors.ts';

test('defaults: embedded transport with the in-memory registry', () => {
  const c = loadConfig({ env: {} });
  assert.equal(c.transport, 'embedded');
  assert.equal(c.registryUrl, 'mock://embedded');
  assert.deepEqual(c.brokers, []);
});

test('brokers imply the kafka transport and the local registry, whatever the key order', () => {
  const c = loadConfig({ env: { PANOPTES_BROKERS: '127.0.0.1:9092, 127.0.0.1:9094' } });
  assert.equal(c.transport, 'kafka');
  assert.deepEqual(c.brokers, ['127.0.0.1:9092', '127.0.0.1:9094']);
  assert.equal(c.registryUrl, 'http://127.0.0.1:8081/apis/ccompat/v7');
  assert.deepEqual(loadConfig({ env: { PANOPTES_TRANSPORT: 'kafka' } }).brokers, ['127.0.0.1:9092']);
});

test('every bad key is reported with its path and what was expected', () => {
  try {
    loadConfig({ env: { PANOPTES_TRANSPORT: 'carrier-pigeon', PANOPTES_CONNECT_TIMEOUT_MS: 'soon', PANOPTES_BROKERS: 'nohost', PANOPTES_PRODUCER_MAX_IN_FLIGHT: '9' } });
    assert.fail('expected a ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.issues.map((i) => i.path).sort(), ['brokers (env PANOPTES_BROKERS)', 'connectTimeoutMs (env PANOPTES_CONNECT_TIMEOUT_MS)', 'producerMaxInFlight', 'transport (env PANOPTES_TRANSPORT)']);
    assert.match(err.message, /transport \(env PANOPTES_TRANSPORT\): expected one of embedded, kafka, got "carrier-pigeon"/);
    assert.match(err.message, /connectTimeoutMs \(env PANOPTES_CONNECT_TIMEOUT_MS\): expected an integer, got "soon"/);
    assert.match(err.message, /expected host:port, got "nohost"/);
  }
});

test('config files: YAML keys, unknown keys refused, env wins over the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'panoptes-config-'));
  const file = join(dir, 'panoptes.yaml');
  writeFileSync(file, 'brokers: [127.0.0.1:9092]\ntopicPrefix: staging.\nlogLevel: debug\n');
  const c = loadConfig({ env: { PANOPTES_LOG_LEVEL: 'warn' }, file });
  assert.equal(c.transport, 'kafka');
  assert.equal(c.topicPrefix, 'staging.');
  assert.equal(c.logLevel, 'warn');
  writeFileSync(file, 'brokerz: [x]\n');
  assert.throws(() => loadConfig({ env: {}, file }), /brokerz: unknown key/);
  writeFileSync(file, 'brokers: [unclosed\n');
  assert.throws(() => loadConfig({ env: {}, file }), /is not valid YAML/);
  assert.throws(() => loadConfig({ env: {}, file: join(dir, 'missing.yaml') }), /cannot read config file/);
});

test('parseListen', () => {
  assert.deepEqual(parseListen('127.0.0.1:9201'), { host: '127.0.0.1', port: 9201 });
  assert.deepEqual(parseListen('[::1]:80'), { host: '::1', port: 80 });
  assert.throws(() => parseListen('9201'), /expected host:port/);
});
