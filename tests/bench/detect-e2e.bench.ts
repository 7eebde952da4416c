/**
 * The detector end to end through real Kafka: samples/s from `metrics` to committed `anomalies`
 * with 10,000 series, next to the raw consume throughput of the same records in the same run;
 * memory per series; and latency from producing a sample to its anomaly being readable
 * (read_committed), p50/p99.
 */
import { createRuntime } from '../../pipelines/core/runtime.ts';
import { topicName } from '../../pipelines/core/topics.ts';
import type { Anomaly, MetricBatch } from '../../pipelines/core/records.ts';
import { Registry } from 'prom-client';
import { createBaseDetector, DEFAULT_BASE_DETECTOR, DetectMetrics, OnlineDetector, RuleSet, defineRule, startDetector, toRuleRecord } from '../../pipelines/detect/index.ts';
import { kafkaConfig, uniquePrefix } from '../helpers/infra.ts';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const SERIES = Number(process.env.PANOPTES_BENCH_SERIES ?? 10_000);
/** The base detector measured: the default (what `panoptes detect` runs) unless PANOPTES_BENCH_BASE names another. */
const BASE = process.env.PANOPTES_BENCH_BASE ?? DEFAULT_BASE_DETECTOR;
// 30 rounds x 10 samples at 15 s steps = 75 minutes per series: the 1h rule windows and robust-z's
// 288-sample window fill, so the figure is the steady state, not only the warm-up path.
const ROUNDS = Number(process.env.PANOPTES_BENCH_ROUNDS ?? 30);
const PER_RECORD = 10;
/** Fixed-size mode: rounds of records built up front (the most it can feed). */
const FIXED_BUILT = Number(process.env.PANOPTES_BENCH_DETECT_BUILT ?? 12); // samples per record: one remote-write request's worth per series

/**
 * A full garbage collection, whether or not node was started with --expose-gc (`npm run bench`
 * does not pass it): without it the heap figure is whatever garbage happened to be live.
 * Twice, so objects freed by the first pass's finalizers go too.
 */
function fullGc(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function benchRecord(s: number, round: number, samplesPer: number): MetricBatch {
  const fp = `s${s.toString(16).padStart(8, '0')}`;
  return {
    fingerprint: fp,
    labels: { __name__: 'bench_latency_seconds', instance: `host-${s % 500}`, service: `svc-${s % 40}`, series: String(s) },
    samples: Array.from({ length: samplesPer }, (_, k) => {
      const i = round * samplesPer + k;
      return { timestampMs: 1_764_288_000_000 + i * 15000, value: 50 + 10 * Math.sin(i / 7 + s) + ((s * 7919 + i * 104729) % 17) / 4, stale: false };
    }),
    source: 'bench',
    receivedAtMs: Date.now(),
    exemplarsDropped: 0,
    histogramsDropped: 0,
  };
}

/**
 * Fixed-size mode for instruction counts, without Kafka: PANOPTES_BENCH_DETECT_FIXED=ROUNDS feeds
 * SERIES × ROUNDS records (the benchmark's records, already decoded) through the consumer's
 * OnlineDetector with the same base detector, rules and metrics. Under callgrind at two values of
 * ROUNDS, the difference is the detection cost per sample of the consumer path:
 *   PANOPTES_BENCH_DETECT_FIXED=2 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
 *     node --predictable --hash-seed=1 --random-seed=1 --import tsx tests/bench/detect-e2e.bench.ts   (then =6)
 * With at most 12 rounds (120 samples per series) that is the warm-up path of every base detector
 * that waits longer (ensemble: 300 samples). PANOPTES_BENCH_DETECT_BUILT=60 builds 60 rounds up
 * front (default 12) and allows up to that many, so =30 and =60 (with PANOPTES_BENCH_SERIES=1000)
 * measure the steady state: full windows, base detector past its warm-up.
 */
function runFixed(rounds: number): void {
  const rules = new RuleSet();
  for (const r of benchRules()) rules.apply(r.spec.id, toRuleRecord(r));
  const online = new OnlineDetector(rules, { baseFactory: () => createBaseDetector(BASE, {}), metrics: new DetectMetrics(new Registry()) });
  // Records built up front for the largest size, so building them costs the same at every size.
  const recs: MetricBatch[] = [];
  for (let round = 0; round < FIXED_BUILT; round++) for (let s = 0; s < SERIES; s++) recs.push(benchRecord(s, round, PER_RECORD));
  let anomalies = 0;
  fullGc();
  const before = process.memoryUsage();
  for (let i = 0; i < rounds * SERIES; i++) anomalies += online.process(0, recs[i]!).length;
  console.log(`fixed: ${rounds * SERIES} records, ${rounds * SERIES * PER_RECORD} samples, ${SERIES} series, ${anomalies} anomalies`);
  // The series' state alone (the records were built before and stay alive; no Kafka records in
  // flight, unlike the end-to-end figure). Windows are full from 24 rounds (1h at 15 s steps).
  fullGc();
  const after = process.memoryUsage();
  const n = online.seriesCount();
  // recs is read after the measurement, so the GCs above cannot free the records.
  if (n > 0 && recs.length > 0) {
    const heap = (after.heapUsed - before.heapUsed) / n;
    const buffers = (after.arrayBuffers - before.arrayBuffers) / n;
    console.log(`fixed: memory ${(heap / 1024).toFixed(2)} KiB heap + ${(buffers / 1024).toFixed(2)} KiB array buffers = ${((heap + buffers) / 1024).toFixed(2)} KiB per series (after forced GCs)`);
  }
}

function benchRules() {
  return [
    defineRule('value > mean(1h) + 6 * std(1h) and value > quantile(0.99, 1h) for 2', { id: 'surge' }),
    defineRule('value > 1000000', { id: 'probe', severity: 'critical' }),
  ];
}

export async function run(): Promise<void> {
  const fixed = process.env.PANOPTES_BENCH_DETECT_FIXED;
  if (fixed) {
    if (!(Number(fixed) >= 0 && Number(fixed) <= FIXED_BUILT)) throw new Error(`PANOPTES_BENCH_DETECT_FIXED wants a number of rounds, 0 (build the records only) to ${FIXED_BUILT} (PANOPTES_BENCH_DETECT_BUILT)`);
    return runFixed(Number(fixed));
  }
  const prefix = uniquePrefix('bench-detect');
  const rt = await createRuntime({ ...kafkaConfig(prefix), producerMaxInFlight: 5 }, { stage: 'bench' });
  const metrics = topicName('metrics', prefix);
  const rules = benchRules();
  const p = await rt.transport.producer();
  const rulesTopic = topicName('rules', prefix);
  await p.send(rules.map((r) => ({ topic: rulesTopic, key: r.spec.id, value: rt.serde.encode(rulesTopic, toRuleRecord(r)) })));

  // 1. Produce SERIES × ROUNDS records of PER_RECORD samples (one sample per 15 s per series).
  const t0 = 1_764_288_000_000;
  let produced = 0;
  const prodStart = performance.now();
  for (let round = 0; round < ROUNDS; round++) {
    let batch: { topic: string; key: string; value: Buffer }[] = [];
    for (let s = 0; s < SERIES; s++) {
      const rec = benchRecord(s, round, PER_RECORD);
      const fp = rec.fingerprint;
      batch.push({ topic: metrics, key: fp, value: rt.serde.encode(metrics, rec) });
      if (batch.length === 1000) {
        await p.send(batch);
        produced += batch.length;
        batch = [];
      }
    }
    if (batch.length) await p.send(batch);
    produced += batch.length;
  }
  const prodS = (performance.now() - prodStart) / 1000;
  const samples = produced * PER_RECORD;
  console.log(`produced ${produced} records (${samples} samples, ${SERIES} series) in ${prodS.toFixed(1)} s`);

  // 2. Raw consume of the same records: the ceiling.
  const raw = await rt.transport.consumer({ groupId: `${prefix}raw`, fromBeginning: true, maxBatchSize: 5000 });
  await raw.subscribe([metrics]);
  let rawGot = 0;
  let rawDone!: () => void;
  const rawFinished = new Promise<void>((r) => (rawDone = r));
  const rawStart = performance.now();
  await raw.run({ eachBatch: async (b) => void ((rawGot += b.records.length) >= produced && rawDone()) });
  await rawFinished;
  const rawS = (performance.now() - rawStart) / 1000;
  await raw.stop();

  // 3. The detector over the same records.
  fullGc();
  const heapBefore = process.memoryUsage().heapUsed;
  const buffersBefore = process.memoryUsage().arrayBuffers;
  let detGot = 0;
  let anomalies = 0;
  let transactions = 0;
  let detDone!: () => void;
  const detFinished = new Promise<void>((r) => (detDone = r));
  const detStart = performance.now();
  const detCpu0 = process.cpuUsage();
  const det = await startDetector(rt, {
    groupId: `${prefix}det`,
    instanceId: 'bench',
    base: BASE,
    maxBatchSize: 1000,
    onCommitted: ({ records, anomalies: a }) => {
      transactions++;
      anomalies += a.length;
      if ((detGot += records) >= produced) detDone();
    },
  });
  await detFinished;
  const detS = (performance.now() - detStart) / 1000;
  const detCpuU = process.cpuUsage(detCpu0);
  const detCpuS = (detCpuU.user + detCpuU.system) / 1e6;
  fullGc();
  const seriesHeld = det.seriesCount();
  const perSeries = (process.memoryUsage().heapUsed - heapBefore) / seriesHeld;
  // Typed arrays above 64 bytes keep their elements outside the JS heap (ArrayBuffer backing stores).
  const buffersPerSeries = (process.memoryUsage().arrayBuffers - buffersBefore) / seriesHeld;

  // 4. Latency: probes whose sample trips the `probe` rule, timed until the anomaly is readable.
  const anomaliesTopic = topicName('anomalies', prefix);
  const sentAt = new Map<number, number>();
  const lat: number[] = [];
  const reader = await rt.transport.consumer({ groupId: `${prefix}lat`, fromBeginning: false, readCommitted: true });
  await reader.subscribe([anomaliesTopic]);
  await reader.run({
    eachBatch: async (b) => {
      for (const r of b.records) {
        const a = (await rt.serde.decode<Anomaly>(anomaliesTopic, r.value)).value;
        const sent = sentAt.get(a.timestampMs);
        if (a.ruleId === 'probe' && sent !== undefined) lat.push(performance.now() - sent);
      }
    },
  });
  await new Promise((r) => setTimeout(r, 3000)); // let the reader join before probing
  const PROBES = 200;
  for (let i = 0; i < PROBES; i++) {
    const t = t0 + (ROUNDS * PER_RECORD + i) * 15000;
    const s = i % SERIES;
    const fp = `s${s.toString(16).padStart(8, '0')}`;
    const rec: MetricBatch = { fingerprint: fp, labels: { __name__: 'bench_latency_seconds', series: String(s) }, samples: [{ timestampMs: t, value: 5e6, stale: false }], source: 'bench', receivedAtMs: Date.now(), exemplarsDropped: 0, histogramsDropped: 0 };
    sentAt.set(t, performance.now());
    await p.send([{ topic: metrics, key: fp, value: rt.serde.encode(metrics, rec) }]);
    await new Promise((r) => setTimeout(r, 20));
  }
  const deadline = Date.now() + 30000;
  while (lat.length < PROBES && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await reader.stop();
  await det.stop();
  await p.close();
  await rt.close();
  lat.sort((a, b) => a - b);

  const rawRate = samples / rawS;
  const detRate = samples / detS;
  console.log(`raw consume      ${(produced / rawS).toFixed(0)} records/s = ${rawRate.toFixed(0)} samples/s`);
  console.log(`detector e2e     ${(produced / detS).toFixed(0)} records/s = ${detRate.toFixed(0)} samples/s (${(detRate / rawRate).toFixed(2)} of raw consume), ${anomalies} anomalies`);
  console.log(`detector CPU     ${detCpuS.toFixed(2)} s of this process over ${detS.toFixed(2)} s wall = ${((detCpuS / samples) * 1e6).toFixed(2)} µs per sample (whole process: detector, Kafka client, serde, GC)`);
  console.log(`transactions     ${transactions} (one per input batch, ${(produced / transactions).toFixed(0)} records each on average, ${((detS / transactions) * 1000).toFixed(1)} ms wall each)`);
  console.log(`memory           ${(perSeries / 1024).toFixed(1)} KiB heap per series + ${(buffersPerSeries / 1024).toFixed(1)} KiB of array buffers outside the heap (${seriesHeld} series, 1h rule windows + the ${BASE} base detector's state; after forced GCs)`);
  console.log(`latency          produce → anomaly readable (read_committed): p50 ${pct(lat, 50).toFixed(1)} ms, p99 ${pct(lat, 99).toFixed(1)} ms over ${lat.length}/${PROBES} probes`);
  console.log('JSON:' + JSON.stringify({ bench: 'detect-e2e', base: BASE, series: SERIES, records: produced, samples, rawSamplesPerS: rawRate, detectSamplesPerS: detRate, detectCpuS: detCpuS, transactions, ratio: detRate / rawRate, bytesPerSeries: perSeries, bufferBytesPerSeries: buffersPerSeries, latencyMs: { p50: pct(lat, 50), p99: pct(lat, 99), n: lat.length } }));
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
