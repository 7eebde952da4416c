/**
 * The online detector's rebuild on partition assignment, through real Kafka, for a partition with
 * a long history: `--rebuild all` (replay from the partition's start, as before) against `auto`
 * (seek by timestamp to the longest window the rules and the base detector need), alternated in one
 * run. Prints, per run, the time from start to ready, the records replayed and the lookback used,
 * and the ratio of the medians.
 *
 * History: SERIES series on one partition, one sample a minute for DAYS days ending now, one record
 * per series per hour (60 samples), each record stamped with its last sample's time, as a
 * remote-write receiver stamps live data. A group first processes all of it (that run's throughput
 * is printed too); each measured detector then joins that group and rebuilds up to its offset.
 * With kafkajs a partition is handed to the stage at its first batch, so each run produces one new
 * sample right after starting; start → ready covers joining the group, that fetch and the rebuild.
 */
import { createRuntime, type Runtime } from '../../pipelines/core/runtime.ts';
import { topicName } from '../../pipelines/core/topics.ts';
import type { MetricBatch } from '../../pipelines/core/records.ts';
import { DEFAULT_BASE_DETECTOR, defineRule, startDetector, toRuleRecord } from '../../pipelines/detect/index.ts';
import { kafkaConfig, uniquePrefix } from '../helpers/infra.ts';

const SERIES = Number(process.env.PANOPTES_BENCH_REBUILD_SERIES ?? 200);
const DAYS = Number(process.env.PANOPTES_BENCH_REBUILD_DAYS ?? 6);
const ROUNDS = Number(process.env.PANOPTES_BENCH_REBUILD_ROUNDS ?? 3);
const BASES = [DEFAULT_BASE_DETECTOR, 'robust-z'];
const STEP = 60_000;
const PER_RECORD = 60;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function run(): Promise<void> {
  const prefix = uniquePrefix('bench-rebuild');
  const setup: Runtime = await createRuntime(kafkaConfig(prefix), { stage: 'bench' });
  const metrics = topicName('metrics', prefix);
  const rules = topicName('rules', prefix);
  const rule = defineRule('value > mean(1h) + 4 * std(1h) for 2', { id: 'band' });
  const records = Math.floor((DAYS * 86_400_000) / (PER_RECORD * STEP));
  const end = Math.floor(Date.now() / STEP) * STEP;
  const start = end - records * PER_RECORD * STEP;
  console.log(`history: ${SERIES} series × ${records} records × ${PER_RECORD} samples (${DAYS} days at 1-minute steps) = ${SERIES * records} records, ${SERIES * records * PER_RECORD} samples on partition 0; rule '${rule.canonical}'; base detectors ${BASES.join(', ')} (${DEFAULT_BASE_DETECTOR} is the default)`);
  try {
    const p = await setup.transport.producer();
    await p.send([{ topic: rules, key: 'band', value: setup.serde.encode(rules, toRuleRecord(rule)) }]);
    let pending: { topic: string; key: string; value: Buffer; partition: number; timestamp: number }[] = [];
    for (let r = 0; r < records; r++) {
      for (let s = 0; s < SERIES; s++) {
        const fp = `s${s.toString(16).padStart(6, '0')}`;
        const samples = Array.from({ length: PER_RECORD }, (_, k) => {
          const i = r * PER_RECORD + k;
          return { timestampMs: start + (i + 1) * STEP, value: 50 + 20 * Math.sin((2 * Math.PI * i) / 1440 + s) + ((s * 7919 + i * 104729) % 17) / 4, stale: false };
        });
        const b: MetricBatch = { fingerprint: fp, labels: { __name__: 'bench_rebuild', series: String(s) }, samples, source: 'bench', receivedAtMs: 0, exemplarsDropped: 0, histogramsDropped: 0 };
        pending.push({ topic: metrics, key: fp, value: setup.serde.encode(metrics, b), partition: 0, timestamp: samples[PER_RECORD - 1]!.timestampMs });
        if (pending.length >= 1000) {
          await p.send(pending);
          pending = [];
        }
      }
    }
    if (pending.length > 0) await p.send(pending);
    await p.close();
    const total = SERIES * records;

    const committed = async (rt: Runtime) => Number((await rt.transport.committed(`${prefix}bench-rebuild`, metrics)).get(0) ?? 0);
    // A first detector processes the whole history and commits it.
    const t0 = performance.now();
    const first = await startDetector(setup, { groupId: 'bench-rebuild', instanceId: 'first', maxBatchSize: 2000 });
    await waitUntil(async () => (await committed(setup)) >= total, 'the history processed', 30 * 60_000);
    const secs = (performance.now() - t0) / 1000;
    await first.stop();
    console.log(`processing the history once: ${secs.toFixed(1)} s, ${Math.round((total * PER_RECORD) / secs)} samples/s (in-process detector, kafkajs; not a headline throughput figure)`);

    let live = records * PER_RECORD;
    const trigger = async (rt: Runtime, i: number) => {
      const tp = await rt.transport.producer();
      const b: MetricBatch = { fingerprint: 's000000', labels: { __name__: 'bench_rebuild', series: '0' }, samples: [{ timestampMs: start + (i + 1) * STEP, value: 50, stale: false }], source: 'bench', receivedAtMs: 0, exemplarsDropped: 0, histogramsDropped: 0 };
      await tp.send([{ topic: metrics, key: b.fingerprint, value: rt.serde.encode(metrics, b), partition: 0, timestamp: Date.now() }]);
      await tp.close();
    };
    const times = new Map<string, number[]>();
    const rebuildTimes = new Map<string, number[]>();
    console.log('| run | base | rebuild | start → ready (s) | rebuild itself (s) | records replayed | lookback | passes |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (let round = 0; round < ROUNDS; round++) {
      for (const base of BASES) {
        for (const mode of ['all', 'auto'] as const) {
          const rt = await createRuntime(kafkaConfig(prefix), { stage: 'bench' });
          try {
            const t = performance.now();
            const det = await startDetector(rt, { groupId: 'bench-rebuild', instanceId: `${base}-${mode}-${round}`, base, maxBatchSize: 2000, ...(mode === 'all' ? { rebuildLookbackMs: Infinity } : {}) });
            // kafkajs hands a partition over (and the stage rebuilds it) at its first batch: one new sample.
            await trigger(rt, ++live);
            await waitUntil(() => det.ready(), 'ready', 30 * 60_000);
            const s = (performance.now() - t) / 1000;
            // The stage times the rebuild alone (without joining the group): panoptes_stage_rebuild_seconds.
            const h = await rt.metrics.getSingleMetric('panoptes_stage_rebuild_seconds')!.get();
            const r = h.values.filter((v) => (v as { metricName?: string }).metricName === 'panoptes_stage_rebuild_seconds_sum').reduce((a, v) => a + v.value, 0);
            const key = `${base} ${mode}`;
            times.set(key, [...(times.get(key) ?? []), s]);
            rebuildTimes.set(key, [...(rebuildTimes.get(key) ?? []), r]);
            const info = det.lastRebuild().get(0);
            await det.stop();
            const lb = info === undefined ? '-' : info.lookbackMs === Infinity ? 'whole partition' : `${(info.lookbackMs / 3_600_000).toFixed(1)} h`;
            console.log(`| ${round + 1} | ${base} | ${mode} | ${s.toFixed(2)} | ${r.toFixed(2)} | ${info?.records ?? 0} of ${total} | ${lb} | ${info?.passes ?? 0} |`);
          } finally {
            await rt.close();
          }
        }
      }
    }
    for (const base of BASES) {
      const all = median(times.get(`${base} all`)!);
      const auto = median(times.get(`${base} auto`)!);
      const rAll = median(rebuildTimes.get(`${base} all`)!);
      const rAuto = median(rebuildTimes.get(`${base} auto`)!);
      console.log(`${base}: median rebuild all ${rAll.toFixed(2)} s, auto ${rAuto.toFixed(2)} s, all/auto = ${(rAll / rAuto).toFixed(1)}×; median start → ready all ${all.toFixed(2)} s, auto ${auto.toFixed(2)} s, all/auto = ${(all / auto).toFixed(1)}× (runs alternated in one process; shared machine)`);
    }
  } finally {
    await setup.close();
  }
}
