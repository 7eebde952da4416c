/**
 * `npm run bench -- cluster`: the online detector on a three-broker cluster, one instance next
 * to two, measured from outside: `panoptes detect` processes (as users run them) drain the same
 * backlog on the `metrics` topic (replication factor 3, min.insync.replicas 2), each run with a
 * fresh consumer group; the bench only watches the group's committed offsets (every 100 ms) and
 * the processes' CPU time (/proc). Runs alternate 1, 2, 1, 2 instances so that a machine whose
 * load drifts affects both sides alike; the ratio is of the means.
 *
 * Figures per run: drain time (spawn → every record committed: process start, group join,
 * rebalances and window rebuilds included), steady rate (records committed per second once the
 * group is stable with all its members), detector CPU per sample (all instances). The detectors
 * run the default base detector and the two rules of the detect-e2e bench.
 *
 * For the README's capacity notes, also: bytes per record on the topic, the backlog's produce rate
 * (one kafkajs producer, acks=all, replication 3), and the heap the detector's state takes per
 * series, measured in this process (the consumer's OnlineDetector fed the same records, heap
 * after a forced GC, before and after; not a speed figure).
 *
 * The cluster is the test cluster of tests/helpers/cluster.ts (127.0.0.1:29092/29192/29292,
 * PANOPTES_TEST_CLUSTER_PORTS), started and stopped here through the infra scripts. Sizes:
 * PANOPTES_BENCH_SERIES (default 10,000 series) × PANOPTES_BENCH_ROUNDS (30 records of 10 samples).
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Kafka, logLevel } from 'kafkajs';
import { loadConfig } from '../../pipelines/core/config.ts';
import type { MetricBatch } from '../../pipelines/core/records.ts';
import { createRuntime } from '../../pipelines/core/runtime.ts';
import { groupName, topicName } from '../../pipelines/core/topics.ts';
import { createBaseDetector, DEFAULT_BASE_DETECTOR, DetectMetrics, OnlineDetector, RuleSet, defineRule, toRuleRecord } from '../../pipelines/detect/index.ts';
import { Registry } from 'prom-client';
import { CLUSTER_BROKERS, TestCluster } from '../helpers/cluster.ts';
import { REGISTRY, uniquePrefix } from '../helpers/infra.ts';
import { sleep, startStage, type StageProcess } from '../helpers/stage-process.ts';

const SERIES = Number(process.env.PANOPTES_BENCH_SERIES ?? 10_000);
const ROUNDS = Number(process.env.PANOPTES_BENCH_ROUNDS ?? 30);
const PER_RECORD = 10;
const ORDER = [1, 2, 1, 2];

function record(s: number, round: number): MetricBatch {
  return {
    fingerprint: `s${s.toString(16).padStart(8, '0')}`,
    labels: { __name__: 'bench_latency_seconds', instance: `host-${s % 500}`, service: `svc-${s % 40}`, series: String(s) },
    samples: Array.from({ length: PER_RECORD }, (_, k) => {
      const i = round * PER_RECORD + k;
      return { timestampMs: 1_764_288_000_000 + i * 15000, value: 50 + 10 * Math.sin(i / 7 + s) + ((s * 7919 + i * 104729) % 17) / 4, stale: false };
    }),
    source: 'bench',
    receivedAtMs: Date.now(),
    exemplarsDropped: 0,
    histogramsDropped: 0,
  };
}

/** utime + stime of a process, in seconds (Linux /proc). */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

interface RunResult {
  instances: number;
  drainS: number;
  firstCommitS: number;
  stableS: number;
  steadyRecordsPerS: number;
  cpuUsPerSample: number;
}

/** Heap of the detector's state per series: the consumer's OnlineDetector fed SERIES × ROUNDS records, heap after forced GCs. */
function heapPerSeries(rules: ReturnType<typeof defineRule>[]): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const set = new RuleSet();
  for (const r of rules) set.apply(r.spec.id, toRuleRecord(r));
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  const online = new OnlineDetector(set, { baseFactory: () => createBaseDetector(DEFAULT_BASE_DETECTOR, {}), metrics: new DetectMetrics(new Registry()) });
  for (let round = 0; round < ROUNDS; round++) for (let s = 0; s < SERIES; s++) online.process(s % 6, record(s, round));
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  if (online.seriesCount() !== SERIES) throw new Error('series count mismatch');
  return (after - before) / SERIES;
}

export async function run(): Promise<void> {
  const cluster = new TestCluster({ sessionTimeoutMs: 9000, heap: '512m' });
  await cluster.up();
  const prefix = uniquePrefix('bench-cluster');
  const env = { PANOPTES_BROKERS: CLUSTER_BROKERS.join(','), PANOPTES_REGISTRY_URL: REGISTRY, PANOPTES_TOPIC_PREFIX: prefix, PANOPTES_LOG_LEVEL: 'warn', PANOPTES_CONNECT_TIMEOUT_MS: '20000' };
  const rt = await createRuntime({ ...loadConfig({ env: { ...env, PANOPTES_LOG_LEVEL: 'error' } }), producerMaxInFlight: 5 }, { stage: 'bench' });
  const procs: StageProcess[] = [];
  const admin = new Kafka({ clientId: 'bench-cluster', brokers: CLUSTER_BROKERS, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const metrics = topicName('metrics', prefix);
    const rulesTopic = topicName('rules', prefix);
    const p = await rt.transport.producer();
    const rules = [defineRule('value > mean(1h) + 6 * std(1h) and value > quantile(0.99, 1h) for 2', { id: 'surge' }), defineRule('value > 1000000', { id: 'probe', severity: 'critical' })];
    await p.send(rules.map((r) => ({ topic: rulesTopic, key: r.spec.id, value: rt.serde.encode(rulesTopic, toRuleRecord(r)) })));
    const [info] = await rt.transport.describeTopics([metrics]);
    let produced = 0;
    let bytes = 0;
    const t0 = performance.now();
    for (let round = 0; round < ROUNDS; round++) {
      for (let s0 = 0; s0 < SERIES; s0 += 1000) {
        const batch = [];
        for (let s = s0; s < Math.min(SERIES, s0 + 1000); s++) {
          const value = rt.serde.encode(metrics, record(s, round));
          bytes += value.length;
          batch.push({ topic: metrics, key: `s${s.toString(16).padStart(8, '0')}`, value });
        }
        await p.send(batch);
        produced += batch.length;
      }
    }
    await p.close();
    const prodS = (performance.now() - t0) / 1000;
    const samples = produced * PER_RECORD;
    console.log(`detector: panoptes detect, base ${DEFAULT_BASE_DETECTOR} (the default), rules ${rules.map((r) => r.spec.id).join(', ')}`);
    console.log(`cluster: 3 brokers (${CLUSTER_BROKERS.join(', ')}); metrics topic: ${info!.partitions} partitions, replication factor ${info!.replicationFactor}, min.insync.replicas ${info!.minInsyncReplicas}`);
    console.log(`backlog: ${produced} records (${samples} samples, ${SERIES} series, ${(bytes / produced).toFixed(0)} B per record) produced in ${prodS.toFixed(1)} s (${(produced / prodS).toFixed(0)} records/s, acks=all)`);

    const results: RunResult[] = [];
    for (const [i, n] of ORDER.entries()) {
      const group = `bench-${i}`;
      const real = groupName(group, prefix);
      const tSpawn = Date.now();
      const mine = await Promise.all(Array.from({ length: n }, (_, k) => startStage(`detect ${i}.${k}`, ['detect', '--group', group, '--instance', `b${i}-${k}`], env)));
      procs.push(...mine);
      await Promise.all(mine.map((d) => d.waitLine(/detector running/, 120_000)));
      let firstCommit = 0;
      let stable = 0;
      let atStable = 0;
      let done = 0;
      while (!done) {
        const c = await rt.transport.committed(real, metrics);
        const sum = [...c.values()].reduce((a, o) => a + Number(o), 0);
        const now = Date.now();
        if (!firstCommit && sum > 0) firstCommit = now;
        if (!stable) {
          const g = (await admin.describeGroups([real])).groups[0];
          if (g && g.state === 'Stable' && g.members.length === n) {
            stable = now;
            atStable = sum;
          }
        }
        if (sum >= produced) done = now;
        else if (now - tSpawn > 600_000) throw new Error(`run ${i} (${n} instances) did not drain in 10 minutes (${sum}/${produced})`);
        else await sleep(100);
      }
      const cpu = mine.reduce((a, d) => a + cpuSeconds(d.proc.pid), 0);
      await Promise.all(mine.map((d) => d.stop()));
      const steady = stable && done > stable ? (produced - atStable) / ((done - stable) / 1000) : NaN;
      const r: RunResult = { instances: n, drainS: (done - tSpawn) / 1000, firstCommitS: (firstCommit - tSpawn) / 1000, stableS: (stable - tSpawn) / 1000, steadyRecordsPerS: steady, cpuUsPerSample: (cpu / samples) * 1e6 };
      results.push(r);
      console.log(
        `run ${i + 1}: ${n} instance${n > 1 ? 's' : ''}: drained in ${r.drainS.toFixed(1)} s (first commit at ${r.firstCommitS.toFixed(1)} s, group stable with ${n} at ${r.stableS.toFixed(1)} s); ` +
          `steady ${Number.isFinite(steady) ? `${steady.toFixed(0)} records/s = ${(steady * PER_RECORD).toFixed(0)} samples/s` : 'n/a (stable only at the end)'}; ` +
          `detector CPU ${r.cpuUsPerSample.toFixed(2)} µs/sample (all instances' user+system time over the backlog's samples)`,
      );
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const of = (n: number, f: (r: RunResult) => number) => mean(results.filter((r) => r.instances === n).map(f).filter((x) => Number.isFinite(x)));
    const drain1 = of(1, (r) => r.drainS);
    const drain2 = of(2, (r) => r.drainS);
    const steady1 = of(1, (r) => r.steadyRecordsPerS);
    const steady2 = of(2, (r) => r.steadyRecordsPerS);
    console.log('');
    console.log('| instances | drain (s, mean) | steady samples/s (mean) | detector CPU µs/sample |');
    console.log('|---:|---:|---:|---:|');
    console.log(`| 1 | ${drain1.toFixed(1)} | ${(steady1 * PER_RECORD).toFixed(0)} | ${of(1, (r) => r.cpuUsPerSample).toFixed(2)} |`);
    console.log(`| 2 | ${drain2.toFixed(1)} | ${(steady2 * PER_RECORD).toFixed(0)} | ${of(2, (r) => r.cpuUsPerSample).toFixed(2)} |`);
    console.log(`ratio 2 : 1 — steady throughput ${(steady2 / steady1).toFixed(2)}, drain time ${(drain2 / drain1).toFixed(2)}`);
    const heap = heapPerSeries(rules);
    console.log(`detector state: ${(heap / 1024).toFixed(1)} KiB heap per series (base ${DEFAULT_BASE_DETECTOR} + the two rules, ${ROUNDS * PER_RECORD} samples per series, in-process after GC)`);
    console.log('JSON:' + JSON.stringify({ bench: 'cluster', base: DEFAULT_BASE_DETECTOR, series: SERIES, records: produced, samples, bytesPerRecord: bytes / produced, produceRecordsPerS: produced / prodS, runs: results, ratioSteady: steady2 / steady1, ratioDrain: drain2 / drain1, heapBytesPerSeries: heap }));
  } finally {
    await Promise.all(procs.map((d) => d.stop()));
    await admin.disconnect().catch(() => undefined);
    await rt.close().catch(() => undefined);
    await cluster.down();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
