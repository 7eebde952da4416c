/**
 * `panoptes ingest --workers 2` on librdkafka into the shared Kafka (Avro through the shared
 * registry), as a child process:
 *   - both workers serve the one port and every 204'd request's records are in the topic, each
 *     exactly once (requests are sent one after another, so none is in flight when a worker dies);
 *   - GET /metrics, whichever worker answers, reports the sum over the workers;
 *   - a worker killed with SIGKILL is replaced and the receiver keeps answering 204;
 *   - SIGTERM to the primary stops every worker and exits 0;
 *   - with Kafka unreachable the workers cannot start: exit 1 with the reason, none left running.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSerde } from '../../../pipelines/core/serde.ts';
import { topicName } from '../../../pipelines/core/topics.ts';
import { KafkaTransport } from '../../../pipelines/core/transport/kafka.ts';
import type { MetricBatch } from '../../../pipelines/core/records.ts';
import { BROKER, childEnv, ensureInfra, REGISTRY, ROOT, uniquePrefix, waitFor } from '../../helpers/infra.ts';
import { body, get, post, series } from '../../unit/remote-write/helpers.ts';

const SERIES = 50;

function workersOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function acknowledged(metrics: string): number {
  const m = /^panoptes_remote_write_samples_acknowledged_total\{[^}]*\} (\d+)/m.exec(metrics);
  return m ? Number(m[1]) : 0;
}

/** Request r: SERIES series of one sample each, at timestamp r. */
function request(r: number): Buffer {
  return body(Array.from({ length: SERIES }, (_, i) => series({ __name__: 'rw_workers_test', i: String(i) }, [[r, r * 1000 + i]])));
}

test('ingest --workers 2 on librdkafka: every acknowledged record in Kafka once, summed metrics, a dead worker replaced, SIGTERM stops all', async () => {
  ensureInfra();
  const prefix = uniquePrefix('rwworkers');
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'panoptes.js'), 'ingest', '--json', '--listen', '127.0.0.1:0', '--workers', '2'], {
    env: childEnv({
      PANOPTES_TRANSPORT: 'kafka',
      PANOPTES_KAFKA_CLIENT: 'librdkafka',
      PANOPTES_BROKERS: BROKER,
      PANOPTES_REGISTRY_URL: REGISTRY,
      PANOPTES_TOPIC_PREFIX: prefix,
      PANOPTES_LOG_LEVEL: 'error',
    }),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) resolve((JSON.parse(line) as { url: string; workers: number }).url);
      });
      void exited.then((code) => reject(new Error(`ingest exited with ${code} before listening`)));
    });
    const workers = await waitFor(() => (workersOf(child.pid!).length === 2 ? workersOf(child.pid!) : null), 'two workers', 10_000);

    // Fresh connections (the helper sends each on its own) are handed to the workers in turn.
    let r = 0;
    for (; r < 10; r++) assert.equal((await post(url, request(r))).status, 204, `request ${r}`);
    const metricsUrl = url.replace('/api/v1/write', '/metrics');
    for (let i = 0; i < 4; i++) assert.equal(acknowledged((await get(metricsUrl)).body), 10 * SERIES, 'any worker reports the sum');

    process.kill(workers[0]!, 'SIGKILL');
    await waitFor(() => {
      const now = workersOf(child.pid!);
      return now.length === 2 && !now.includes(workers[0]!) ? now : null;
    }, 'a replacement worker', 30_000);
    // Until the replacement listens, the survivor takes the connections.
    for (; r < 20; r++) assert.equal((await post(url, request(r))).status, 204, `request ${r}`);

    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    for (const pid of workers.slice(1)) assert.throws(() => process.kill(pid, 0), 'workers exit with the primary');

    const topic = topicName('metrics', prefix);
    const reader = new KafkaTransport({ brokers: [BROKER], clientId: 'rw-workers-it', connectTimeoutMs: 15000, requestTimeoutMs: 30000 });
    await reader.connect();
    const records = await reader.readToEnd(topic);
    await reader.close();
    const serde = await createSerde({ url: REGISTRY, prefix, topics: ['metrics'] });
    const seen = new Map<string, number>();
    for (const rec of records) {
      const { value } = await serde.decode<MetricBatch>(topic, rec.value);
      for (const s of value.samples) {
        const k = `${value.labels.i}@${s.timestampMs}`;
        seen.set(k, (seen.get(k) ?? 0) + 1);
        assert.equal(s.value, s.timestampMs * 1000 + Number(value.labels.i));
      }
    }
    assert.equal(records.length, 20 * SERIES);
    assert.equal(seen.size, 20 * SERIES, 'every (series, timestamp) of the 20 requests');
    assert.ok([...seen.values()].every((n) => n === 1), 'none stored twice');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('ingest --workers 2 with Kafka unreachable: exits 1 with the reason, no worker left behind', async () => {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'panoptes.js'), 'ingest', '--listen', '127.0.0.1:0', '--workers', '2'], {
    env: childEnv({ PANOPTES_TRANSPORT: 'kafka', PANOPTES_BROKERS: '127.0.0.1:1', PANOPTES_CONNECT_TIMEOUT_MS: '2000', PANOPTES_LOG_LEVEL: 'silent' }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const forked = new Set<number>();
  const watch = setInterval(() => workersOf(child.pid!).forEach((p) => forked.add(p)), 50);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearInterval(watch);
  assert.equal(code, 1);
  assert.match(stderr, /ingest worker could not start: .*cannot reach Kafka at 127\.0\.0\.1:1/);
  for (const pid of forked) assert.throws(() => process.kill(pid, 0), `worker ${pid} is gone`);
});
