/**
 * The default base detector against its peers, one command (`npm run bench -- base-detector`):
 * 1. NAB through `detect --csv` (the command users run, in-process, binary alerts, the detector's
 *    own fixed threshold): every NAB file, alert timestamps mapped back to rows, scored with NAB's
 *    three profiles. The alerts are also written to reports/detect-csv-nab-alerts.json for an
 *    outside scorer.
 * 2. Seasonal spikes (issue 14's generator), seeds 1–20: spikes found and false alarms.
 * 3. In-process cost: ns per sample, wall and CPU time (detectors alternated, 7 rounds, median) and heap bytes per
 *    series with full windows (10,000 series, after GC).
 * Prints figures; nothing passes or fails on speed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { CliIo } from '../../pipelines/core/cli-types.ts';
import { createBaseDetector } from '../../pipelines/detect/base/index.ts';
import type { BaseDetector } from '../../pipelines/detect/base/types.ts';
import { commands } from '../../pipelines/detect/cli.ts';
import { defaultNabPaths, loadCorpus } from '../../pipelines/train/data/corpus.ts';
import { seasonalSpikes } from '../../pipelines/train/data/synthetic.ts';
import { NAB_PROFILES, NAB_PROFILE_NAMES, nabLayout, nabNormalize, nabNullRaw, nabPerfectRaw, nabScoreDetections } from '../../pipelines/train/metrics/nab.ts';

const NAMES = ['ensemble', 'ewma', 'robust-z'] as const;

async function nabThroughDetectCsv(): Promise<Record<string, unknown>> {
  const paths = defaultNabPaths();
  const corpus = await loadCorpus(paths.data, paths.labels);
  const detect = commands.find((c) => c.name === 'detect')!;
  const figures: Record<string, unknown> = {};
  const alertsOut: Record<string, Record<string, string[]>> = {};
  for (const base of NAMES) {
    const t0 = performance.now();
    const layouts = corpus.map((s) => nabLayout(s.values.length, s.windows));
    const raw = NAB_PROFILE_NAMES.map(() => 0);
    let alerts = 0;
    const perFile: Record<string, string[]> = {};
    for (const [i, s] of corpus.entries()) {
      const lines: string[] = [];
      const io: CliIo = { out: (l) => lines.push(l), err: () => {}, json: true, signal: new AbortController().signal };
      await detect.run({ options: { csv: `${paths.data}/${s.name}`, base }, positionals: [] }, io);
      // An alert names its timestamp; detect drops repeated timestamps (first wins), so it is the first row with it.
      const firstRow = new Map<number, number>();
      s.timestamps.forEach((t, r) => firstRow.has(t) || firstRow.set(t, r));
      const det = new Uint8Array(s.values.length);
      perFile[s.name] = [];
      for (const l of lines) {
        const rec = JSON.parse(l) as { t: number; timestamp: string };
        const r = firstRow.get(rec.t);
        if (r === undefined) throw new Error(`alert at ${rec.timestamp} is no row of ${s.name}`);
        det[r] = 1;
        perFile[s.name]!.push(rec.timestamp);
        alerts++;
      }
      NAB_PROFILE_NAMES.forEach((p, k) => (raw[k]! += nabScoreDetections(layouts[i]!, det, NAB_PROFILES[p]).score));
    }
    const scores = NAB_PROFILE_NAMES.map((p, k) => nabNormalize(raw[k]!, nabNullRaw(layouts, NAB_PROFILES[p]), nabPerfectRaw(layouts, NAB_PROFILES[p]))!);
    console.log(
      `nab via detect --csv --base ${base}: standard ${scores[0]!.toFixed(1)}, reward_low_FP ${scores[1]!.toFixed(1)}, reward_low_FN ${scores[2]!.toFixed(1)}; ` +
        `${alerts} alerts over ${corpus.length} files in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    figures[`nab_detect_csv_${base}`] = { standard: scores[0], reward_low_FP: scores[1], reward_low_FN: scores[2], alerts };
    alertsOut[base] = perFile;
  }
  mkdirSync('reports', { recursive: true });
  writeFileSync('reports/detect-csv-nab-alerts.json', JSON.stringify(alertsOut));
  console.log('alerts written to reports/detect-csv-nab-alerts.json');
  return figures;
}

function seasonal(): Record<string, unknown> {
  const figures: Record<string, unknown> = {};
  for (const base of NAMES) {
    let perfect = 0;
    let found = 0;
    let falseAlarms = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const s = seasonalSpikes(seed);
      const d = createBaseDetector(base);
      const hit = new Set<number>();
      let fa = 0;
      for (let i = 0; i < s.values.length; i++) {
        if (!d.update(s.timestamps[i]!, s.values[i]!).isAnomaly) continue;
        const w = s.windows.findIndex((x) => i >= x.start && i <= x.end);
        if (w >= 0) hit.add(w);
        else fa++;
      }
      found += hit.size;
      falseAlarms += fa;
      if (hit.size === 5 && fa <= 1) perfect++;
    }
    console.log(`seasonal spikes, seeds 1-20, ${base}: ${found}/100 spikes found, ${falseAlarms} false alarms; 5/5 with <= 1 false alarm on ${perfect}/20 seeds`);
    figures[`spikes_${base}`] = { found, falseAlarms, perfectSeeds: perfect };
  }
  return figures;
}

function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function cost(): Record<string, unknown> {
  const s = seasonalSpikes(1, 14);
  const n = s.values.length;
  const series = 250;
  const ns: Record<string, number[]> = Object.fromEntries(NAMES.map((x) => [x, []]));
  // CPU time of this process as well as wall time: on a shared machine the wall clock also counts
  // the time other processes held the core.
  const cpu: Record<string, number[]> = Object.fromEntries(NAMES.map((x) => [x, []]));
  let sink = 0;
  for (let round = 0; round < 7; round++) {
    for (const base of NAMES) {
      const t0 = process.hrtime.bigint();
      const c0 = process.cpuUsage();
      for (let k = 0; k < series; k++) {
        const d = createBaseDetector(base);
        const off = k * 1e9;
        for (let i = 0; i < n; i++) sink += d.update(s.timestamps[i]! + off, s.values[i]!).score;
      }
      const c = process.cpuUsage(c0);
      ns[base]!.push(Number(process.hrtime.bigint() - t0) / (series * n));
      cpu[base]!.push(((c.user + c.system) * 1000) / (series * n));
    }
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
  const figures: Record<string, unknown> = {};
  for (const base of NAMES) {
    const m = med(ns[base]!);
    const mc = med(cpu[base]!);
    console.log(
      `in-process ${base}: ${m.toFixed(0)} ns/sample wall, ${mc.toFixed(0)} ns/sample CPU (medians of 7 alternated rounds of ${series * n} samples; ` +
        `${(m / med(ns['ewma']!)).toFixed(2)}× ewma wall, ${(mc / med(cpu['ewma']!)).toFixed(2)}× ewma CPU)`,
    );
    figures[`ns_${base}`] = Math.round(m);
    figures[`cpu_ns_${base}`] = Math.round(mc);
  }
  for (const base of NAMES) {
    const count = 10_000;
    gc();
    gc();
    const m0 = process.memoryUsage();
    const before = m0.heapUsed + m0.arrayBuffers;
    const keep: BaseDetector[] = [];
    for (let k = 0; k < count; k++) {
      const d = createBaseDetector(base);
      for (let i = 0; i < 400; i++) d.update(s.timestamps[i]!, s.values[i]!);
      keep.push(d);
    }
    gc();
    const m1 = process.memoryUsage();
    const per = (m1.heapUsed + m1.arrayBuffers - before) / count;
    console.log(`heap per series, ${base} (full windows, ${count} series): ${per.toFixed(0)} B`);
    figures[`heap_${base}`] = Math.round(per);
    sink += keep.length;
  }
  if (sink === 42) console.log('');
  return figures;
}

export async function run(): Promise<void> {
  const figures = { ...(await nabThroughDetectCsv()), ...seasonal(), ...cost() };
  console.log(`JSON: ${JSON.stringify({ bench: 'base-detector', shared: 'machine shared with other engineers: speed figures are noisy, compare ratios', ...figures })}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
