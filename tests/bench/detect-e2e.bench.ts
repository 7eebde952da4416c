/**
 * The detector end to end through real Kafka: samples/s from `metrics` to committed `anomalies`
 * with 10,000 series, next to the raw consume throughput of the same records in the same run;
 * memory per series; and latency from producing a sample to its anomaly being readable
 * (read_committed), p50/p99.
 */
import { createRuntime } from '../../pipelines/core/runtime.ts';
import { topicName } from '../../pipelines/core/topics.ts';
import type { Anomaly, MetricBatch } from '../../pipelines/core/records.ts';
import { startDetector } from '../../pipelines/detect/consumer.ts';
import { toRuleRecord } from '../../pipelines/detect/rule-records.ts';
import { defineRule } from '../../pipelines/detect/rule.ts';
import { kafkaConfig, uniquePrefix } from '../helpers/infra.ts';

const SERIES = Number(process.env.PANOPTES_BENCH_SERIES ?? 10_000);
const ROUNDS = Number(process.env.PANOPTES_BENCH_ROUNDS ?? 10);
const PER_RECORD = 10; // samples per record: one remote-write request's worth per series

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export async function run(): Promise<void> {
  const prefix = uniquePrefix('bench-detect');
  const rt = await createRuntime({ ...kafkaConfig(prefix), producerMaxInFlight: 5 }, { stage: 'bench' });
  const metrics = topicName('metrics', prefix);
  const rules = [
    defineRule('value > mean(1h) + 6 * std(1h) and value > quantile(0.99, 1h) for 2', { id: 'surge' }),
    defineRule('value > 1000000', { id: 'probe', severity: 'critical' }),
  ];
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
      const fp = `s${s.toString(16).padStart(8, '0')}`;
      const rec: MetricBatch = {
        fingerprint: fp,
        labels: { __name__: 'bench_latency_seconds', instance: `host-${s % 500}`, service: `svc-${s % 40}`, series: String(s) },
        samples: Array.from({ length: PER_RECORD }, (_, k) => {
          const i = round * PER_RECORD + k;
          return { timestampMs: t0 + i * 15000, value: 50 + 10 * Math.sin(i / 7 + s) + ((s * 7919 + i * 104729) % 17) / 4, stale: false };
        }),
        source: 'bench',
        receivedAtMs: Date.now(),
        exemplarsDropped: 0,
        histogramsDropped: 0,
      };
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
  if (global.gc) global.gc();
  const heapBefore = process.memoryUsage().heapUsed;
  let detGot = 0;
  let anomalies = 0;
  let detDone!: () => void;
  const detFinished = new Promise<void>((r) => (detDone = r));
  const detStart = performance.now();
  const det = await startDetector(rt, {
    groupId: `${prefix}det`,
    instanceId: 'bench',
    base: 'robust-z',
    maxBatchSize: 1000,
    onCommitted: ({ records, anomalies: a }) => {
      anomalies += a.length;
      if ((detGot += records) >= produced) detDone();
    },
  });
  await detFinished;
  const detS = (performance.now() - detStart) / 1000;
  if (global.gc) global.gc();
  const seriesHeld = det.seriesCount();
  const perSeries = (process.memoryUsage().heapUsed - heapBefore) / seriesHeld;

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
  console.log(`memory           ${(perSeries / 1024).toFixed(1)} KiB heap per series (${seriesHeld} series, 1h rule windows + robust-z 288-sample window)`);
  console.log(`latency          produce → anomaly readable (read_committed): p50 ${pct(lat, 50).toFixed(1)} ms, p99 ${pct(lat, 99).toFixed(1)} ms over ${lat.length}/${PROBES} probes`);
  console.log('JSON:' + JSON.stringify({ bench: 'detect-e2e', series: SERIES, records: produced, samples, rawSamplesPerS: rawRate, detectSamplesPerS: detRate, ratio: detRate / rawRate, bytesPerSeries: perSeries, latencyMs: { p50: pct(lat, 50), p99: pct(lat, 99), n: lat.length } }));
}
