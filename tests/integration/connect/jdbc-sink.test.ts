/**
 * Kafka Connect into PostgreSQL, end to end on the real servers: Panoptes' serde writes anomalies
 * and incidents (Confluent-framed Avro) to Kafka; a real Connect worker (infra/connect/up.sh) runs
 * Debezium's JDBC sink with Apicurio's converter and upserts them into PostgreSQL. The worker is
 * stopped and started again half-way, while more records (and copies of earlier ones) arrive; the
 * tables still end with exactly one row per id, with the values that were produced.
 * Fails (never skips) when the worker cannot start.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import type { Anomaly, Incident } from '../../../pipelines/core/records.ts';
import { createRuntime, type Runtime } from '../../../pipelines/core/runtime.ts';
import { topicName } from '../../../pipelines/core/topics.ts';
import { ConnectClient } from '../../../connectors/kafka-connect/client.ts';
import { defaultConnectorName, sinkConnectorConfig, SINK_DEFAULTS, type SinkKind } from '../../../connectors/kafka-connect/config.ts';
import { childEnv, ensureInfra, kafkaConfig, REGISTRY, ROOT, uniquePrefix, waitFor } from '../../helpers/infra.ts';

const CONNECT_URL = process.env.PANOPTES_TEST_CONNECT ?? SINK_DEFAULTS.connectUrl;
const PG_URL = process.env.PANOPTES_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const N = 60;

const prefix = uniquePrefix('connect');
const runId = prefix.split('.')[2]!.replace(/[^a-z0-9]/g, '');
const tables: Record<SinkKind, string> = { anomalies: `t_connect_${runId}_anomalies`, incidents: `t_connect_${runId}_incidents` };
const names: Record<SinkKind, string> = { anomalies: defaultConnectorName('anomalies', prefix), incidents: defaultConnectorName('incidents', prefix) };

let rt: Runtime;
let db: pg.Client;
const client = new ConnectClient(CONNECT_URL, { retryForMs: 90_000 });

function infra(script: string): void {
  execFileSync('bash', [join(ROOT, 'infra', 'connect', script)], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 15 * 60_000 });
}

before(async () => {
  ensureInfra();
  infra('up.sh'); // throws, and so fails the test, when the worker cannot start
  rt = await createRuntime(kafkaConfig(prefix), { stage: 'test' });
  db = new pg.Client({ connectionString: PG_URL });
  await db.connect();
});

after(async () => {
  for (const kind of ['anomalies', 'incidents'] as const) await client.remove(names[kind]).catch(() => undefined);
  if (db) {
    for (const t of Object.values(tables)) await db.query(`DROP TABLE IF EXISTS ${t}`).catch(() => undefined);
    await db.end();
  }
  await rt?.close();
});

function anomaly(i: number): Anomaly {
  return {
    id: `${runId}-a-${i}`,
    fingerprint: `fp-${i % 7}`,
    labels: { __name__: 'latency', service: i % 2 ? 'checkout' : 'payments', pod: `pod-${i}`, quote: `it's "${i}"` },
    timestampMs: 1764288000000 + i * 15000,
    value: i + 0.25,
    ruleId: i % 3 === 0 ? null : 'latency-spike',
    ruleVersion: i % 3 === 0 ? null : '3f1a9c0b2d4e',
    ruleKind: i % 3 === 0 ? null : 'FN',
    severity: (['info', 'warning', 'critical'] as const)[i % 3]!,
    detector: 'robust-z',
    baseScore: 4 + i / 10,
    explanation: `value ${i + 0.25} is far above its hourly mean`,
    clauses: i % 3 === 0 ? [] : [{ text: 'value > mean(1h) + 4 * std(1h)', value: 1 }, { text: 'rate(5m)', value: i / 4 }],
    detectedAtMs: 1764288000100 + i * 15000,
  };
}

function incident(i: number, status: Incident['status']): Incident {
  return {
    id: `${runId}-inc-${i}`,
    status,
    openedAtMs: 1764288000000 + i,
    updatedAtMs: 1764288000000 + i + (status === 'OPEN' ? 0 : 60000),
    resolvedAtMs: status === 'RESOLVED' ? 1764288000000 + i + 120000 : null,
    severity: 'critical',
    components: ['checkout', `svc-${i}`],
    anomalyIds: [`${runId}-a-${i}`, `${runId}-a-${i + 1}`],
    anomalyCount: status === 'OPEN' ? 2 : 3,
    summary: `incident ${i} ${status.toLowerCase()}`,
  };
}

async function produce(kind: SinkKind, records: (Anomaly | Incident)[]): Promise<void> {
  const topic = topicName(kind, prefix);
  const p = await rt.transport.producer();
  try {
    await p.send(records.map((r) => ({ topic, key: kind === 'anomalies' ? (r as Anomaly).fingerprint : r.id, value: rt.serde.encode(topic, r) })));
  } finally {
    await p.close();
  }
}

async function count(table: string): Promise<number> {
  try {
    const r = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
    return Number(r.rows[0]!.n);
  } catch (err) {
    if ((err as { code?: string }).code === '42P01') return 0; // the sink creates the table with its first record
    throw err;
  }
}

async function deploy(kind: SinkKind): Promise<void> {
  const cfg = sinkConnectorConfig(kind, { topicPrefix: prefix, table: tables[kind], jdbcUrl: SINK_DEFAULTS.jdbcUrl, jdbcUser: 'postgres', jdbcPassword: '', registryUrl: REGISTRY });
  await client.put(names[kind], cfg);
}

/** Waits for `want` rows; a failed task ends the wait with its reason instead of a timeout. */
async function waitRows(kind: SinkKind, want: number, what: string): Promise<void> {
  await waitFor(async () => {
    const st = await client.status(names[kind]);
    const failed = st && [st.connector, ...st.tasks].find((t) => t.state === 'FAILED');
    if (failed) throw new Error(`${names[kind]} failed: ${failed.trace?.split('\n').filter((l, i) => i === 0 || l.startsWith('Caused by')).join(' | ').slice(0, 1500)}`);
    return (await count(tables[kind])) === want;
  }, what, 60_000, 250);
}

/** Waits until the sink's consumer group (`connect-<name>`) has committed the end of every partition. */
async function waitConsumed(kind: SinkKind): Promise<void> {
  const topic = topicName(kind, prefix);
  await waitFor(async () => {
    const st = await client.status(names[kind]);
    if (st && [st.connector, ...st.tasks].some((t) => t.state === 'FAILED')) throw new Error(`${names[kind]} failed while consuming`);
    const [ends, committed] = await Promise.all([rt.transport.offsets(topic), rt.transport.committed(`connect-${names[kind]}`, topic)]);
    return ends.every((e) => e.high === '0' || committed.get(e.partition) === e.high);
  }, `${names[kind]} committed the end of ${topic}`, 60_000, 500);
}

test('anomalies and incidents land in PostgreSQL exactly once per id, across a worker restart', async () => {
  const all = Array.from({ length: N }, (_, i) => anomaly(i));
  const half = N / 2;

  await deploy('anomalies');
  await deploy('incidents');
  await produce('anomalies', all.slice(0, half));
  await produce('incidents', [incident(1, 'OPEN'), incident(2, 'OPEN')]);
  await waitRows('anomalies', half, `${half} anomaly rows before the restart`);
  await waitRows('incidents', 2, '2 incident rows before the restart');

  // Restart the worker. While it is down: the second half, copies of the first ten (a producer
  // retry, a replay), a tombstone and later states of the incidents. Upsert keyed by id must absorb them all.
  infra('down.sh');
  await produce('anomalies', [...all.slice(half), ...all.slice(0, 10)]);
  // A tombstone (null value) is skipped by the sink (delete.enabled=false), not a failure.
  const p = await rt.transport.producer();
  await p.send([{ topic: topicName('anomalies', prefix), key: 'fp-0', value: null }]);
  await p.close();
  await produce('incidents', [incident(1, 'UPDATED'), incident(1, 'RESOLVED'), incident(3, 'OPEN')]);
  infra('up.sh');

  await waitRows('anomalies', N, `${N} anomaly rows after the restart`);
  await waitRows('incidents', 3, '3 incident rows after the restart');
  // The count can reach N before the copies are consumed: wait until each sink has committed
  // offsets at the end of its topic (it commits only what it wrote), then the count must still be
  // exactly N, not N plus redelivered copies, and no task may have failed on them.
  await waitConsumed('anomalies');
  await waitConsumed('incidents');
  assert.equal(await count(tables.anomalies), N);
  assert.equal(await count(tables.incidents), 3);

  const rows = (await db.query(`SELECT * FROM ${tables.anomalies} ORDER BY id`)).rows as Record<string, unknown>[];
  const byId = new Map(rows.map((r) => [r.id as string, r]));
  assert.equal(byId.size, N, 'one row per anomaly id');
  for (const a of all) {
    const r = byId.get(a.id);
    assert.ok(r, `row for ${a.id}`);
    assert.deepEqual(
      {
        fingerprint: r.fingerprint, labels: r.labels, timestampMs: Number(r.timestamp_ms), value: r.value, ruleId: r.rule_id, ruleVersion: r.rule_version,
        ruleKind: r.rule_kind, severity: r.severity, detector: r.detector, baseScore: r.base_score, explanation: r.explanation, clauses: r.clauses, detectedAtMs: Number(r.detected_at_ms),
      },
      {
        fingerprint: a.fingerprint, labels: a.labels, timestampMs: a.timestampMs, value: a.value, ruleId: a.ruleId, ruleVersion: a.ruleVersion,
        ruleKind: a.ruleKind, severity: a.severity, detector: a.detector, baseScore: a.baseScore, explanation: a.explanation, clauses: a.clauses, detectedAtMs: a.detectedAtMs,
      },
      `values of ${a.id}`,
    );
  }
  // Nested fields are json columns: queryable without parsing in the client.
  const checkout = await db.query(`SELECT count(*) AS n FROM ${tables.anomalies} WHERE labels->>'service' = 'checkout'`);
  assert.equal(Number(checkout.rows[0].n), all.filter((a) => a.labels.service === 'checkout').length);

  const incs = (await db.query(`SELECT * FROM ${tables.incidents} ORDER BY id`)).rows as Record<string, unknown>[];
  assert.deepEqual(incs.map((r) => [r.id, r.status]), [[`${runId}-inc-1`, 'RESOLVED'], [`${runId}-inc-2`, 'OPEN'], [`${runId}-inc-3`, 'OPEN']]);
  const resolved = incident(1, 'RESOLVED');
  const r1 = incs[0]!;
  assert.deepEqual(
    { resolvedAtMs: Number(r1.resolved_at_ms), updatedAtMs: Number(r1.updated_at_ms), components: r1.components, anomalyIds: r1.anomaly_ids, anomalyCount: r1.anomaly_count, summary: r1.summary },
    { resolvedAtMs: resolved.resolvedAtMs, updatedAtMs: resolved.updatedAtMs, components: resolved.components, anomalyIds: resolved.anomalyIds, anomalyCount: resolved.anomalyCount, summary: resolved.summary },
  );
  assert.equal(incs[1]!.resolved_at_ms, null);
});

test('panoptes connect deploy, status and delete drive the same sinks from the command line', async () => {
  const prefix2 = uniquePrefix('connectcli');
  const table = `t_connect_${prefix2.split('.')[2]!.replace(/[^a-z0-9]/g, '')}_incidents`;
  const rt2 = await createRuntime(kafkaConfig(prefix2), { stage: 'test' }); // creates the topics, registers the schemas
  const env = childEnv({ PANOPTES_TOPIC_PREFIX: prefix2, PANOPTES_REGISTRY_URL: REGISTRY, PANOPTES_LOG_LEVEL: 'error' });
  const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'panoptes.js'), ...args], { env, encoding: 'utf8', timeout: 120_000 });
  try {
    const deployed = cli('connect', 'deploy', 'incidents', '--incidents-table', table, '--connect-url', CONNECT_URL, '--json');
    assert.equal(deployed.status, 0, deployed.stderr);
    const out = JSON.parse(deployed.stdout.trim()) as { name: string; table: string; topic: string; status: { tasks: { state: string }[] } };
    assert.deepEqual([out.name, out.table, out.topic], [defaultConnectorName('incidents', prefix2), table, topicName('incidents', prefix2)]);
    assert.deepEqual(out.status.tasks.map((t) => t.state), ['RUNNING']);

    const topic = topicName('incidents', prefix2);
    const p = await rt2.transport.producer();
    await p.send([{ topic, key: 'cli-1', value: rt2.serde.encode(topic, { ...incident(9, 'OPEN'), id: 'cli-1' }) }]);
    await p.close();
    await waitFor(async () => (await count(table)) === 1, 'the CLI-deployed sink wrote its row', 60_000, 250);

    const status = cli('connect', 'status', defaultConnectorName('incidents', prefix2), '--connect-url', CONNECT_URL);
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /RUNNING, tasks 0=RUNNING/);
    const del = cli('connect', 'delete', 'incidents', '--connect-url', CONNECT_URL);
    assert.equal(del.status, 0, del.stderr);
    assert.match(del.stdout, /deleted/);
    const gone = cli('connect', 'status', defaultConnectorName('incidents', prefix2), '--connect-url', CONNECT_URL);
    assert.equal(gone.status, 1);
    assert.match(gone.stdout, /not deployed/);
  } finally {
    await client.remove(defaultConnectorName('incidents', prefix2)).catch(() => undefined);
    await db.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await rt2.close();
  }
});
