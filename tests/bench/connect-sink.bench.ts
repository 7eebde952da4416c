/**
 * Kafka Connect JDBC sink throughput: N anomalies (Confluent-framed Avro, as Panoptes writes them)
 * already on the topic, then the sink is deployed; measures the time until every row is in
 * PostgreSQL and the sink has committed the end of the topic. Starts the worker through
 * infra/connect/up.sh. Prints figures only; the table is dropped afterwards.
 * `npm run bench -- connect-sink` (PANOPTES_BENCH_CONNECT_N to change N, default 20000).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import type { Anomaly } from '../../pipelines/core/records.ts';
import { createRuntime } from '../../pipelines/core/runtime.ts';
import { topicName } from '../../pipelines/core/topics.ts';
import { ConnectClient } from '../../connectors/kafka-connect/client.ts';
import { defaultConnectorName, sinkConnectorConfig, SINK_DEFAULTS } from '../../connectors/kafka-connect/config.ts';
import { kafkaConfig, REGISTRY, ROOT, uniquePrefix, waitFor } from '../helpers/infra.ts';

export async function run(): Promise<void> {
  const n = Number(process.env.PANOPTES_BENCH_CONNECT_N ?? 20000);
  execFileSync('bash', [join(ROOT, 'infra', 'connect', 'up.sh')], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 15 * 60_000 });
  const prefix = uniquePrefix('bench-connect');
  const table = `b_connect_${prefix.split('.')[2]!.replace(/[^a-z0-9]/g, '')}`;
  const name = defaultConnectorName('anomalies', prefix);
  const rt = await createRuntime(kafkaConfig(prefix), { stage: 'bench' });
  const db = new pg.Client({ connectionString: process.env.PANOPTES_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test' });
  await db.connect();
  const client = new ConnectClient(SINK_DEFAULTS.connectUrl);
  const topic = topicName('anomalies', prefix);
  try {
    const p = await rt.transport.producer();
    for (let start = 0; start < n; start += 2000) {
      const batch: Anomaly[] = [];
      for (let i = start; i < Math.min(n, start + 2000); i++) {
        batch.push({
          id: `b-${i}`, fingerprint: `fp-${i % 97}`, labels: { __name__: 'latency', service: `svc-${i % 13}`, pod: `pod-${i % 101}` },
          timestampMs: 1764288000000 + i * 1000, value: i / 3, ruleId: 'latency-spike', ruleVersion: '3f1a9c0b2d4e', ruleKind: 'FN', severity: 'warning',
          detector: 'robust-z', baseScore: 5.5, explanation: `value ${i / 3} is far above its hourly mean`, clauses: [{ text: 'value > mean(1h) + 4 * std(1h)', value: 1 }], detectedAtMs: 1764288000100 + i * 1000,
        });
      }
      await p.send(batch.map((a) => ({ topic, key: a.fingerprint, value: rt.serde.encode(topic, a) })));
    }
    await p.close();
    const t0 = performance.now();
    await client.put(name, sinkConnectorConfig('anomalies', { topicPrefix: prefix, table, jdbcUrl: SINK_DEFAULTS.jdbcUrl, jdbcUser: 'postgres', jdbcPassword: '', registryUrl: REGISTRY }));
    let firstRowMs = 0;
    await waitFor(async () => {
      let rows = 0;
      try {
        rows = Number((await db.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
      } catch {
        /* not created yet */
      }
      if (rows > 0 && firstRowMs === 0) firstRowMs = performance.now() - t0;
      return rows === n;
    }, `${n} rows`, 600_000, 200);
    const allMs = performance.now() - t0;
    const ends = await rt.transport.offsets(topic);
    await waitFor(async () => {
      const c = await rt.transport.committed(`connect-${name}`, topic);
      return ends.every((e) => e.high === '0' || c.get(e.partition) === e.high);
    }, 'offsets committed', 60_000, 200);
    const steady = n / ((allMs - firstRowMs) / 1000);
    console.log(`connect-sink: ${n} anomalies, deploy→first row ${(firstRowMs / 1000).toFixed(1)} s, deploy→all rows ${(allMs / 1000).toFixed(1)} s, ${Math.round(n / (allMs / 1000))} rows/s overall, ~${Math.round(steady)} rows/s after the first row (1 task, upsert, Debezium 3.6.0 into local PostgreSQL 15)`);
  } finally {
    await client.remove(name).catch(() => undefined);
    await db.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await db.end();
    await rt.close();
  }
}
