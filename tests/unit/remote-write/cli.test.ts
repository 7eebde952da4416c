import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliIo, ParsedArgs } from '../../../pipelines/core/cli-types.ts';
import { ConfigError, UsageError } from '../../../pipelines/core/errors.ts';
import { commands, planIngest, receiverOptionsFromArgs } from '../../../connectors/remote-write/cli.ts';
import { AUTO_MAX_WORKERS, chooseKafkaClient, chooseWorkers } from '../../../connectors/remote-write/auto.ts';
import { loadConfig } from '../../../pipelines/core/config.ts';
import { body, get, post, PROM_HEADERS, series } from './helpers.ts';

const ingest = commands.find((c) => c.name === 'ingest')!;

function args(options: ParsedArgs['options']): ParsedArgs {
  return { options, positionals: [] };
}

/** Runs `ingest` until the returned stop() is called; resolves the printed URL. */
function start(options: ParsedArgs['options']) {
  const ctrl = new AbortController();
  const lines: string[] = [];
  let gotUrl: (u: string) => void;
  const url = new Promise<string>((r) => (gotUrl = r));
  const io: CliIo = {
    out: (l) => {
      lines.push(l);
      gotUrl(JSON.parse(l).url as string);
    },
    err: () => undefined,
    json: true,
    signal: ctrl.signal,
  };
  const done = ingest.run(args({ listen: '127.0.0.1:0', ...options }), io);
  done.catch((err: unknown) => gotUrl(Promise.reject(err) as never));
  return { url, stop: async () => (ctrl.abort(), done) };
}

test('ingest --null-sink serves the write path and exits 0 on the signal', async () => {
  const { url, stop } = start({ 'null-sink': true });
  const write = await url;
  assert.match(write, /^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/write$/);
  assert.equal((await post(write, body([series({ __name__: 'up' }, [[1, 1]])]))).status, 204);
  const metrics = await get(write.replace('/api/v1/write', '/metrics'));
  assert.match(metrics.body, /panoptes_remote_write_samples_acknowledged_total\{stage="remote-write"\} 1/);
  assert.equal(await stop(), 0);
});

test('ingest on the embedded transport writes through the topic sink', async () => {
  const saved = { ...process.env };
  delete process.env.PANOPTES_BROKERS;
  process.env.PANOPTES_TRANSPORT = 'embedded';
  process.env.PANOPTES_LOG_LEVEL = 'silent';
  try {
    const { url, stop } = start({});
    const write = await url;
    assert.equal((await post(write, body([series({ __name__: 'up', job: 'x' }, [[1, 1], [2, 2]])]))).status, 204);
    const metrics = await get(write.replace('/api/v1/write', '/metrics'));
    assert.match(metrics.body, /panoptes_remote_write_records_produced_total\{stage="remote-write"\} 1/);
    assert.equal(await stop(), 0);
  } finally {
    process.env = saved;
  }
});

test('auth files: bearer token trimmed, basic auth user:password; bad files are config errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rw-cli-'));
  try {
    writeFileSync(join(dir, 'token'), '  tok-123\n');
    writeFileSync(join(dir, 'basic'), 'prom:pa:ss\n');
    writeFileSync(join(dir, 'bad'), 'no-colon\n');
    const o = receiverOptionsFromArgs(args({ 'bearer-token-file': join(dir, 'token'), 'basic-auth-file': join(dir, 'basic') }));
    assert.equal(o.bearerToken, 'tok-123');
    assert.deepEqual(o.basicAuth, { username: 'prom', password: 'pa:ss' });
    assert.throws(() => receiverOptionsFromArgs(args({ 'basic-auth-file': join(dir, 'bad') })), (e: unknown) => e instanceof ConfigError && /username:password/.test(e.message));
    assert.throws(() => receiverOptionsFromArgs(args({ 'bearer-token-file': join(dir, 'missing') })), (e: unknown) => e instanceof ConfigError && /bearerTokenFile/.test(e.message));
    assert.throws(() => receiverOptionsFromArgs(args({ 'tls-cert': join(dir, 'token') })), (e: unknown) => e instanceof UsageError && /--tls-key: tlsCert and tlsKey go together/.test(e.message));

    const { url, stop } = start({ 'null-sink': true, 'bearer-token-file': join(dir, 'token') });
    const write = await url;
    assert.equal((await post(write, body([series({ __name__: 'up' }, [[1, 1]])]))).status, 401);
    assert.equal((await post(write, body([series({ __name__: 'up' }, [[1, 1]])]), { ...PROM_HEADERS, Authorization: 'Bearer tok-123' })).status, 204);
    await stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('invalid options are reported with the flag and what was expected, all at once, before anything starts', async () => {
  const ctrl = new AbortController();
  const io: CliIo = { out: () => undefined, err: () => undefined, json: false, signal: ctrl.signal };
  await assert.rejects(
    ingest.run(args({ 'null-sink': true, 'max-inflight': 0, 'deadline-ms': -5, 'max-labels-per-series': 1.5 }), io),
    (e: unknown) =>
      e instanceof UsageError &&
      /--max-inflight: expected an integer ≥ 1, got 0/.test(e.message) &&
      /--deadline-ms: expected an integer ≥ 1, got -5/.test(e.message) &&
      /--max-labels-per-series: expected an integer from 1 to 65536, got 1.5/.test(e.message),
  );
  await assert.rejects(ingest.run(args({ 'null-sink': true, 'max-body-bytes': 1000, 'max-inflight-bytes': 10 }), io), (e: unknown) => e instanceof UsageError && /--max-inflight-bytes: must be at least maxBodyBytes/.test(e.message));
});

test('--workers must be an integer from 1 to 32; a bad value fails before anything starts', async () => {
  for (const bad of [0, 33, 1.5]) {
    await assert.rejects(ingest.run(args({ workers: bad, 'null-sink': true }), { out: () => undefined, err: () => undefined, json: true, signal: new AbortController().signal }), (e: unknown) => e instanceof UsageError && /--workers: expected an integer from 1 to 32/.test(e.message));
  }
});

test('the Kafka client: librdkafka when its native module loads, kafkajs when not, an explicit choice always', async () => {
  const config = loadConfig({ env: { PANOPTES_BROKERS: '127.0.0.1:9' } });
  const loads = async () => ({ librdkafkaVersion: '2.99.0' });
  const fails = async () => {
    throw new Error('Cannot find module @confluentinc/kafka-javascript');
  };
  const auto = await chooseKafkaClient(config, {}, loads);
  assert.equal(auto.value, 'librdkafka');
  assert.match(auto.why, /^auto: the native module loaded \(librdkafka 2\.99\.0\)/);
  const without = await chooseKafkaClient(config, {}, fails);
  assert.equal(without.value, 'kafkajs');
  assert.match(without.why, /librdkafka is not available \(Cannot find module/);
  const env = { PANOPTES_BROKERS: '127.0.0.1:9', PANOPTES_KAFKA_CLIENT: 'kafkajs' };
  const explicit = await chooseKafkaClient(loadConfig({ env }), env, loads);
  assert.deepEqual([explicit.value, explicit.explicit, explicit.why], ['kafkajs', true, 'set by PANOPTES_KAFKA_CLIENT']);
  const dir = mkdtempSync(join(tmpdir(), 'rw-cli-'));
  try {
    writeFileSync(join(dir, 'c.yaml'), 'kafkaClient: kafkajs\nbrokers: [127.0.0.1:9]\n');
    const fenv = { PANOPTES_CONFIG: join(dir, 'c.yaml') };
    const fromFile = await chooseKafkaClient(loadConfig({ env: fenv }), fenv, loads);
    assert.deepEqual([fromFile.value, fromFile.explicit], ['kafkajs', true]);
    assert.match(fromFile.why, /kafkaClient in .*c\.yaml/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the process count: one per core up to the cap with Kafka, one without, --workers always', async () => {
  assert.equal(chooseWorkers(undefined, { kafka: true, client: 'librdkafka' }, 2).value, 2);
  assert.equal(chooseWorkers(undefined, { kafka: true, client: 'librdkafka' }, 64).value, AUTO_MAX_WORKERS);
  assert.equal(chooseWorkers(undefined, { kafka: true, client: 'kafkajs' }, 1).value, 1);
  assert.equal(chooseWorkers(undefined, { kafka: false, client: null }, 8).value, 1);
  assert.deepEqual(chooseWorkers(3, { kafka: false, client: null }, 8), { value: 3, why: 'set by --workers', explicit: true });
  // Plans: --null-sink and the embedded transport need no client and run in one process.
  const nullPlan = await planIngest(args({ 'null-sink': true }), { PANOPTES_BROKERS: '127.0.0.1:9' });
  assert.equal(nullPlan.client, null);
  assert.equal(nullPlan.workers.value, 1);
  const embedded = await planIngest(args({}), {});
  assert.equal(embedded.config.transport, 'embedded');
  assert.equal(embedded.workers.value, 1);
  const kafka = await planIngest(args({ workers: 2 }), { PANOPTES_BROKERS: '127.0.0.1:9', PANOPTES_KAFKA_CLIENT: 'kafkajs' });
  assert.deepEqual([kafka.config.kafkaClient, kafka.workers.value, kafka.client?.explicit], ['kafkajs', 2, true]);
});

