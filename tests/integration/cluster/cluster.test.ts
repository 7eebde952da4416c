/**
 * Broker failures on a three-broker cluster (issue 19), with the stages run as users run them
 * (`panoptes ingest`, `panoptes detect`, `panoptes incidents run` child processes):
 *
 *  1. `panoptes topics create` on three brokers: replication factor 3, min.insync.replicas 2.
 *  2. A fault-free reference run of the detect → incidents workload (workload.ts), then the same
 *     workload under a steady producer while a broker is killed (kill -9: the leader of the
 *     `metrics` partition Prometheus's counter series goes to), restarted, and then all three are
 *     restarted one after the other (graceful, each back in sync before the next). Meanwhile
 *     Prometheus remote-writes through `panoptes ingest`. Asserted: every sample of every request
 *     that got a 204 is on the metrics topic; the committed anomalies and incident records equal
 *     the reference's (no duplicate, no gap); the internal topics are replicated three times.
 *  3. Scale out and in under a steady producer, 1 → 3 → 1 detector instances: the anomalies equal
 *     the reference's; the rebalance times are printed.
 *  4. Operators' view of a consumer stage (core runStage) on the cluster: /readyz is 503 while it
 *     rebuilds state and 200 after, /healthz stays 200; consumer lag is exported for every
 *     assigned partition, also while the stage is stuck, and falls to 0 once it catches up.
 *
 * The cluster runs on 29092/29192/29292 (PANOPTES_TEST_CLUSTER_PORTS), next to the shared single
 * broker, and is started and stopped here through the infra scripts (cluster.ts). Fails, never
 * skips, when it cannot start.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { loadConfig } from '../../../pipelines/core/config.ts';
import type { MetricBatch } from '../../../pipelines/core/records.ts';
import { createRuntime, type Runtime } from '../../../pipelines/core/runtime.ts';
import { runStage } from '../../../pipelines/core/stage.ts';
import { groupName, topicName } from '../../../pipelines/core/topics.ts';
import { partitionForKey } from '../../../pipelines/core/transport/murmur2.ts';
import type { Producer } from '../../../pipelines/core/transport/types.ts';
import { ensureInfra, REGISTRY, uniquePrefix, waitFor } from '../../helpers/infra.ts';
import { CounterTarget, PrometheusProcess } from '../remote-write/prometheus.ts';
import { CLUSTER_BROKERS, TestCluster } from '../../helpers/cluster.ts';
import { RecordingProxy, seriesOf } from './recording-proxy.ts';
import { metricSum, sleep, startStage, Supervised, type StageProcess } from '../../helpers/stage-process.ts';
import {
  closingBatch, DETECT_GROUP, diffAnomalies, diffIncidents, drained, encode, generateSeries, INCIDENTS_ARGS, produceSteadily,
  readOutput, round, ROUNDS, sendUntilAcked, STEP_MS, T0, writeRules,
} from './workload.ts';

const cluster = new TestCluster();
const dir = mkdtempSync(join(tmpdir(), 'panoptes-cluster-it-'));
const rulesFile = writeRules(dir);
const series = generateSeries();
const stages: StageProcess[] = [];
const supervisors: Supervised[] = [];
const runtimes: Runtime[] = [];
const producers: Producer[] = [];
const kafka = new Kafka({ clientId: 'cluster-it', brokers: CLUSTER_BROKERS, logLevel: logLevel.NOTHING, retry: { retries: 8 } });
const admin = kafka.admin();
let reference: Awaited<ReturnType<typeof readOutput>> | null = null;

function stageEnv(prefix: string): Record<string, string> {
  return {
    PANOPTES_BROKERS: CLUSTER_BROKERS.join(','),
    PANOPTES_REGISTRY_URL: REGISTRY,
    PANOPTES_TOPIC_PREFIX: prefix,
    PANOPTES_LOG_LEVEL: 'warn',
    PANOPTES_CONNECT_TIMEOUT_MS: '20000',
  };
}

async function harness(prefix: string): Promise<{ rt: Runtime; producer: Producer }> {
  const rt = await createRuntime(loadConfig({ env: { ...stageEnv(prefix), PANOPTES_LOG_LEVEL: 'error' } }), { stage: 'cluster-test' });
  runtimes.push(rt);
  const producer = await rt.transport.producer();
  producers.push(producer);
  return { rt, producer };
}

async function stage(name: string, args: string[], prefix: string, ready: RegExp, env: Record<string, string> = {}): Promise<StageProcess> {
  const s = await startStage(name, args, { ...stageEnv(prefix), ...env });
  stages.push(s);
  await s.waitLine(ready, 120_000);
  return s;
}

const detector = (prefix: string, instance: string) =>
  stage(`detect ${instance}`, ['detect', '--base', 'robust-z', '--group', DETECT_GROUP, '--instance', instance], prefix, /detector running/, { PANOPTES_LOG_LEVEL: 'info' });
const correlator = (prefix: string) => stage('incidents', [...INCIDENTS_ARGS, '--instance', 'inc-1'], prefix, /incident correlator running/);

async function publishRules(prefix: string): Promise<void> {
  const s = await startStage('rules publish', ['rules', 'publish', rulesFile], stageEnv(prefix), false);
  stages.push(s);
  assert.equal(await s.exited, 0, `rules publish failed:\n${s.tail()}`);
}

/**
 * Starts a prefix's detect → incidents pipeline: rules, one detector, the correlator (unless
 * `detectorOnly`), both supervised (restarted if they exit on their own).
 */
async function pipeline(name: string, instance: string, detectorOnly = false) {
  const prefix = uniquePrefix(name);
  const h = await harness(prefix);
  await publishRules(prefix);
  const [det, inc] = await Promise.all([Supervised.start(() => detector(prefix, instance)), detectorOnly ? Promise.resolve(null) : Supervised.start(() => correlator(prefix))]);
  supervisors.push(det, ...(inc ? [inc] : []));
  return { prefix, ...h, det, inc };
}

const restarts = (...s: (Supervised | null)[]) => s.flatMap((x) => (x ? x.exits : []));

/** Waits until the stages committed every input record, sends the closing sample, waits again, reads the output. */
async function finish(rt: Runtime, producer: Producer, incidents = true) {
  await waitFor(() => drained(rt, incidents), 'the stages to commit every input record', 180_000, 500);
  await sendUntilAcked(producer, encode(rt, [closingBatch(series)]));
  await waitFor(() => drained(rt, incidents), 'the stages to commit the closing sample', 60_000, 500);
  return readOutput(rt);
}

/** What the detectors logged about their partitions (assignments, rebuilds, revocations). */
function assignmentLog(ds: StageProcess[]): string {
  return ds.flatMap((d) => d.lines.filter((l) => /partitions (assigned|revoked)/.test(l)).map((l) => `${d.name}: ${l.slice(0, 400)}`)).join('\n');
}

function describeDiff(da: ReturnType<typeof diffAnomalies>, got: Awaited<ReturnType<typeof readOutput>>): string {
  const show = (id: string) => {
    const a = [...got.anomalies, ...reference!.anomalies].find((x) => x.a.id === id)!.a;
    return `${id} ${a.labels.component} (metrics partition ${partitionForKey(Buffer.from(a.fingerprint), 6)}) sample ${(a.timestampMs - T0) / STEP_MS} ${a.ruleId ?? a.detector}`;
  };
  return [...da.missing.map((x) => `missing ${show(x)}`), ...da.extra.map((x) => `extra ${show(x)}`), ...da.duplicated.map((x) => `duplicated ${show(x)}`), ...da.changed.map((x) => `changed ${show(x)}`)].join('; ');
}

before(async () => {
  ensureInfra(); // the shared registry (and single broker) of infra/up.sh
  await cluster.up();
  await admin.connect();
});

after(async () => {
  await Promise.all(supervisors.map((s) => s.stop()));
  await Promise.all(stages.map((s) => s.stop(10_000)));
  for (const p of producers) await p.close().catch(() => undefined);
  for (const rt of runtimes) await rt.close().catch(() => undefined);
  await admin.disconnect().catch(() => undefined);
  await cluster.down();
  rmSync(dir, { recursive: true, force: true });
  process.stderr.write(`cluster timeline:\n  ${cluster.events.join('\n  ')}\n`);
});

test('topics create on three brokers: replication factor 3, min.insync.replicas 2', { timeout: 120_000 }, async () => {
  const prefix = uniquePrefix('cluster-topics');
  const s = await startStage('topics create', ['topics', 'create', '--json'], stageEnv(prefix), false);
  stages.push(s);
  assert.equal(await s.exited, 0, s.tail());
  const rows = s.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { topic: string; replicationFactor: number; minInsyncReplicas: number });
  assert.equal(rows.length, 10);
  for (const r of rows) {
    assert.equal(r.replicationFactor, 3, `${r.topic} replicas`);
    assert.equal(r.minInsyncReplicas, 2, `${r.topic} min.insync.replicas`);
  }
});

test('broker kill -9, restart and rolling restart under load: no acknowledged sample lost, anomalies and incidents equal a fault-free run', { timeout: 600_000 }, async (t) => {
  // Everything starts at once (process start-up is most of a stage's cost on a busy machine).
  const rwPrefix = uniquePrefix('cluster-rw');
  const [ref, fail, rw, ingest] = await Promise.all([
    pipeline('cluster-ref', 'ref-1'),
    pipeline('cluster-fail', 'fail-1'),
    harness(rwPrefix),
    stage('ingest', ['ingest', '--listen', '127.0.0.1:0', '--json'], rwPrefix, /^\{"url".*\}$/),
  ]);

  // 1. The fault-free reference: all input at once.
  const t0 = Date.now();
  const all = [];
  for (let r = 0; r < ROUNDS; r++) all.push(...encode(ref.rt, round(series, r)));
  await sendUntilAcked(ref.producer, all);
  reference = await finish(ref.rt, ref.producer);
  t.diagnostic(`reference: ${all.length} records in, ${reference.anomalies.length} anomalies, ${reference.incidents.length} incident records, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  assert.ok(reference.anomalies.length >= 100, `the workload makes anomalies (${reference.anomalies.length})`);
  assert.ok(reference.incidents.some((x) => x.i.status === 'RESOLVED'), 'the closing sample resolves incidents');
  assert.deepEqual(restarts(ref.det, ref.inc), [], 'no stage exits without failures');
  await Promise.all([ref.det.stop(), ref.inc!.stop()]);

  // 2. Prometheus → recording proxy → panoptes ingest → metrics.
  const ingestUrl = (JSON.parse(ingest.lines.find((l) => /^\{"url"/.test(l))!) as { url: string }).url;
  const proxy = new RecordingProxy(() => ingestUrl);
  const target = new CounterTarget();
  const prom = new PrometheusProcess();
  await target.start();
  await prom.start({ writeUrl: await proxy.start(), targetPort: target.port });
  const rwMetrics = topicName('metrics', rwPrefix);
  try {
    // 3. The same workload under a steady producer, through the failures.
    const producing = produceSteadily(fail.rt, fail.producer, series, 900);
    let counterPartition = -1;
    await waitFor(async () => {
      for (const r of await rw.rt.transport.readToEnd(rwMetrics)) {
        if ((await rw.rt.serde.decode<MetricBatch>(rwMetrics, r.value)).value.labels.__name__ === 'rw_test_scrapes_total') counterPartition = r.partition;
      }
      return counterPartition >= 0;
    }, 'Prometheus samples on the metrics topic', 60_000, 500);
    const md = await admin.fetchTopicMetadata({ topics: [rwMetrics] });
    const leader = md.topics[0]!.partitions.find((p) => p.partitionId === counterPartition)!.leader;
    t.diagnostic(`kill -9 of broker ${leader}, leader of ${rwMetrics} partition ${counterPartition} (Prometheus's counter series)`);
    await cluster.kill(leader);
    await sleep(8000); // past the session timeout (6 s): the controller fences it and moves its leaders
    await cluster.start(leader);
    for (const n of [1, 2, 3]) {
      await cluster.stopGracefully(n);
      await cluster.start(n);
    }
    const prod = await producing;
    t.diagnostic(`steady producer: ${prod.failures} failed sends retried, at most ${prod.lateMs} ms behind its schedule`);

    // Remote-write: Prometheus has written past the failures; every acknowledged sample is stored.
    const afterFailures = Date.now();
    await waitFor(() => proxy.ackedSamples().some((s) => s.timestampMs > afterFailures + 2000), 'Prometheus writes acknowledged after the failures', 60_000, 500);
    await prom.stop();
    const acked = proxy.ackedSamples();
    const stored = new Map<string, number>();
    for (const r of await rw.rt.transport.readToEnd(rwMetrics)) {
      const b = (await rw.rt.serde.decode<MetricBatch>(rwMetrics, r.value)).value;
      const s = seriesOf(b.labels);
      for (const x of b.samples) stored.set(`${s}@${x.timestampMs}`, (stored.get(`${s}@${x.timestampMs}`) ?? 0) + 1);
    }
    const missing = acked.filter((s) => !stored.has(`${s.series}@${s.timestampMs}`));
    const dup = [...stored.values()].filter((n) => n > 1).length;
    t.diagnostic(
      `remote-write: ${acked.length} samples acknowledged with 204 in ${proxy.acked.length} requests; replies by status ${JSON.stringify(Object.fromEntries(proxy.statuses))}; ` +
        `${stored.size} distinct samples on the topic, ${dup} stored more than once (at-least-once after a 503); acknowledged but missing: ${missing.length}`,
    );
    assert.ok(acked.length > 500, `Prometheus wrote through the failures (${acked.length} samples acknowledged)`);
    assert.deepEqual(missing.slice(0, 5), [], 'no acknowledged sample is missing from Kafka');
    assert.ok(ingest.running, `panoptes ingest survived the failures:\n${ingest.tail()}`);

    // Detector and correlator: exactly the reference's output.
    const out = await finish(fail.rt, fail.producer);
    t.diagnostic(`stage restarts by their supervisor during the failures: ${fail.det.restarts + fail.inc!.restarts}${restarts(fail.det, fail.inc).map((x) => `\n  ${x}`).join('')}`);
    const da = diffAnomalies(out.anomalies, reference.anomalies);
    const di = diffIncidents(out.incidents, reference.incidents);
    t.diagnostic(
      `detect → incidents: ${out.anomalies.length} anomalies (reference ${reference.anomalies.length}), ${out.incidents.length} incident records (reference ${reference.incidents.length}); ` +
        `anomalies missing ${da.missing.length}, extra ${da.extra.length}, duplicated ${da.duplicated.length}, changed ${da.changed.length}; incidents missing ${di.missing.length}, extra ${di.extra.length}, differing ${di.differing.length}`,
    );
    if (da.missing.length + da.extra.length + da.duplicated.length + da.changed.length > 0) t.diagnostic(`${describeDiff(da, out)}\n${assignmentLog([fail.det.current])}`);
    assert.deepEqual(da, { missing: [], extra: [], duplicated: [], changed: [] });
    assert.deepEqual(di, { missing: [], extra: [], differing: [] });
    assert.equal(out.incidents.length, reference.incidents.length);
    t.diagnostic(`detector consumer lag at the end (sum over partitions): ${metricSum(await fail.det.current.metrics(), 'panoptes_transport_consumer_lag_records', { topic: topicName('metrics', fail.prefix) })}`);

    // The internal topics the stages used are replicated three times.
    const internal = await admin.fetchTopicMetadata({ topics: ['__consumer_offsets', '__transaction_state'] });
    for (const tp of internal.topics) assert.equal(tp.partitions[0]!.replicas.length, 3, `${tp.name} replicas`);
  } finally {
    await prom.stop();
    await target.stop();
    await proxy.stop();
    await Promise.all([fail.det.stop(), fail.inc!.stop(), ingest.stop()]);
  }
});

test('scale out and in under load: 1 → 3 → 1 detectors, anomalies equal the one-instance reference', { timeout: 300_000 }, async (t) => {
  assert.ok(reference, 'the reference run passed');
  const s = await pipeline('cluster-scale', 'scale-1', true);
  const group = groupName(DETECT_GROUP, s.prefix);
  const metrics = topicName('metrics', s.prefix);
  // The group's state every 100 ms, with when it changed.
  const states: { at: number; state: string; members: number }[] = [];
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const g = (await admin.describeGroups([group]).catch(() => null))?.groups[0];
      if (g) {
        const last = states[states.length - 1];
        if (!last || last.state !== g.state || last.members !== g.members.length) states.push({ at: Date.now(), state: g.state, members: g.members.length });
      }
      await sleep(100);
    }
  })();
  const stableWith = (n: number, since: number) => states.find((x) => x.at >= since && x.state === 'Stable' && x.members === n);
  const firstChange = (since: number) => states.find((x) => x.at >= since && x.state !== 'Stable');
  /** Resolves when every partition's committed offset moved past `before` (or the partition is drained). */
  const allCommitting = async (before: Map<number, string>) => {
    const c = await s.rt.transport.committed(group, metrics);
    const ends = await s.rt.transport.offsets(metrics);
    return ends.every((e) => BigInt(c.get(e.partition) ?? '0') > BigInt(before.get(e.partition) ?? '0') || BigInt(c.get(e.partition) ?? '0') >= BigInt(e.high));
  };
  const producing = produceSteadily(s.rt, s.producer, series, 600);
  const extra: StageProcess[] = [];
  try {
    await sleep(5000);
    const tOut = Date.now();
    extra.push(...(await Promise.all([detector(s.prefix, 'scale-2'), detector(s.prefix, 'scale-3')])));
    const tReady = Date.now();
    await waitFor(() => stableWith(3, tOut), 'a stable group of three', 90_000, 100);
    const before = await s.rt.transport.committed(group, metrics);
    await waitFor(() => allCommitting(before), 'every partition committing after the scale-out', 90_000, 100);
    const outResumed = Date.now();
    await sleep(5000);
    const tIn = Date.now();
    await Promise.all(extra.map((d) => d.stop()));
    await waitFor(() => stableWith(1, tIn), 'a stable group of one', 90_000, 100);
    const before2 = await s.rt.transport.committed(group, metrics);
    await waitFor(() => allCommitting(before2), 'every partition committing after the scale-in', 90_000, 100);
    const inResumed = Date.now();
    await producing;
    const out = await finish(s.rt, s.producer, false);
    const da = diffAnomalies(out.anomalies, reference!.anomalies);
    const sec = (a: number | undefined, b: number) => (a === undefined ? '?' : ((a - b) / 1000).toFixed(1));
    const outChange = firstChange(tOut)?.at;
    const inChange = firstChange(tIn)?.at;
    t.diagnostic(
      `scale-out 1 → 3: the two new processes ready ${sec(tReady, tOut)} s after spawning; rebalance (group leaves Stable → Stable with 3 members) ${sec(stableWith(3, tOut)?.at, outChange ?? tOut)} s; ` +
        `every partition committing again ${sec(outResumed, outChange ?? tOut)} s after the rebalance began (windows rebuilt from the topic). ` +
        `scale-in 3 → 1 (SIGTERM): rebalance ${sec(stableWith(1, tIn)?.at, inChange ?? tIn)} s; every partition committing again ${sec(inResumed, inChange ?? tIn)} s after it began`,
    );
    t.diagnostic(`anomalies ${out.anomalies.length} (reference ${reference!.anomalies.length}): missing ${da.missing.length}, extra ${da.extra.length}, duplicated ${da.duplicated.length}, changed ${da.changed.length}`);
    if (da.missing.length + da.extra.length + da.duplicated.length + da.changed.length > 0) t.diagnostic(`${describeDiff(da, out)}\n${assignmentLog([s.det.current, ...extra])}`);
    assert.deepEqual(da, { missing: [], extra: [], duplicated: [], changed: [] });
    assert.deepEqual(restarts(s.det), [], 'the detector never exited');
  } finally {
    watching = false;
    await watcher;
    await producing.catch(() => undefined);
    await Promise.all([s.det.stop(), ...extra.map((d) => d.stop())]);
  }
});

test('a consumer stage on the cluster: /readyz false while it rebuilds, lag for every partition, also when stuck', { timeout: 180_000 }, async (t) => {
  const prefix = uniquePrefix('cluster-health');
  const rt = await createRuntime(loadConfig({ env: { ...stageEnv(prefix), PANOPTES_LOG_LEVEL: 'error', PANOPTES_METRICS_LISTEN: '127.0.0.1:0' } }), { stage: 'health-check' });
  runtimes.push(rt);
  const metrics = topicName('metrics', prefix);
  const group = groupName('health-check', prefix);
  const p = await rt.transport.producer();
  producers.push(p);
  await p.send(Array.from({ length: 600 }, (_, i) => ({ topic: metrics, partition: i % 6, key: `k${i}`, value: Buffer.from(String(i)) })));
  let openRebuild!: () => void;
  const rebuildHeld = new Promise<void>((r) => (openRebuild = r));
  let openProcessing!: () => void;
  const processingHeld = new Promise<void>((r) => (openProcessing = r));
  let processed = 0;
  const st = await runStage<Buffer | null>(rt, {
    name: 'health-check',
    topic: metrics,
    groupId: group,
    instanceId: 'h1',
    delivery: 'exactly-once',
    lagRefreshMs: 300,
    decode: async (r) => r.value,
    onAssign: () => rebuildHeld,
    process: async () => {
      await processingHeld;
      processed++;
      return [];
    },
  });
  const server = (await rt.serveMetrics(() => st.health()))!;
  const status = async (path: string) => (await fetch(`${server.url}${path}`)).status;
  const lags = async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    return text.split('\n').filter((l) => l.startsWith('panoptes_transport_consumer_lag_records{') && l.includes(`topic="${metrics}"`)).map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)));
  };
  try {
    await waitFor(async () => (await status('/readyz')) === 503, '/readyz 503 while the state is rebuilt', 60_000, 200);
    assert.equal(await status('/healthz'), 200, 'a rebuilding stage is alive');
    assert.equal(st.ready(), false);
    openRebuild();
    await waitFor(async () => (await status('/readyz')) === 200, '/readyz 200 once rebuilt', 60_000, 200);
    // Batches are held: the stage is stuck, yet every partition reports its lag.
    const stuck = await waitFor(async () => {
      const l = await lags();
      return l.length === 6 && l.reduce((a, b) => a + b, 0) === 600 ? l : null;
    }, 'lag 100 on each of the 6 partitions while stuck', 60_000, 200);
    openProcessing();
    const caughtUp = await waitFor(async () => {
      const l = await lags();
      return l.length === 6 && l.every((x) => x === 0) ? l : null;
    }, 'lag 0 everywhere once caught up', 90_000, 200);
    t.diagnostic(`stuck: lag per partition ${JSON.stringify(stuck)}; caught up: ${JSON.stringify(caughtUp)} after ${processed} records`);
    assert.equal(processed, 600);
  } finally {
    openRebuild();
    openProcessing();
    await st.stop();
  }
});
